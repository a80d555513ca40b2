//! `serve --shutdown=drain`, with a real daemon and a real ffmpeg RTP publisher:
//! - SIGTERM while a recording runs: `/readyz` turns 503 (`draining`), Create is refused
//!   with UNAVAILABLE naming the drain, the recording goes on (it keeps decoding the
//!   publisher), and Destroy then finalizes a playable file; with no mixer left the
//!   daemon exits 0;
//! - a recording nobody destroys is stopped and finalized when `--drain-grace-secs`
//!   passes, and the daemon exits 0.

mod common;

use std::time::{Duration, Instant};

use cloudmixer::proto::{OutputStatus, VideoCodec};
use common::daemon::Daemon;
use common::media::probe;
use common::rpc::{self, Client};
use common::sender::{Codec, Sender, SenderSpec};
use common::{http, spec, wait_for};

fn drain_daemon(grace_secs: u64) -> Daemon {
    let args: Vec<String> = [
        "--http-listen",
        "127.0.0.1:0",
        "--shutdown",
        "drain",
        "--drain-grace-secs",
        &grace_secs.to_string(),
    ]
    .map(String::from)
    .to_vec();
    Daemon::start_with_args(common::daemon::DEFAULT_RTP_PORTS, &args)
}

/// Creates mixer `id` recording one VP8+Opus publisher; waits until its video decodes.
async fn recording(c: &mut Client, id: &str) -> Sender {
    let req = spec::create_request(
        id,
        vec![spec::source("A", Some((VideoCodec::Vp8, 96)), true)],
        vec![spec::region("A", 0, 0, 1280, 720)],
        &format!("drain/{id}.mp4"),
    );
    let created = rpc::create(c, req).await;
    let p = &created.source_ports[0];
    let sender = SenderSpec::solid_to("red", Codec::Vp8, 440, p).start();
    decoded_more_than(c, id, 15).await;
    sender
}

/// Waits (30 s at most) until `id`'s source decoded more than `n` video frames; returns
/// the count.
async fn decoded_more_than(c: &mut Client, id: &str, n: u64) -> u64 {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = rpc::sources(c, id).await.remove(0);
        if s.video_frames_decoded > n {
            return s.video_frames_decoded;
        }
        assert!(
            Instant::now() < deadline,
            "{id}: {} video frames decoded, waited for more than {n}",
            s.video_frames_decoded
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_drains_until_the_controller_destroys_the_recording() {
    let mut d = drain_daemon(120);
    let readyz = format!("http://{}/readyz", d.http.expect("http address"));
    let mut c = d.client().await;
    let _a = recording(&mut c, "drained").await;
    let (code, _) = http::get(&readyz);
    assert_eq!(code, 200);

    d.signal("TERM");
    let r = wait_for(Duration::from_secs(10), Duration::from_millis(50), || {
        let (code, body) = http::get_json(&readyz);
        (code == 503).then_some(body)
    })
    .expect("/readyz 503 within 10 s of SIGTERM");
    assert_eq!(r["reason"], "draining", "{r}");
    assert_eq!(r["draining"], true, "{r}");

    let req = spec::create_request(
        "late",
        vec![spec::source("B", Some((VideoCodec::Vp8, 96)), false)],
        vec![spec::region("B", 0, 0, 1280, 720)],
        "drain/late.mp4",
    );
    let refused = c
        .create_cloud_mixer(req)
        .await
        .expect_err("Create while draining");
    assert_eq!(refused.code(), tonic::Code::Unavailable, "{refused:?}");
    assert!(
        refused.message().contains("draining"),
        "{}",
        refused.message()
    );
    assert!(!d.recordings().join("drain/late.mp4").exists());

    // The recording goes on during the drain: more frames decoded, daemon alive.
    let before = rpc::sources(&mut c, "drained").await[0].video_frames_decoded;
    decoded_more_than(&mut c, "drained", before + 30).await;
    assert!(d.is_running(), "the daemon exited while a recording ran");

    let info = rpc::destroy(&mut c, "drained").await;
    let out = info.output.expect("output info");
    assert_eq!(out.status, OutputStatus::Finalized as i32, "{out:?}");
    let status = d
        .wait_exit(Duration::from_secs(20))
        .expect("daemon exits once the last recording is destroyed");
    assert!(status.success(), "exit status {status:?}");
    let pr = probe(&d.recordings().join("drain/drained.mp4"));
    let recorded_s = out.duration_ms as f64 / 1000.0;
    eprintln!(
        "drained recording: {:.2} s in the file, {recorded_s:.2} s reported",
        pr.duration_s
    );
    assert!(pr.duration_s >= 2.5, "file holds {:.2} s", pr.duration_s);
    assert!(
        (pr.duration_s - recorded_s).abs() < 0.2,
        "{:.2} s vs {recorded_s:.2} s",
        pr.duration_s
    );
    assert_eq!(pr.of_kind("video").len(), 1);
    assert_eq!(pr.of_kind("audio").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_drain_grace_period_ends_a_recording_nobody_destroys() {
    let grace = Duration::from_secs(3);
    let mut d = drain_daemon(grace.as_secs());
    let mut c = d.client().await;
    let _a = recording(&mut c, "abandoned").await;
    let signalled = Instant::now();
    d.signal("TERM");
    let status = d
        .wait_exit(grace + Duration::from_secs(30))
        .expect("daemon exits after the grace period");
    let took = signalled.elapsed();
    assert!(status.success(), "exit status {status:?}");
    assert!(
        took >= grace,
        "exited {took:?} after SIGTERM, grace {grace:?}"
    );
    let pr = probe(&d.recordings().join("drain/abandoned.mp4"));
    // At least the grace period was recorded after the signal, plus what came before.
    assert!(
        pr.duration_s >= grace.as_secs_f64() + 1.0,
        "file holds {:.2} s",
        pr.duration_s
    );
    assert_eq!(pr.of_kind("video").len(), 1);
}
