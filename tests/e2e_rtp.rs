//! End to end over real RTP: the daemon, two ffmpeg publishers (A: VP8 red + 440 Hz,
//! B: H.264 blue + 1000 Hz), Cloudroom's side-by-side layout switched live to picture in
//! picture, then the MP4 checked by content: stream parameters, colours of each region
//! before and after the switch, both tones in the audio, and the event feed in order.

mod common;

use std::time::Duration;

use cloudmixer::proto::{
    mixer_event::Event, DestroyCloudMixerRequest, GetCloudMixerRequest, MixerEvent, MixerInfo,
    MixerState, OutputInfo, OutputStatus, SourceStats, UpdateCloudMixerContentRequest, VideoCodec,
};
use common::daemon::Daemon;
use common::media::{self, check_colours, check_tones};
use common::rpc;
use common::sender::{Codec, SenderSpec};
use common::spec::{self, PIP_POINTS, SIDE_BY_SIDE_POINTS};
use tokio::time::{sleep_until, timeout};

const A: &str = "Usr1.-1";
const B: &str = "Usr2.-1";
/// Wall time after Create at which the layout switches, and at which the mixer is destroyed.
const SWITCH_AT: Duration = Duration::from_secs(4);
const DESTROY_AT: Duration = Duration::from_secs(8);
/// Output times sampled: 1.5 s before the switch (publishers have sent keyframes and
/// passed the playout delay by then) and 2.5 s after it.
const SIDE_BY_SIDE_T: f64 = 2.5;
const PIP_T: f64 = 6.5;
/// File duration (ffprobe) vs the duration the mixer reports.
const DURATION_TOLERANCE_MS: u64 = 1000;
/// Durations vs the time the mixer recorded, Running to Stopping by its own events (not
/// the test's clock, which also counts the Create and Destroy round trips): one output
/// picture (67 ms), one AAC frame (21 ms: the file lasts as long as its longer track) and
/// 30 ms for the Running event following the mixer's time 0 (its threads' start; 16 ms
/// seen under load, tests/e2e_sync.rs) and the events' ms stamps.
const RECORDED_TOLERANCE_MS: u64 = 120;
/// OutputInfoChanged comes at least once a second while running; 8 s minus slack.
const MIN_RUNNING_OUTPUT_EVENTS: usize = 6;

