//! A grid that follows the call, by content: a mixer created with the `grid` preset and
//! four ffmpeg publishers shows them in 2x2 tiles; when one is removed the grid is three
//! tiles of the same 2x2 set (the fourth is the background), and when two join it becomes
//! the 3x3 set with five filled tiles, without the caller sending a layout. Sample times
//! come from the mixer's own clock: the output's written duration (GetCloudMixer) at
//! each Update, a point the change cannot precede in the file.

mod common;

use cloudmixer::proto::{LayoutPreset, UpdateCloudMixerContentRequest, VideoCodec, VideoFileCfg};
use common::daemon::Daemon;
use common::media::{self, check_colours, ColourAt, Rgb, BLACK, BLUE, RED};
use common::rpc;
use common::sender::{Codec, Sender, SenderSpec};
use common::spec;

const GREEN: Rgb = [0, 255, 0];
const YELLOW: Rgb = [255, 255, 0];
const MAGENTA: Rgb = [255, 0, 255];
const CYAN: Rgb = [0, 255, 255];

/// (camid, ffmpeg colour, expected RGB); E and F join later.
const PEOPLE: [(&str, &str, Rgb); 6] = [
    ("A", "0xFF0000", RED),
    ("B", "0x0000FF", BLUE),
    ("C", "0x00FF00", GREEN),
    ("D", "0xFFFF00", YELLOW),
    ("E", "0xFF00FF", MAGENTA),
    ("F", "0x00FFFF", CYAN),
];

/// A video-only VP8 publisher of person `k`'s colour.
fn publish(k: usize, ports: &cloudmixer::proto::SourcePorts) -> Sender {
    let (_, colour, _) = PEOPLE[k];
    SenderSpec {
        audio_port: None,
        ..SenderSpec::solid_to(colour, Codec::Vp8, 500 + k as u32, ports)
    }
    .start()
}

/// The tile centres of `tiles` ((left, top, width, height)) with the colours of
/// `who` (indexes into PEOPLE, in fill order); tiles past them show the background.
fn points(tiles: &[(u32, u32, u32, u32)], who: &[usize]) -> Vec<ColourAt> {
    tiles
        .iter()
        .enumerate()
        .map(|(n, &(l, t, w, h))| ColourAt {
            what: who.get(n).map_or("empty tile", |&k| PEOPLE[k].0),
            x: l + w / 2,
            y: t + h / 2,
            rgb: who.get(n).map_or(BLACK, |&k| PEOPLE[k].2),
        })
        .collect()
}

const GRID_2X2: [(u32, u32, u32, u32); 4] = [
    (0, 0, 640, 360),
    (640, 0, 640, 360),
    (0, 360, 640, 360),
    (640, 360, 640, 360),
];
const GRID_3X3: [(u32, u32, u32, u32); 9] = [
    (0, 0, 426, 240),
    (426, 0, 428, 240),
    (854, 0, 426, 240),
    (0, 240, 426, 240),
    (426, 240, 428, 240),
    (854, 240, 426, 240),
    (0, 480, 426, 240),
    (426, 480, 428, 240),
    (854, 480, 426, 240),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grid_of_four_becomes_three_then_five() {
    let d = Daemon::start();
    let mut c = d.client().await;
    let id = "reflow";
    let sources = (0..4)
        .map(|k| spec::source(PEOPLE[k].0, Some((VideoCodec::Vp8, 96)), false))
        .collect();
    let mut req = spec::create_request(id, sources, Vec::new(), "e2e/reflow.mp4");
    let cfg: &mut VideoFileCfg = req.video_file_cfg.as_mut().expect("cfg");
    cfg.layout_preset = Some(LayoutPreset {
        name: "grid".into(),
        ..Default::default()
    });
    let created = rpc::create(&mut c, req).await;
    let mut senders: Vec<Sender> = created
        .source_ports
        .iter()
        .enumerate()
        .map(|(k, p)| publish(k, p))
        .collect();

    let four_ms = rpc::wait_pictures_and_written(&mut c, id, 2_500).await;
    // D leaves: removed without a layout.
    c.update_cloud_mixer_content(UpdateCloudMixerContentRequest {
        mixer_id: id.into(),
        oper_user_id: "e2e".into(),
        remove_camids: vec!["D".into()],
        ..Default::default()
    })
    .await
    .expect("remove D");
    senders.truncate(3);
    let three_ms = rpc::wait_pictures_and_written(&mut c, id, four_ms + 3_000).await;
    // E and F join.
    let added = c
        .update_cloud_mixer_content(UpdateCloudMixerContentRequest {
            mixer_id: id.into(),
            oper_user_id: "e2e".into(),
            add_sources: (4..6)
                .map(|k| spec::source(PEOPLE[k].0, Some((VideoCodec::Vp8, 96)), false))
                .collect(),
            ..Default::default()
        })
        .await
        .expect("add E and F")
        .into_inner();
    for (k, p) in (4..6).zip(&added.added_source_ports) {
        senders.push(publish(k, p));
    }
    let five_ms = rpc::wait_pictures_and_written(&mut c, id, three_ms).await;
    rpc::wait_pictures_and_written(&mut c, id, five_ms + 3_000).await;
    let fin = rpc::destroy(&mut c, id).await;
    let file = d.recordings().join(fin.output.expect("output").path);

    let at = |ms: u64| media::frame_at(&file, ms as f64 / 1000.0, 1280, 720);
    check_colours(&at(four_ms - 500), &points(&GRID_2X2, &[0, 1, 2, 3]))
        .expect("four publishers: 2x2 grid");
    check_colours(&at(three_ms - 500), &points(&GRID_2X2, &[0, 1, 2]))
        .expect("D left: three tiles of the 2x2 grid");
    check_colours(&at(five_ms + 2_500), &points(&GRID_3X3, &[0, 1, 2, 4, 5]))
        .expect("E and F joined: five tiles of the 3x3 grid");
}
