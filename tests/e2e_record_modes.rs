//! End to end, the composite side of the recording modes, with ffmpeg senders through
//! the daemon:
//! - a pure-audio call (two audio-only sources, 440 Hz and 1000 Hz) writes only
//!   `<name>.m4a`: one AAC stream, no video, both tones, the duration recorded;
//! - `record_video = false` with video sources: the `.m4a` only, and the sources'
//!   video is received but not decoded;
//! - record mode SINGLE: no composite file (its svr_path_name is neither created nor
//!   reserved), no composite in GetCloudMixer nor in the events, no journal record, and
//!   the daemon's CPU (its own /proc/PID/stat) far below a mixed mixer's with the same
//!   senders over the same time.
//!
//! Run with `--test-threads=1`: the CPU comparison wants the machine to itself.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use cloudmixer::proto::{
    mixer_event::Event, MixerInfo, MixerState, OutputInfo, OutputKind, OutputMedia, OutputStatus,
    RecordCfg, RecordMode, SourcePorts,
};
use common::daemon::Daemon;
use common::media::{self, check_tones};
use common::rpc::{self, Client};
use common::sender::{Codec, Sender, SenderSpec};
use common::spec;

const A: &str = "Usr1.-1";
const B: &str = "Usr2.-1";
/// How long each recording runs after both senders are heard, s.
const RECORD_S: f64 = 6.0;
/// Durations vs the time the mixer recorded (Running to Stopping by its own events): one
/// AAC frame (21 ms), one tick (67 ms) and the events' ms stamps (see tests/e2e_rtp.rs).
const RECORDED_TOLERANCE_MS: u64 = 120;
/// The CPU window of each mixer in the SINGLE comparison, s.
const CPU_WINDOW_S: u64 = 20;
/// A single-only mixer's daemon CPU must stay below this share of a mixed one's.
const MAX_SINGLE_CPU_RATIO: f64 = 0.5;
/// Bound of every wait for senders to be heard.
const HEARD_LIMIT: Duration = Duration::from_secs(15);

/// An audio-only sender of a `tone_hz` tone to the source's audio port.
fn audio_sender(tone_hz: u32, p: &SourcePorts) -> Sender {
    let port = u16::try_from(p.audio_rtp_port).expect("a UDP port");
    SenderSpec {
        video_port: None,
        ..SenderSpec::solid("black", Codec::Vp8, tone_hz, 0, port)
    }
    .start()
}

/// Red VP8 + 440 Hz to the first source, blue H.264 + 1000 Hz to the second.
fn av_senders(ports: &[SourcePorts]) -> (Sender, Sender) {
    (
        SenderSpec::solid_to("red", Codec::Vp8, 440, &ports[0]).start(),
        SenderSpec::solid_to("blue", Codec::H264, 1000, &ports[1]).start(),
    )
}