fn stats<'a>(info: &'a MixerInfo, camid: &str) -> &'a SourceStats {
    info.sources
        .iter()
        .find(|s| s.camid == camid)
        .unwrap_or_else(|| panic!("no stats for {camid}: {info:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_publishers_side_by_side_then_picture_in_picture() {
    let d = Daemon::start();
    let mut c = d.client().await;
    let id = "e2e-duo";
    let events = rpc::watch(&mut c, id, Duration::from_secs(40)).await;

    // Create.
    let req = spec::create_request(
        id,
        vec![
            spec::source(A, Some((VideoCodec::Vp8, 96)), true),
            spec::source(B, Some((VideoCodec::H264, 102)), true),
        ],
        spec::side_by_side(A, B),
        "e2e/duo.mp4",
    );
    let created = c
        .create_cloud_mixer(req)
        .await
        .expect("Create")
        .into_inner();
    let t0 = tokio::time::Instant::now();
    assert_eq!(created.mixer_id, id);
    assert_eq!(
        created.info.as_ref().map(|i| i.state),
        Some(MixerState::Running as i32)
    );
    let ports = &created.source_ports;
    assert_eq!(
        ports.iter().map(|p| p.camid.as_str()).collect::<Vec<_>>(),
        [A, B]
    );
    let mut all = Vec::new();
    for p in ports {
        assert_eq!(p.video_rtcp_port, p.video_rtp_port + 1, "{p:?}");
        assert_eq!(p.rtp_host, "127.0.0.1", "the daemon's default --rtp-bind");
        assert_eq!(p.audio_rtcp_port, p.audio_rtp_port + 1, "{p:?}");
        all.extend([
            p.video_rtp_port,
            p.video_rtcp_port,
            p.audio_rtp_port,
            p.audio_rtcp_port,
        ]);
    }
    let (lo, hi) = d.rtp_ports;
    assert!(
        all.iter()
            .all(|&p| p != 0 && (u32::from(lo)..=u32::from(hi)).contains(&p)),
        "{all:?}"
    );
    let mut distinct = all.clone();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), all.len(), "ports not distinct: {all:?}");

    // Publish.
    let port = |p: u32| u16::try_from(p).expect("UDP port");
    let _a = SenderSpec::solid(
        "red",
        Codec::Vp8,
        440,
        port(ports[0].video_rtp_port),
        port(ports[0].audio_rtp_port),
    )
    .start();
    let _b = SenderSpec::solid(
        "blue",
        Codec::H264,
        1000,
        port(ports[1].video_rtp_port),
        port(ports[1].audio_rtp_port),
    )
    .start();

    // While running: per-source counters.
    sleep_until(t0 + Duration::from_secs(3)).await;
    let info = c
        .get_cloud_mixer(GetCloudMixerRequest {
            mixer_id: id.into(),
        })
        .await
        .expect("Get")
        .into_inner();
    assert_eq!(info.state, MixerState::Running as i32);
    for (camid, codec, p) in [
        (A, VideoCodec::Vp8, &ports[0]),
        (B, VideoCodec::H264, &ports[1]),
    ] {
        let s = stats(&info, camid);
        assert!(s.video_packets > 0 && s.audio_packets > 0, "{s:?}");
        assert!(
            s.video_bytes > s.video_packets && s.audio_bytes > s.audio_packets,
            "{s:?}"
        );
        assert!(
            s.video_frames_decoded > 0 && s.audio_frames_decoded > 0,
            "{s:?}"
        );
        assert_eq!((s.width, s.height), (640, 360), "{camid}: decoded size");
        assert_eq!(s.video_codec, codec as i32);
        assert_eq!(s.packets_dropped, 0, "clean publisher {camid}: {s:?}");
        assert!(s.last_packet_unix_ms > 0);
        assert_eq!(s.ports.as_ref(), Some(p), "{camid}: ports in stats");
    }

    // Switch the layout live.
    sleep_until(t0 + SWITCH_AT).await;
    let updated = c
        .update_cloud_mixer_content(UpdateCloudMixerContentRequest {
            mixer_id: id.into(),
            oper_user_id: "e2e".into(),
            layout_config: spec::picture_in_picture(A, B),
            ..Default::default()
        })
        .await
        .expect("Update")
        .into_inner();
    assert_eq!(
        updated.info.map(|i| i.state),
        Some(MixerState::Running as i32)
    );

    // Destroy.
    sleep_until(t0 + DESTROY_AT).await;
    let destroyed = c
        .destroy_cloud_mixer(DestroyCloudMixerRequest {
            mixer_id: id.into(),
            oper_user_id: "e2e".into(),
        })
        .await
        .expect("Destroy")
        .into_inner();
    let info = destroyed.info.expect("Destroy returns the final info");
    let evs = timeout(Duration::from_secs(10), events)
        .await
        .expect("event stream ends")
        .unwrap();
    let ran_ms = recorded_ms(&evs);
    assert_eq!(info.state, MixerState::Stopped as i32);
    let out: OutputInfo = info.output.expect("output info");
    assert_eq!(out.status, OutputStatus::Finalized as i32, "{out:?}");
    assert_eq!(out.path, "e2e/duo.mp4");
    let file = d.recordings().join("e2e/duo.mp4");
    assert_eq!(
        std::path::Path::new(&out.abs_path).canonicalize().ok(),
        file.canonicalize().ok()
    );
    assert_eq!(
        out.size_bytes,
        std::fs::metadata(&file).expect("output file").len()
    );
    assert!(
        out.size_bytes > 50_000,
        "{} bytes for 8 s of 720p",
        out.size_bytes
    );
    assert!(
        out.duration_ms.abs_diff(ran_ms) <= RECORDED_TOLERANCE_MS,
        "{} ms vs {ran_ms} ms recorded",
        out.duration_ms
    );

    // The file.
    let p = tokio::task::spawn_blocking({
        let file = file.clone();
        move || media::probe(&file)
    })
    .await
    .unwrap();
    let (v, a) = (p.of_kind("video"), p.of_kind("audio"));
    assert_eq!((v.len(), a.len()), (1, 1), "{p:?}");
    assert_eq!(
        (v[0].codec.as_str(), v[0].width, v[0].height),
        ("h264", 1280, 720),
        "{p:?}"
    );
    assert_eq!(v[0].avg_frame_rate, "15/1");
    assert_eq!(
        (a[0].codec.as_str(), a[0].sample_rate),
        ("aac", 48_000),
        "{p:?}"
    );
    let file_ms = (p.duration_s * 1000.0) as u64;
    assert!(
        file_ms.abs_diff(out.duration_ms) <= DURATION_TOLERANCE_MS,
        "{file_ms} vs {}",
        out.duration_ms
    );
    assert!(
        file_ms.abs_diff(ran_ms) <= RECORDED_TOLERANCE_MS,
        "{file_ms} ms in the file vs {ran_ms} ms recorded"
    );
    let frames = media::count_video_frames(&file);
    assert!(
        frames.abs_diff(file_ms * 15 / 1000) <= 15,
        "{frames} frames in {file_ms} ms at 15 fps"
    );

    let sbs = media::frame_at(&file, SIDE_BY_SIDE_T, 1280, 720);
    check_colours(&sbs, SIDE_BY_SIDE_POINTS).expect("side by side");
    let pip = media::frame_at(&file, PIP_T, 1280, 720);
    check_colours(&pip, PIP_POINTS).expect("picture in picture");
    let audio = media::audio_between(&file, 2.0, 7.0);
    check_tones(&audio, &[440.0, 1000.0], 2500.0).expect("both participants heard");

    // The events, in order.
    check_events(&evs, id, &out);

    // The daemon still knows the stopped mixer.
    let after = c
        .get_cloud_mixer(GetCloudMixerRequest {
            mixer_id: id.into(),
        })
        .await
        .expect("Get after Destroy")
        .into_inner();
    assert_eq!(after.state, MixerState::Stopped as i32);
}

