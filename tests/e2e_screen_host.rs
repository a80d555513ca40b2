//! Host speaker and screen share through the real daemon, with ffmpeg publishers, checked
//! by the colours of the recorded MP4 (issue 11):
//! - three sources, the second marked `host`, the `speaker` preset without camids: the
//!   main 960x540 tile shows the host, the strip the others in source order;
//! - a camera source and a screen-share source (`content_type` SCREEN), a VIDEO region
//!   naming the camera and a SCREEN region without camid: each region shows its source.
//!
//! Waits are bounded polls of GetCloudMixer (every source decoding, then the output grown
//! by [`RECORD_AFTER_ALL_MS`]); the sampled output time comes from the output's own
//! duration, not from the test's clock.

mod common;

use std::time::Duration;

use cloudmixer::proto::{
    ContentType, CreateCloudMixerRequest, LayoutPreset, MixerInfo, OutputStatus, VideoCodec,
};
use common::daemon::Daemon;
use common::media::{self, check_colours, ColourAt, Rgb, BLACK, BLUE, RED};
use common::rpc::{self, Client};
use common::sender::{Codec, SenderSpec};
use common::spec::{self, region};

const GREEN: Rgb = [0, 255, 0];
/// Output recorded after every source has decoded a picture, ms.
const RECORD_AFTER_ALL_MS: u64 = 2_000;
/// The sampled picture: this long after the output duration seen when every source
/// decoded (the playout delay, 200 ms, is well inside it).
const SAMPLE_AFTER_ALL_MS: u64 = 1_200;
/// Limit of each wait.
const WAIT_LIMIT: Duration = Duration::from_secs(30);

