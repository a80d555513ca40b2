//! Crash safety and shutdown of the daemon, with a real ffmpeg publisher:
//! - `kill -9` while recording leaves a playable file that holds the recording up to its
//!   last complete fragment, minus what the encoder still buffered (see [`MAX_LOSS_S`]);
//!   the restarted daemon lists it as INTERRUPTED with the file's playable duration (as
//!   ffprobe measures it), refuses a Create of the same path without touching the file,
//!   keeps listing it after another restart, and does not list a mixer that was
//!   destroyed before the crash;
//! - SIGTERM with three running mixers finalizes all three files, emits Stopping, the
//!   final OutputInfoChanged and Stopped for each, and exits 0.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use cloudmixer::proto::{
    mixer_event::Event, ListCloudMixersRequest, MixerEvent, MixerInfo, MixerState, OutputStatus,
    VideoCodec, WatchEventsRequest,
};
use common::daemon::Daemon;
use common::media::{check_colours, frame_at, probe, ColourAt, RED};
use common::sender::{Codec, SenderSpec};
use common::{rpc, spec};

/// Media a crash may lose (issue 4: at most the last fragment, <= 1 s): the fragment
/// being built (at most `FRAGMENT_US` = 0.5 s) plus the playout delay (0.2 s) the tick
/// thread had not reached yet. Live mixers encode with `Latency::Low`, so libx264 holds
/// no pictures. Measured: 0.45 s lost of 6.0 s (was 2.0 s with x264's B-frames and
/// lookahead and 1 s fragments).
const MAX_LOSS_S: f64 = 1.0;
/// Slack of a file's duration against the time the mixer recorded, by its own clock
/// (Running event to Stopping event, or to the kill): one output picture (67 ms), one
/// AAC frame (21 ms: ffprobe's duration is the longer track's) and 30 ms for the Running
/// event following the mixer's time 0 (its threads' start) and the events' ms stamps.
/// (Was 0.3 s and 0.5 s while the test measured with its own clock from after Create.)
const SLACK_S: f64 = 0.12;

/// Collects events in a task until none came for `idle` (or the stream ends).
fn collect_until_idle(
    mut watch: tonic::Streaming<MixerEvent>,
    idle: Duration,
) -> tokio::task::JoinHandle<Vec<MixerEvent>> {
    tokio::spawn(async move {
        let mut evs = Vec::new();
        while let Ok(Ok(Some(e))) = tokio::time::timeout(idle, watch.message()).await {
            evs.push(e);
        }
        evs
    })
}

fn decodes_without_error(path: &Path) -> bool {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .expect("run ffmpeg");
    out.status.success() && out.stderr.is_empty()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_leaves_a_playable_file_with_the_recording_up_to_its_last_fragments() {
    let mut d = Daemon::start();
    let mut c = d.client().await;
    let req = spec::create_request(
        "crash",
        vec![spec::source("A", Some((VideoCodec::Vp8, 96)), true)],
        vec![spec::region("A", 0, 0, 1280, 720)],
        "crash/k9.mp4",
    );
    let (created, clock) = rpc::create_clocked(&mut c, req).await;
    let p = &created.source_ports[0];
    let _a = SenderSpec::solid_to("red", Codec::Vp8, 440, p).start();
    // A mixer that ends before the crash: its journal record is gone, it is not reported.
    let done = spec::create_request(
        "done",
        vec![spec::source("A", Some((VideoCodec::Vp8, 96)), false)],
        vec![spec::region("A", 0, 0, 320, 240)],
        "crash/done.mp4",
    );
    rpc::create(&mut c, done).await;
    rpc::destroy(&mut c, "done").await;
    // Paces the recording: 6 s of media before the crash.
    tokio::time::sleep(Duration::from_secs(6)).await;
    d.signal("KILL");
    // Read after `kill` returned: the mixer's time at the kill, or a few ms more.
    let recorded = clock.now_s();
    assert!(
        d.wait_exit(Duration::from_secs(5)).is_some(),
        "daemon still alive"
    );

    let file = d.recordings().join("crash/k9.mp4");
    let pr = probe(&file);
    eprintln!(
        "kill -9 after {recorded:.2} s: the file holds {:.2} s",
        pr.duration_s
    );
    let v = pr.of_kind("video");
    assert_eq!(v.len(), 1, "video stream in the crashed file");
    assert_eq!(
        v[0].avg_frame_rate, "15/1",
        "frame rate of the crashed file"
    );
    assert!(
        pr.duration_s >= recorded - MAX_LOSS_S - SLACK_S && pr.duration_s <= recorded + SLACK_S,
        "crashed file holds {:.2} s of {recorded:.2} s recorded",
        pr.duration_s
    );
    assert!(
        decodes_without_error(&file),
        "the crashed file has decoding errors"
    );
    let f = frame_at(&file, 3.0, 1280, 720);
    check_colours(
        &f,
        &[ColourAt {
            what: "A",
            x: 640,
            y: 360,
            rgb: RED,
        }],
    )
    .unwrap();

    // The restarted daemon reports it, with what the file plays.
    let bytes = std::fs::read(&file).expect("read the crashed file");
    d.crash_and_restart();
    let mut c = d.client().await;
    let listed = list(&mut c).await;
    let ids: Vec<&str> = listed.iter().map(|m| m.mixer_id.as_str()).collect();
    assert_eq!(ids, ["crash"], "only the interrupted mixer is listed");
    let m = &listed[0];
    assert_eq!(m.state, MixerState::Interrupted as i32, "{m:?}");
    let out = m.output.as_ref().expect("output info");
    assert_eq!(out.path, "crash/k9.mp4");
    assert_eq!(out.size_bytes, bytes.len() as u64);
    let reported_s = out.duration_ms as f64 / 1000.0;
    eprintln!(
        "after the restart: INTERRUPTED, {reported_s:.3} s playable (ffprobe: {:.3} s)",
        pr.duration_s
    );
    assert!(
        (reported_s - pr.duration_s).abs() <= SLACK_S,
        "reported {reported_s:.3} s playable, ffprobe says {:.3} s",
        pr.duration_s
    );
    // Never overwritten: a Create of the same path is refused and the bytes stay.
    let again = spec::create_request(
        "again",
        vec![spec::source("A", Some((VideoCodec::Vp8, 96)), true)],
        vec![spec::region("A", 0, 0, 1280, 720)],
        "crash/k9.mp4",
    );
    let e = c.create_cloud_mixer(again).await.unwrap_err();
    assert_eq!(e.code(), tonic::Code::AlreadyExists, "{e:?}");
    assert!(
        std::fs::read(&file).expect("read again") == bytes,
        "the file changed"
    );
    // Still reported after another restart, as it was found the first time.
    d.crash_and_restart();
    let mut c = d.client().await;
    let listed = list(&mut c).await;
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].state, MixerState::Interrupted as i32);
    assert_eq!(
        listed[0].output.as_ref().map(|o| o.duration_ms),
        Some(out.duration_ms)
    );
}

