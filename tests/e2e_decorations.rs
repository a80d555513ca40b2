//! Region borders and the canvas background picture by content: two ffmpeg publishers
//! side by side (red, blue) through the real CLI (`create --region-border-color
//! --region-border-px --background-image`) and daemon. The background PNG is made here:
//! left half green, right half yellow, 64x36 pixels, so in the 1280x720 composite the
//! bands above and below the tiles show green on the left and yellow on the right
//! (stretched, not tiled, not the background colour), while each tile shows its source
//! inside an 8-pixel white border.

mod common;

use common::daemon::Daemon;
use common::media::{self, check_colours, ColourAt, Rgb, BLUE, RED};
use common::rpc;
use common::sender::{Codec, SenderSpec};

const GREEN: Rgb = [0, 255, 0];
const YELLOW: Rgb = [255, 255, 0];
const WHITE: Rgb = [255, 255, 255];

/// Writes the two-colour background picture (PNG, 64x36) to `path`.
fn write_background(path: &std::path::Path) {
    let img = image::RgbImage::from_fn(64, 36, |x, _| {
        if x < 32 {
            image::Rgb(GREEN)
        } else {
            image::Rgb(YELLOW)
        }
    });
    img.save(path).expect("write the background PNG");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn borders_and_a_background_picture_are_drawn() {
    let d = Daemon::start();
    let server = d.endpoint();
    let mut c = d.client().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let bg = dir.path().join("background.png");
    write_background(&bg);
    let id = "decorations";
    let o = tokio::task::block_in_place(|| {
        common::cloudmixer_cli(&[
            "create",
            "--server",
            &server,
            "--id",
            id,
            "--source",
            "Usr1.-1:video=vp8/96,audio=opus/111",
            "--source",
            "Usr2.-1:video=h264/102,audio=opus/111",
            "--layout",
            "side-by-side",
            "--region-border-color",
            "#FFFFFF",
            "--region-border-px",
            "8",
            "--background-image",
            bg.to_str().expect("utf-8 path"),
            "--out",
            "e2e/decorations.mp4",
        ])
    });
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let info = rpc::info(&mut c, id).await;
    let cfg = info.video_file_cfg.clone().expect("video_file_cfg");
    assert_eq!(
        (cfg.region_border_color.as_str(), cfg.region_border_px),
        ("#FFFFFF", 8)
    );
    let port = |i: usize| info.sources[i].ports.clone().expect("ports");
    let _a = SenderSpec::solid_to("red", Codec::Vp8, 440, &port(0)).start();
    let _b = SenderSpec::solid_to("blue", Codec::H264, 1000, &port(1)).start();
    let written = rpc::wait_pictures_and_written(&mut c, id, 3_000).await;
    let t = (written as f64 / 1000.0) - 0.5;
    let fin = rpc::destroy(&mut c, id).await;
    let file = d.recordings().join(fin.output.expect("output").path);
    let frame = media::frame_at(&file, t, 1280, 720);

    // Tiles: 640x360 at y 180..540, x 0..640 and 640..1280.
    let at = |what, x, y, rgb| ColourAt { what, x, y, rgb };
    let points = [
        at("left tile centre", 320, 360, RED),
        at("right tile centre", 960, 360, BLUE),
        at("left tile, 16 px inside its border", 20, 360, RED),
        at("background, top left", 160, 90, GREEN),
        at("background, top right", 1120, 90, YELLOW),
        at("background, bottom left", 480, 630, GREEN),
        at("background, bottom right", 800, 630, YELLOW),
        at("left tile's left border", 4, 360, WHITE),
        at("left tile's right border", 636, 360, WHITE),
        at("right tile's left border", 644, 360, WHITE),
        at("left tile's top border", 320, 184, WHITE),
        at("right tile's bottom border", 960, 536, WHITE),
    ];
    check_colours(&frame, &points).expect("border, tiles and background by colour");
}

/// What the daemon refuses, each naming its field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_borders_and_pictures_are_refused_naming_the_field() {
    let d = Daemon::start();
    let server = d.endpoint();
    let dir = tempfile::tempdir().expect("tempdir");
    let not_png = dir.path().join("not.png");
    std::fs::write(&not_png, b"hello").expect("write");
    let cases: [(&[&str], &str); 4] = [
        (
            &[
                "--region-border-color",
                "#FFFFFF",
                "--region-border-px",
                "3",
            ],
            "video_file_cfg.region_border_px",
        ),
        (
            &["--region-border-px", "4"],
            "video_file_cfg.region_border_px: needs region_border_color",
        ),
        (
            &["--region-border-color", "white"],
            "video_file_cfg.region_border_color",
        ),
        (
            &["--background-image", not_png.to_str().expect("utf-8")],
            "video_file_cfg.background_image: not a PNG or JPEG image",
        ),
    ];
    for (flags, want) in cases {
        let mut args = vec!["create", "--server", &server, "--source", "Usr1.-1"];
        args.extend_from_slice(flags);
        let o = tokio::task::block_in_place(|| common::cloudmixer_cli(&args));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{flags:?} was accepted");
        assert!(
            err.contains("INVALID_ARGUMENT") && err.contains(want),
            "{flags:?}: {err}"
        );
    }
}