/// Waits until every source of `id` has received audio (and video, if `video`).
async fn wait_heard(c: &mut Client, id: &str, video: bool) -> MixerInfo {
    let deadline = tokio::time::Instant::now() + HEARD_LIMIT;
    loop {
        let info = rpc::info(c, id).await;
        let heard = info
            .sources
            .iter()
            .all(|s| s.audio_packets > 0 && (!video || s.video_packets > 0));
        if heard {
            return info;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{id}: senders not heard within {HEARD_LIMIT:?}: {:?}",
            info.sources
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every regular file beneath `root` except the daemon's state directory, relative.
fn files_under(root: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).expect("read a recordings directory") {
            let p = e.expect("directory entry").path();
            let rel = p
                .strip_prefix(root)
                .expect("beneath the root")
                .to_path_buf();
            if rel.starts_with(".cloudmixer") {
                continue;
            }
            if p.is_dir() {
                walk(&p, root, out);
            } else {
                out.push(rel);
            }
        }
    }
    let mut out = Vec::new();
    walk(root, root, &mut out);
    out.sort();
    out
}

/// Checks an audio-only composite after Destroy: `rel` is the only file, a finalized
/// AAC-only `.m4a` as long as the mixer recorded, with both tones.
async fn check_m4a(d: &Daemon, info: &MixerInfo, rel: &str, recorded_s: f64) {
    assert_eq!(info.state, MixerState::Stopped as i32, "{info:?}");
    let out: &OutputInfo = info.output.as_ref().expect("the composite's info");
    assert_eq!(out.path, rel);
    assert_eq!(out.status, OutputStatus::Finalized as i32, "{out:?}");
    assert_eq!(
        (out.kind, out.media, out.container.as_str()),
        (OutputKind::Mixed as i32, OutputMedia::Audio as i32, "m4a"),
        "{out:?}"
    );
    assert_eq!(
        info.outputs,
        std::slice::from_ref(out),
        "the composite is the one output"
    );
    assert_eq!(
        files_under(&d.recordings()),
        [PathBuf::from(rel)],
        "only the .m4a"
    );
    let file = d.recordings().join(rel);
    assert_eq!(out.size_bytes, std::fs::metadata(&file).unwrap().len());
    let recorded_ms = (recorded_s * 1000.0) as u64;
    assert!(
        out.duration_ms.abs_diff(recorded_ms) <= RECORDED_TOLERANCE_MS,
        "{} ms reported vs {recorded_ms} ms recorded",
        out.duration_ms
    );
    let p = tokio::task::spawn_blocking({
        let file = file.clone();
        move || media::probe(&file)
    })
    .await
    .unwrap();
    assert!(p.of_kind("video").is_empty(), "no video stream: {p:?}");
    let a = p.of_kind("audio");
    assert_eq!(a.len(), 1, "{p:?}");
    assert_eq!((a[0].codec.as_str(), a[0].sample_rate), ("aac", 48_000));
    let file_ms = (p.duration_s * 1000.0) as u64;
    assert!(
        file_ms.abs_diff(recorded_ms) <= RECORDED_TOLERANCE_MS,
        "{file_ms} ms in the file vs {recorded_ms} ms recorded"
    );
    let audio = tokio::task::spawn_blocking(move || media::audio_between(&file, 2.0, 5.5))
        .await
        .unwrap();
    check_tones(&audio, &[440.0, 1000.0], 2500.0).expect("both participants heard");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pure_audio_call_writes_only_an_m4a_with_both_voices() {
    let d = Daemon::start();
    let mut c = d.client().await;
    let id = "e2e-pure-audio";
    let req = spec::create_request(
        id,
        vec![spec::source(A, None, true), spec::source(B, None, true)],
        Vec::new(),
        "calls/audio.mp4",
    );
    let (created, mut clock) = rpc::create_clocked(&mut c, req).await;
    let out = created.info.and_then(|i| i.output).expect("output info");
    assert_eq!(out.path, "calls/audio.m4a", "a pure-audio call is an .m4a");
    let _a = audio_sender(440, &created.source_ports[0]);
    let _b = audio_sender(1000, &created.source_ports[1]);
    wait_heard(&mut c, id, false).await;
    let until = clock.running_unix_ms + (RECORD_S * 1000.0) as i64;
    tokio::time::sleep(Duration::from_millis(
        (until - rpc::unix_ms_now()).max(0) as u64
    ))
    .await;
    for s in rpc::sources(&mut c, id).await {
        assert!(s.audio_frames_decoded > 0, "{s:?}");
        assert_eq!(s.video_packets, 0, "{s:?}");
    }
    let info = rpc::destroy(&mut c, id).await;
    let recorded_s = clock.recorded_s().await;
    check_m4a(&d, &info, "calls/audio.m4a", recorded_s).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn record_video_false_writes_an_m4a_and_decodes_no_video() {
    let d = Daemon::start();
    let mut c = d.client().await;
    let id = "e2e-no-video";
    let cfg = RecordCfg {
        record_video: Some(false),
        ..Default::default()
    };
    let (created, mut clock) = rpc::create_clocked(
        &mut c,
        spec::duo_request(id, (A, B), "novideo/x.mp4", Some(cfg)),
    )
    .await;
    let _senders = av_senders(&created.source_ports);
    wait_heard(&mut c, id, true).await;
    let until = clock.running_unix_ms + (RECORD_S * 1000.0) as i64;
    tokio::time::sleep(Duration::from_millis(
        (until - rpc::unix_ms_now()).max(0) as u64
    ))
    .await;
    // Video arrives and is counted, but nothing shows it: it is not decoded.
    let running = rpc::info(&mut c, id).await;
    for s in &running.sources {
        assert!(s.video_packets > 0, "{s:?}");
        assert_eq!(
            s.video_frames_decoded, 0,
            "video decoded for nothing: {s:?}"
        );
        assert!(s.audio_frames_decoded > 0, "{s:?}");
    }
    let rc = running.record_cfg.expect("record_cfg in force");
    assert_eq!(rc.record_video, Some(false));
    let info = rpc::destroy(&mut c, id).await;
    let recorded_s = clock.recorded_s().await;
    check_m4a(&d, &info, "novideo/x.m4a", recorded_s).await;
}

/// The daemon's CPU time so far, s (utime + stime of /proc/PID/stat).
fn cpu_s(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("read /proc/PID/stat");
    // Fields after the command name (which may hold spaces) start at the state, field 3.
    let rest = &stat[stat.rfind(')').expect("(comm)") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap();
    ticks as f64 / clock_ticks_per_s()
}

/// `getconf CLK_TCK` (100 on Linux).
fn clock_ticks_per_s() -> f64 {
    let out = common::run_bounded(
        std::process::Command::new("getconf").arg("CLK_TCK"),
        Duration::from_secs(5),
    );
    String::from_utf8_lossy(&out)
        .trim()
        .parse()
        .unwrap_or(100.0)
}

/// Runs mixer `id` (already created, senders started) for [`CPU_WINDOW_S`] after its
/// senders are heard; the daemon's CPU seconds over that window.
async fn cpu_over_window(d: &Daemon, c: &mut Client, id: &str) -> f64 {
    wait_heard(c, id, true).await;
    let before = cpu_s(d.pid());
    tokio::time::sleep(Duration::from_secs(CPU_WINDOW_S)).await;
    cpu_s(d.pid()) - before
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn single_mode_writes_no_composite_and_costs_far_less_cpu() {
    let d = Daemon::start();
    let mut c = d.client().await;
    let id = "e2e-single";
    let events = rpc::watch(&mut c, id, Duration::from_secs(CPU_WINDOW_S + 60)).await;
    // Participants' files without audio: passthrough video only, so the single-only
    // mixer encodes nothing at all (per-participant AAC has its own measurement in
    // benches/, docs/PERFORMANCE.md).
    let cfg = RecordCfg {
        mode: RecordMode::Single as i32,
        record_audio: Some(false),
        ..Default::default()
    };
    let created = rpc::create(
        &mut c,
        spec::duo_request(id, (A, B), "single/comp.mp4", Some(cfg)),
    )
    .await;
    let info = created.info.as_ref().expect("info");
    assert_eq!(info.state, MixerState::Running as i32);
    assert!(info.output.is_none(), "no composite: {info:?}");
    let senders = av_senders(&created.source_ports);
    let single_cpu = cpu_over_window(&d, &mut c, id).await;
    let running = rpc::info(&mut c, id).await;
    assert!(running.output.is_none(), "{running:?}");
    assert!(
        running
            .outputs
            .iter()
            .all(|o| o.kind != OutputKind::Mixed as i32),
        "{:?}",
        running.outputs
    );
    let journal: Vec<String> = std::fs::read_dir(d.recordings().join(".cloudmixer"))
        .map(|rd| {
            rd.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        journal.iter().all(|r| !r.contains(id)),
        "no journal record without a composite: {journal:?}"
    );
    let last = rpc::destroy(&mut c, id).await;
    drop(senders);
    assert_eq!(last.state, MixerState::Stopped as i32, "{last:?}");
    assert!(last.output.is_none());
    let evs = tokio::time::timeout(Duration::from_secs(30), events)
        .await
        .expect("event stream ends")
        .unwrap();
    let states: Vec<i32> = evs
        .iter()
        .filter_map(|e| match &e.event {
            Some(Event::StateChanged(s)) if s.state != MixerState::Idle as i32 => Some(s.state),
            _ => None,
        })
        .collect();
    let want = [
        MixerState::Starting,
        MixerState::Running,
        MixerState::Stopping,
        MixerState::Stopped,
    ]
    .map(|s| s as i32);
    assert_eq!(states, want, "the lifecycle of any mixer");
    let composite_events = evs.iter().filter(|e| {
        matches!(&e.event, Some(Event::OutputInfoChanged(o))
            if o.output_info.as_ref().is_some_and(|i| i.kind == OutputKind::Mixed as i32))
    });
    assert_eq!(
        composite_events.count(),
        0,
        "no composite, no composite events"
    );
    let root = d.recordings();
    assert!(
        !root.join("single").exists(),
        "the composite's directory was created: {:?}",
        files_under(&root)
    );
    assert!(
        files_under(&root).iter().all(|f| !f.starts_with("single")),
        "{:?}",
        files_under(&root)
    );

    // The same senders into a mixed mixer, for the same time; its svr_path_name may be
    // the single-only mixer's: that one never took it.
    let mixed_id = "e2e-single-vs-mixed";
    let created = rpc::create(
        &mut c,
        spec::duo_request(mixed_id, (A, B), "single/comp.mp4", None),
    )
    .await;
    let _senders = av_senders(&created.source_ports);
    let mixed_cpu = cpu_over_window(&d, &mut c, mixed_id).await;
    let mixed = rpc::destroy(&mut c, mixed_id).await;
    assert_eq!(
        mixed.output.map(|o| o.status),
        Some(OutputStatus::Finalized as i32)
    );
    assert!(root.join("single/comp.mp4").exists());
    let ratio = single_cpu / mixed_cpu;
    eprintln!(
        "daemon CPU over {CPU_WINDOW_S} s with 2 sources: single-only {single_cpu:.2} s, \
         mixed {mixed_cpu:.2} s, ratio {ratio:.3}"
    );
    assert!(
        ratio < MAX_SINGLE_CPU_RATIO,
        "single-only {single_cpu:.2} s vs mixed {mixed_cpu:.2} s of CPU"
    );
}