/// One publisher: colour (ffmpeg name or 0xRRGGBB), codec, tone in Hz.
type Publisher = (&'static str, Codec, u32);

/// [`rpc::poll_until`] bounded by [`WAIT_LIMIT`].
async fn poll_until(
    c: &mut Client,
    id: &str,
    what: &str,
    done: impl Fn(&MixerInfo) -> bool,
) -> MixerInfo {
    rpc::poll_until(c, id, what, WAIT_LIMIT, done).await
}

fn output_ms(info: &MixerInfo) -> u64 {
    info.output.as_ref().map_or(0, |o| o.duration_ms)
}

/// Creates the mixer, starts one publisher per source (in source order), records until
/// every source decodes and then [`RECORD_AFTER_ALL_MS`] more, destroys it. Returns the
/// Create answer's info, the file and the output time (s) to sample.
async fn record(
    d: &Daemon,
    req: CreateCloudMixerRequest,
    publishers: &[Publisher],
) -> (MixerInfo, std::path::PathBuf, f64) {
    let id = req.mixer_id.clone();
    let path = req
        .video_file_cfg
        .as_ref()
        .expect("cfg")
        .svr_path_name
        .clone();
    let mut c = d.client().await;
    let created = rpc::create(&mut c, req).await;
    assert_eq!(created.source_ports.len(), publishers.len());
    let _senders: Vec<_> = created
        .source_ports
        .iter()
        .zip(publishers)
        .map(|(ports, &(colour, codec, tone))| {
            let mut s = SenderSpec::solid_to(colour, codec, tone, ports);
            s.duration = Duration::from_secs(30);
            s.start()
        })
        .collect();
    let all = poll_until(&mut c, &id, "every source decoding", |i| {
        i.sources.len() == publishers.len() && i.sources.iter().all(|s| s.video_frames_decoded > 0)
    })
    .await;
    let all_ms = output_ms(&all);
    poll_until(&mut c, &id, "output grown", |i| {
        output_ms(i) >= all_ms + RECORD_AFTER_ALL_MS
    })
    .await;
    let fin = rpc::destroy(&mut c, &id).await;
    let out = fin.output.expect("final output");
    assert_eq!(out.status, OutputStatus::Finalized as i32, "{out:?}");
    let t = (all_ms + SAMPLE_AFTER_ALL_MS) as f64 / 1000.0;
    let info = created.info.expect("Create returns the info");
    (info, d.recordings().join(path), t)
}

fn at(what: &'static str, x: u32, y: u32, rgb: Rgb) -> ColourAt {
    ColourAt { what, x, y, rgb }
}

/// The regions' camids as the daemon echoes them (presets and screen regions resolved).
fn echoed_camids(info: &MixerInfo) -> Vec<String> {
    info.video_file_cfg
        .as_ref()
        .expect("video_file_cfg echoed")
        .layout_config
        .iter()
        .map(|r| {
            r.param
                .as_ref()
                .map_or_else(String::new, |p| p.camid.clone())
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn speaker_preset_gives_the_host_the_main_tile() {
    let d = Daemon::start();
    let mut sources = vec![
        spec::source("Usr1.-1", Some((VideoCodec::Vp8, 96)), true),
        spec::source("Usr2.-1", Some((VideoCodec::H264, 102)), true),
        spec::source("Usr3.-1", Some((VideoCodec::Vp8, 96)), true),
    ];
    sources[1].host = true;
    let mut req = spec::create_request("speaker", sources, Vec::new(), "sh/speaker.mp4");
    req.video_file_cfg.as_mut().expect("cfg").layout_preset = Some(LayoutPreset {
        name: "speaker".into(),
        keep_aspect_ratio: Some(true),
        ..Default::default()
    });
    let publishers = [
        ("red", Codec::Vp8, 440),
        ("blue", Codec::H264, 1000),
        ("0x00ff00", Codec::Vp8, 700),
    ];
    let (info, file, t) = record(&d, req, &publishers).await;
    assert_eq!(echoed_camids(&info), ["Usr2.-1", "Usr1.-1", "Usr3.-1"]);
    let frame = tokio::task::spawn_blocking(move || media::frame_at(&file, t, 1280, 720))
        .await
        .expect("decode");
    // Main tile 960x540 at (160, 0); strip tiles 320x180 at y = 540.
    let points = [
        at("main tile: the host (Usr2, blue)", 640, 270, BLUE),
        at("main tile near its left edge", 200, 40, BLUE),
        at("strip 1: Usr1 (red)", 160, 630, RED),
        at("strip 2: Usr3 (green)", 480, 630, GREEN),
        at("strip 3: empty", 800, 630, BLACK),
        at("left of the main tile", 80, 270, BLACK),
    ];
    check_colours(&frame, &points).unwrap_or_else(|e| panic!("at {t} s: {e}"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn screen_region_without_camid_shows_the_screen_source() {
    let d = Daemon::start();
    let camera = spec::source("Cam1", Some((VideoCodec::Vp8, 96)), true);
    let mut screen = spec::source("Scr1", Some((VideoCodec::H264, 102)), true);
    screen.content_type = ContentType::Screen as i32;
    let mut screen_region = region("", 640, 180, 640, 360);
    screen_region.r#type = ContentType::Screen as i32;
    let layout = vec![region("Cam1", 0, 180, 640, 360), screen_region];
    let req = spec::create_request("screen", vec![camera, screen], layout, "sh/screen.mp4");
    let publishers = [("red", Codec::Vp8, 440), ("blue", Codec::H264, 1000)];
    let (info, file, t) = record(&d, req, &publishers).await;
    assert_eq!(echoed_camids(&info), ["Cam1", "Scr1"]);
    let frame = tokio::task::spawn_blocking(move || media::frame_at(&file, t, 1280, 720))
        .await
        .expect("decode");
    let points = [
        at("VIDEO region: the camera (red)", 320, 360, RED),
        at("SCREEN region: the screen share (blue)", 960, 360, BLUE),
        at("top band", 640, 90, BLACK),
    ];
    check_colours(&frame, &points).unwrap_or_else(|e| panic!("at {t} s: {e}"));
}
