//! Snapshots of the composite (issue 14, `video_file_cfg.snapshot_interval_secs`): two
//! real senders (ffmpeg, red VP8 and blue H.264) side by side, a JPEG every second of
//! output. Checked by content: one file per started second of the mixer's own output
//! duration (the mixer's clock, not the test's), each a canvas-sized JPEG, the late ones
//! showing red left, blue right and the background bars; a bad interval is refused
//! naming the field.

mod common;

use cloudmixer::proto::VideoCodec;
use common::daemon::Daemon;
use common::media::{check_colours, picture_of};
use common::rpc;
use common::sender::{Codec, SenderSpec};
use common::spec;

const FPS: u64 = 15;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshots_appear_every_interval_and_show_the_composite() {
    let d = Daemon::start();
    let mut c = d.client().await;
    let mut req = spec::duo_request("snap", ("A", "B"), "snap/call.mp4", None);
    let cfg = req.video_file_cfg.as_mut().expect("video_file_cfg");
    assert_eq!(u64::from(cfg.v_fps), FPS);
    cfg.snapshot_interval_secs = 1;
    let created = rpc::create(&mut c, req).await;
    let _a = SenderSpec::solid_to("red", Codec::Vp8, 440, &created.source_ports[0]).start();
    let _b = SenderSpec::solid_to("blue", Codec::H264, 1000, &created.source_ports[1]).start();
    // Both pictures decoded; then 2.5 s more of output, so the last snapshots are of
    // pictures made well after both sources showed (playout delay 200 ms).
    let seen = rpc::wait_pictures_and_written(&mut c, "snap", 1_000).await;
    rpc::wait_pictures_and_written(&mut c, "snap", seen + 2_500).await;
    let info = rpc::destroy(&mut c, "snap").await;
    let got_cfg = info.video_file_cfg.clone().unwrap_or_default();
    assert_eq!(got_cfg.snapshot_interval_secs, 1, "echoed by Get/Destroy");
    let duration_ms = info.output.as_ref().expect("output").duration_ms;

    // Snapshot k is output picture k * fps: one per started second of the output. The
    // duration is the pictures' count at 1/fps, floored to ms; rounding recovers it.
    let frames = (duration_ms * FPS + 500) / 1000;
    let count = frames.div_ceil(FPS);
    let dir = d.recordings().join("snap/call-snapshots");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let want: Vec<String> = (0..count).map(|k| format!("{k:06}.jpg")).collect();
    assert_eq!(
        names, want,
        "{duration_ms} ms of output at {FPS} fps, a snapshot a second"
    );
    for name in &names {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        assert_eq!(&bytes[..3], [0xFF, 0xD8, 0xFF], "{name} is a JPEG");
    }
    // The last two show the layout: red left, blue right, black bars above and below
    // (picture_of checks the size: 1280x720).
    for name in &names[names.len() - 2..] {
        let picture = picture_of(&dir.join(name), 1280, 720);
        check_colours(&picture, spec::SIDE_BY_SIDE_POINTS)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}

#[tokio::test]
async fn a_bad_snapshot_interval_is_refused_naming_the_field() {
    let d = Daemon::start();
    let mut c = d.client().await;
    let mut req = spec::create_request(
        "snap-bad",
        vec![spec::source("A", Some((VideoCodec::Vp8, 96)), true)],
        vec![],
        "snap/bad.mp4",
    );
    req.video_file_cfg
        .as_mut()
        .expect("video_file_cfg")
        .snapshot_interval_secs = 3601;
    let e = c.create_cloud_mixer(req).await.expect_err("refused");
    assert_eq!(e.code(), tonic::Code::InvalidArgument, "{e:?}");
    assert!(
        e.message()
            .contains("video_file_cfg.snapshot_interval_secs"),
        "{}",
        e.message()
    );
}