async fn list(c: &mut rpc::Client) -> Vec<MixerInfo> {
    c.list_cloud_mixers(ListCloudMixersRequest::default())
        .await
        .expect("List")
        .into_inner()
        .mixers
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finalizes_three_mixers() {
    let mut d = Daemon::start();
    let mut c = d.client().await;
    let watch = c
        .watch_events(WatchEventsRequest::default())
        .await
        .expect("WatchEvents")
        .into_inner();
    let collector = collect_until_idle(watch, Duration::from_secs(30));
    let ids = ["term-1", "term-2", "term-3"];
    for id in ids {
        let mut req = spec::create_request(
            id,
            vec![spec::source("A", Some((VideoCodec::Vp8, 96)), true)],
            vec![spec::region("A", 0, 0, 640, 360)],
            &format!("term/{id}.mp4"),
        );
        // Nobody sends: the files hold the background, green here.
        req.video_file_cfg.as_mut().unwrap().background_color = "#00FF00".into();
        c.create_cloud_mixer(req).await.expect("Create");
    }
    // Paces the recording: about 3 s in each file before the signal.
    tokio::time::sleep(Duration::from_secs(3)).await;
    d.signal("TERM");
    let status = d
        .wait_exit(Duration::from_secs(20))
        .expect("daemon exits after SIGTERM");
    assert!(status.success(), "exit status {status:?}");

    let evs = collector.await.unwrap();
    for id in ids {
        let mine: Vec<String> = evs
            .iter()
            .filter_map(|e| match &e.event {
                Some(Event::StateChanged(s)) if s.mixer_id == *id => {
                    Some(format!("{:?}", MixerState::try_from(s.state).unwrap()))
                }
                Some(Event::OutputInfoChanged(o)) if o.mixer_id == *id => {
                    let st = o.output_info.as_ref().map(|i| i.status).unwrap_or(0);
                    (st == OutputStatus::Finalized as i32).then(|| "Finalized".to_owned())
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            mine,
            ["Starting", "Running", "Stopping", "Finalized", "Stopped"],
            "{id}"
        );
        let file = d.recordings().join(format!("term/{id}.mp4"));
        let pr = probe(&file);
        // The mixer's own Running -> Stopping time.
        let at = |state: MixerState| {
            evs.iter()
                .find_map(|e| match &e.event {
                    Some(Event::StateChanged(s)) if s.mixer_id == id && s.state == state as i32 => {
                        Some(e.unix_ms)
                    }
                    _ => None,
                })
                .unwrap_or_else(|| panic!("{id}: no {state:?} event"))
        };
        let recorded = (at(MixerState::Stopping) - at(MixerState::Running)) as f64 / 1000.0;
        assert!(
            (pr.duration_s - recorded).abs() <= SLACK_S,
            "{id}: {:.2} s in the file, {recorded:.2} s recorded",
            pr.duration_s
        );
        assert!(decodes_without_error(&file), "{id} has decoding errors");
        let f = frame_at(&file, 1.5, 1280, 720);
        check_colours(
            &f,
            &[ColourAt {
                what: "background",
                x: 320,
                y: 180,
                rgb: [0, 255, 0],
            }],
        )
        .unwrap();
    }
}

/// Output picture before which the doomed mixer's tick thread panics: 3 s at 15 fps.
const PANIC_AT_PICTURE: u64 = 45;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panic_in_one_mixer_ends_it_with_error_and_a_playable_file_and_spares_the_rest() {
    let fault = format!("tick-panic:doomed:{PANIC_AT_PICTURE}");
    let d = Daemon::start_with_env(64, &[], &[(cloudmixer::fault::FAULT_ENV, &fault)]);
    let mut c = d.client().await;
    let watch = c
        .watch_events(WatchEventsRequest {
            mixer_id: "doomed".into(),
        })
        .await
        .expect("WatchEvents")
        .into_inner();
    let collector = collect_until_idle(watch, Duration::from_secs(8));
    let mut senders = Vec::new();
    let mut healthy_clock = None;
    for id in ["doomed", "healthy"] {
        let req = spec::create_request(
            id,
            vec![spec::source("A", Some((VideoCodec::Vp8, 96)), true)],
            vec![spec::region("A", 0, 0, 1280, 720)],
            &format!("panic/{id}.mp4"),
        );
        let (created, clock) = rpc::create_clocked(&mut c, req).await;
        healthy_clock = Some(clock); // the last one: "healthy"
        let p = &created.source_ports[0];
        senders.push(SenderSpec::solid_to("red", Codec::Vp8, 440, p).start());
    }
    // Until the doomed mixer has panicked (at 3 s of its time) and the healthy one has
    // recorded 2 s past that: polled, bounded.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let doomed = rpc::info(&mut c, "doomed").await;
        let healthy_ms = rpc::info(&mut c, "healthy")
            .await
            .output
            .map_or(0, |o| o.duration_ms);
        if doomed.state == MixerState::Error as i32 && healthy_ms >= 5_000 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "20 s after Create: doomed {:?}, healthy recorded {healthy_ms} ms",
            MixerState::try_from(doomed.state)
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // The doomed mixer: Error with the panic's message, its file complete up to it.
    let doomed = rpc::info(&mut c, "doomed").await;
    assert_eq!(doomed.state, MixerState::Error as i32, "{doomed:?}");
    assert!(
        doomed.error_message.contains("panicked"),
        "{}",
        doomed.error_message
    );
    let states: Vec<String> = collector
        .await
        .unwrap()
        .iter()
        .filter_map(|e| match &e.event {
            Some(Event::StateChanged(s)) => {
                Some(format!("{:?}", MixerState::try_from(s.state).unwrap()))
            }
            _ => None,
        })
        .collect();
    assert_eq!(states, ["Starting", "Running", "Error"]);
    let file = d.recordings().join("panic/doomed.mp4");
    let pr = probe(&file);
    eprintln!("doomed file: {:.3} s", pr.duration_s);
    let expected = PANIC_AT_PICTURE as f64 / 15.0;
    assert!(
        (pr.duration_s - expected).abs() <= 0.2,
        "doomed file holds {:.3} s, want {expected} s",
        pr.duration_s
    );
    assert!(decodes_without_error(&file), "doomed file has errors");
    check_colours(
        &frame_at(&file, 2.5, 1280, 720),
        &[ColourAt {
            what: "doomed A",
            x: 640,
            y: 360,
            rgb: RED,
        }],
    )
    .unwrap();

    // The other mixer and the daemon go on.
    let healthy = c
        .destroy_cloud_mixer(cloudmixer::proto::DestroyCloudMixerRequest {
            mixer_id: "healthy".into(),
            oper_user_id: "e2e".into(),
        })
        .await
        .expect("Destroy healthy")
        .into_inner()
        .info
        .expect("info");
    let ran = healthy_clock.expect("created").recorded_s().await;
    let out = healthy.output.expect("output");
    assert_eq!(healthy.state, MixerState::Stopped as i32);
    assert_eq!(out.status, OutputStatus::Finalized as i32);
    assert!(
        (out.duration_ms as f64 / 1000.0 - ran).abs() <= SLACK_S,
        "healthy recorded {} ms of {ran:.2} s",
        out.duration_ms
    );
    let again = spec::create_request("after", vec![], vec![], "panic/after.mp4");
    c.create_cloud_mixer(again)
        .await
        .expect("the daemon still creates mixers");
}