/// Ms from the mixer's Running event to its Stopping event: the time it recorded.
fn recorded_ms(evs: &[MixerEvent]) -> u64 {
    let at = |state: MixerState| {
        evs.iter()
            .find_map(|e| match &e.event {
                Some(Event::StateChanged(s)) if s.state == state as i32 => Some(e.unix_ms),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no {state:?} event: {evs:?}"))
    };
    u64::try_from(at(MixerState::Stopping) - at(MixerState::Running))
        .expect("Stopping after Running")
}

fn check_events(evs: &[MixerEvent], id: &str, last: &OutputInfo) {
    assert!(
        evs.windows(2).all(|w| w[1].seq > w[0].seq),
        "seq not increasing"
    );
    let mut states = Vec::new();
    let mut outputs: Vec<(usize, &OutputInfo)> = Vec::new();
    for ev in evs {
        match ev.event.as_ref().expect("event set") {
            Event::StateChanged(s) => {
                assert_eq!(s.mixer_id, id);
                assert_eq!(s.error_code, 0, "{s:?}");
                if s.state != MixerState::Idle as i32 {
                    states.push(s.state);
                }
            }
            Event::OutputInfoChanged(o) => {
                assert_eq!(o.mixer_id, id);
                outputs.push((states.len(), o.output_info.as_ref().expect("output_info")));
            }
            // Other kinds (WebRTC sources' connection changes) say nothing about the output.
            #[allow(unreachable_patterns)]
            _ => {}
        }
    }
    let want = [
        MixerState::Starting,
        MixerState::Running,
        MixerState::Stopping,
        MixerState::Stopped,
    ]
    .map(|s| s as i32);
    assert_eq!(states, want, "state sequence");
    // states.len() == 2 at an OutputInfoChanged: after Running, before Stopping.
    let running: Vec<&OutputInfo> = outputs
        .iter()
        .filter(|(n, _)| *n == 2)
        .map(|(_, o)| *o)
        .collect();
    assert!(
        running.len() >= MIN_RUNNING_OUTPUT_EVENTS,
        "{} OutputInfoChanged while running",
        running.len()
    );
    assert!(
        running
            .iter()
            .all(|o| o.status == OutputStatus::Recording as i32),
        "{running:?}"
    );
    assert!(running.last().unwrap().duration_ms >= 5000, "{running:?}");
    let all: Vec<&OutputInfo> = outputs.iter().map(|(_, o)| *o).collect();
    assert!(
        all.windows(2)
            .all(|w| w[1].duration_ms >= w[0].duration_ms && w[1].size_bytes >= w[0].size_bytes),
        "not monotonic: {all:?}"
    );
    let (n, fin) = outputs.last().expect("a final OutputInfoChanged");
    assert!(*n >= 3, "final output info before Stopping");
    assert_eq!(fin.status, OutputStatus::Finalized as i32);
    assert_eq!(
        (fin.duration_ms, fin.size_bytes),
        (last.duration_ms, last.size_bytes)
    );
}
