//! Name labels by content: two ffmpeg publishers side by side, named "Alice" (Latin) and
//! "张伟" (Chinese) through `cloudmixer create --source CAMID:name=...` (the real CLI and
//! daemon, the daemon's default font from fonts-wqy-microhei). In the decoded composite
//! each tile's bottom-left label area holds white text pixels on a dark box, which a
//! solid red or blue tile never has, while the rest of the tile keeps its colour.
//! With CLOUDMIXER_LABEL_PNG=FILE the test also writes the sampled frame there as a PNG
//! (how docs/labels.png was made).

mod common;

use std::process::Command;
use std::time::Duration;

use common::daemon::Daemon;
use common::media::{self, check_colours, Frame};
use common::rpc;
use common::run_bounded;
use common::sender::{Codec, SenderSpec};
use common::spec::SIDE_BY_SIDE_POINTS;

const LIMIT: Duration = Duration::from_secs(30);

/// (white text pixels, dark box pixels) in the rectangle x0..x1, y0..y1.
fn ink(f: &Frame, (x0, x1): (u32, u32), (y0, y1): (u32, u32)) -> (usize, usize) {
    let (mut white, mut dark) = (0, 0);
    for y in y0..y1 {
        for x in x0..x1 {
            let i = ((y * f.width + x) * 3) as usize;
            let p = &f.rgb[i..i + 3];
            if p.iter().all(|&v| v > 170) {
                white += 1;
            }
            if p.iter().all(|&v| v < 110) {
                dark += 1;
            }
        }
    }
    (white, dark)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn latin_and_chinese_names_are_drawn_on_their_tiles() {
    let d = Daemon::start();
    let server = d.endpoint();
    let mut c = d.client().await;
    let id = "labels";
    let o = tokio::task::block_in_place(|| {
        common::cloudmixer_cli(&[
            "create",
            "--server",
            &server,
            "--id",
            id,
            "--source",
            "Usr1.-1:video=vp8/96,audio=opus/111,name=Alice",
            "--source",
            "Usr2.-1:video=h264/102,audio=opus/111,name=张伟",
            "--layout",
            "side-by-side",
            "--out",
            "e2e/labels.mp4",
        ])
    });
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let info = rpc::info(&mut c, id).await;
    let port = |i: usize| info.sources[i].ports.clone().expect("ports");
    let _a = SenderSpec::solid_to("red", Codec::Vp8, 440, &port(0)).start();
    let _b = SenderSpec::solid_to("blue", Codec::H264, 1000, &port(1)).start();
    let written = rpc::wait_pictures_and_written(&mut c, id, 3_000).await;
    let t = (written as f64 / 1000.0) - 0.5;
    let fin = rpc::destroy(&mut c, id).await;
    let file = d.recordings().join(fin.output.expect("output").path);
    let frame = media::frame_at(&file, t, 1280, 720);
    check_colours(&frame, SIDE_BY_SIDE_POINTS).expect("tiles keep their colours");

    // Tiles: 640x360 at y 180..540; labels: 25 px text in a box at the bottom-left.
    let rows = (540 - 36, 540);
    for (name, x0) in [("Alice", 0), ("张伟", 640)] {
        let (white, dark) = ink(&frame, (x0, x0 + 100), rows);
        assert!(
            white >= 60 && dark >= 600,
            "{name}: {white} text and {dark} box pixels in its label area"
        );
        let (white, dark) = ink(&frame, (x0 + 300, x0 + 400), rows);
        assert_eq!(
            (white, dark),
            (0, 0),
            "{name}: right of the label, the tile"
        );
    }

    if let Ok(png) = std::env::var("CLOUDMIXER_LABEL_PNG") {
        run_bounded(
            Command::new("ffmpeg")
                .args(["-hide_banner", "-loglevel", "error", "-y"])
                .args(["-ss", &format!("{t:.3}"), "-i"])
                .arg(&file)
                .args(["-frames:v", "1", &png]),
            LIMIT,
        );
    }
}
