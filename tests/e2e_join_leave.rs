//! Joins and leaves on the output timeline (issue 4): a publisher joins 5 s after
//! Create, leaves (killed, no BYE) at 10 s and rejoins with a new SSRC at 15 s; the
//! mixer's stale timeout is 500 ms. The region must show the placeholder (background)
//! exactly while the publisher is away: until its first picture, from its last picture
//! + the stale timeout, and again until the rejoined picture.
//!
//! Times are output-file times, which are the mixer's own time since it entered Running
//! (its Running event's unix ms); the times of join, leave and rejoin are read on that
//! clock (`rpc::MixerClock`) as the test starts and kills ffmpeg. The schedule itself
//! (join at 5 s...) is paced by the test's clock: it only has to be roughly right.

mod common;

use std::time::{Duration, Instant};

use cloudmixer::proto::VideoCodec;
use common::daemon::Daemon;
use common::sender::{Codec, SenderSpec};
use common::sync_pattern::{column_mean, luma_frames};
use common::{rpc, spec};

/// The mixer's stale timeout in this test.
const STALE_MS: u32 = 500;
/// Output frame rate.
const FPS: f64 = 15.0;
/// From ffmpeg's start to its first picture in the file: process start, encoder set-up
/// and the first keyframe's transit (measured 0.065-0.133 s over 3 runs), at most.
const MAX_JOIN_S: f64 = 0.6;
/// The placeholder appears `STALE_MS` after the last picture; the last picture's time
/// is the kill time minus its transit, and the output is quantized to frames: allowed
/// early by 150 ms (two frames plus transit) and late by 2 frames.
const LEAVE_EARLY_S: f64 = 0.15;
const LEAVE_LATE_S: f64 = 2.0 / FPS;
/// Mean luma (0-255) above which the region shows the red publisher (red ~ 81, the
/// black background ~ 16).
const RED_LUMA: f64 = 48.0;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn placeholder_exactly_while_the_publisher_is_away() {
    let d = Daemon::start();
    let mut c = d.client().await;
    let mut req = spec::create_request(
        "joins",
        vec![spec::source("A", Some((VideoCodec::Vp8, 96)), true)],
        vec![spec::region("A", 0, 0, 640, 360)],
        "joins/a.mp4",
    );
    let cfg = req.video_file_cfg.as_mut().expect("cfg");
    (cfg.v_width, cfg.v_height) = (640, 360);
    req.stale_timeout_ms = STALE_MS;
    let (created, clock) = rpc::create_clocked(&mut c, req).await;
    let t0 = Instant::now();
    let p = &created.source_ports[0];
    let spec_for = |ssrc_tone: u32| SenderSpec::solid_to("red", Codec::Vp8, ssrc_tone, p);
    let at = |s: f64| tokio::time::Instant::from_std(t0 + Duration::from_secs_f64(s));

    tokio::time::sleep_until(at(5.0)).await;
    let join_s = clock.now_s();
    let sender = spec_for(440).start();
    tokio::time::sleep_until(at(10.0)).await;
    let leave_s = clock.now_s();
    drop(sender); // SIGKILL: no RTCP BYE, the mixer only sees silence.
    tokio::time::sleep_until(at(15.0)).await;
    let rejoin_s = clock.now_s();
    let sender = spec_for(880).start(); // another SSRC: a restarted publisher
    tokio::time::sleep_until(at(19.0)).await;
    rpc::destroy(&mut c, "joins").await;
    drop(sender);

    let file = d.recordings().join("joins/a.mp4");
    let frames = tokio::task::spawn_blocking(move || luma_frames(&file, 16, 9))
        .await
        .expect("join");
    let red: Vec<bool> = frames
        .iter()
        .map(|f| column_mean(f, 16, 2, 14) > RED_LUMA)
        .collect();
    // Runs of red frames: (first, end) in seconds.
    let mut runs = Vec::new();
    let mut start = None;
    for (i, &r) in red.iter().chain(std::iter::once(&false)).enumerate() {
        match (r, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                runs.push((s as f64 / FPS, i as f64 / FPS));
                start = None;
            }
            _ => {}
        }
    }
    eprintln!(
        "join {join_s:.3} s, leave {leave_s:.3} s, rejoin {rejoin_s:.3} s; red runs {runs:.3?}"
    );
    assert_eq!(runs.len(), 2, "two live periods, got {runs:?}");
    let stale = f64::from(STALE_MS) / 1000.0;
    let (first, second) = (runs[0], runs[1]);
    assert!(
        first.0 >= join_s && first.0 <= join_s + MAX_JOIN_S,
        "first picture at {:.3} s, joined at {join_s:.3} s",
        first.0
    );
    assert!(
        first.1 >= leave_s + stale - LEAVE_EARLY_S && first.1 <= leave_s + stale + LEAVE_LATE_S,
        "placeholder from {:.3} s; left at {leave_s:.3} s, stale timeout {stale} s",
        first.1
    );
    assert!(
        second.0 >= rejoin_s && second.0 <= rejoin_s + MAX_JOIN_S,
        "rejoined picture at {:.3} s, rejoined at {rejoin_s:.3} s",
        second.0
    );
    assert!(
        second.1 >= 18.9,
        "live until the end (19 s), got until {:.3} s",
        second.1
    );
}
