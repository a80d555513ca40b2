//! A publisher that changes its picture size mid-stream with the same SSRC (issue 4:
//! "resolution changes mid-stream are handled without restarting the mixer"): a
//! GStreamer VP8 sender (tests/gst/resize_publisher.py) switches from 640x360 red to
//! 320x240 blue after 3 s. The region must follow: red filling the 16:9 region before,
//! blue pillarboxed (4:3 in 16:9, bars in the background colour) after, and the source's
//! stats report the new size.

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cloudmixer::proto::VideoCodec;
use common::daemon::Daemon;
use common::media::{check_colours, frame_at, ColourAt, BLACK, BLUE, RED};
use common::{rpc, spec};

/// Seconds after start at which the publisher switches size, and when it stops.
const SWITCH_S: f64 = 3.0;
const TOTAL_S: f64 = 7.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publisher_changing_its_picture_size_mid_stream_is_followed() {
    let d = Daemon::start();
    let mut c = d.client().await;
    let req = spec::create_request(
        "resize",
        vec![spec::source("A", Some((VideoCodec::Vp8, 96)), false)],
        vec![spec::region("A", 0, 0, 1280, 720)],
        "resize/a.mp4",
    );
    let created = rpc::create(&mut c, req).await;
    let t0 = Instant::now();
    let port = created.source_ports[0].video_rtp_port;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/gst/resize_publisher.py");
    let mut publisher = Command::new("/usr/bin/python3")
        .args([
            script,
            "127.0.0.1",
            &port.to_string(),
            &SWITCH_S.to_string(),
            &TOTAL_S.to_string(),
        ])
        .stdin(Stdio::null())
        .spawn()
        .expect("start the GStreamer publisher (scripts/install-webrtc-test-deps.sh)");
    tokio::time::sleep_until(tokio::time::Instant::from_std(
        t0 + Duration::from_secs_f64(TOTAL_S - 0.3),
    ))
    .await;
    let stats = rpc::sources(&mut c, "resize").await.remove(0);
    rpc::destroy(&mut c, "resize").await;
    let _ = publisher.kill();
    let _ = publisher.wait();

    eprintln!("stats after the switch: {stats:?}");
    assert_eq!((stats.width, stats.height), (320, 240), "decoded size");
    assert_eq!(stats.packets_dropped, 0, "{stats:?}");
    let file = d.recordings().join("resize/a.mp4");
    let before = frame_at(&file, SWITCH_S - 1.0, 1280, 720);
    check_colours(
        &before,
        &[
            ColourAt {
                what: "640x360 red, centre",
                x: 640,
                y: 360,
                rgb: RED,
            },
            ColourAt {
                what: "640x360 red fills 16:9, left edge",
                x: 60,
                y: 360,
                rgb: RED,
            },
        ],
    )
    .unwrap();
    let after = frame_at(&file, SWITCH_S + 2.0, 1280, 720);
    check_colours(
        &after,
        &[
            ColourAt {
                what: "320x240 blue, centre",
                x: 640,
                y: 360,
                rgb: BLUE,
            },
            ColourAt {
                what: "pillarbox bar (4:3 picture is 960 wide, from x=160)",
                x: 60,
                y: 360,
                rgb: BLACK,
            },
        ],
    )
    .unwrap();
}
