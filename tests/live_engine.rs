//! The live engine without the gRPC layer: `LiveMixer` fed by two real ffmpeg RTP
//! publishers (VP8 red + 440 Hz, H.264 blue + 1000 Hz), a layout switch from side by side
//! to picture-in-picture, then stop. Checked by content.

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::time::Duration;

use cloudmixer::events::{EventBus, EventKind, MixerState, OutputStatus};
use cloudmixer::ingest::ports::PortPool;
use cloudmixer::layout::{Layout, Region};
use cloudmixer::mixer::LiveMixer;
use cloudmixer::model::{
    AudioCodec, ContentUpdate, MixerSpec, RtpStreamSpec, SourceSpec, VideoCodec,
};
use common::media::{audio_between, check_colours, check_tones, frame_at, probe};
use common::sender::{Codec, SenderSpec};
use common::spec;

fn region(camid: &str, left: u32, top: u32, width: u32, height: u32, z: Option<i32>) -> Region {
    Region {
        camid: camid.into(),
        top,
        left,
        width,
        height,
        keep_aspect_ratio: true,
        z_order: z,
        placeholder: None,
    }
}

fn source(camid: &str, codec: VideoCodec, pt: u8) -> SourceSpec {
    SourceSpec {
        camid: camid.into(),
        video: Some(RtpStreamSpec {
            codec,
            payload_type: pt,
            ssrc: None,
        }),
        audio: Some(RtpStreamSpec {
            codec: AudioCodec::Opus,
            payload_type: 111,
            ssrc: None,
        }),
        transport: Default::default(),
        ..Default::default()
    }
}

#[test]
fn live_mixer_records_two_rtp_senders_and_switches_layout() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    let dir = std::env::temp_dir().join(format!("cloudmixer-live-{}", std::process::id()));
    let out = dir.join("live.mp4");
    let bus = EventBus::new();
    let mut events = bus.subscribe();
    // Ports free now (not a fixed range another run or program may hold).
    let (first, last) = common::daemon::free_udp_range(common::daemon::DEFAULT_RTP_PORTS);
    let pool = PortPool::new(IpAddr::V4(Ipv4Addr::LOCALHOST), first, last);
    let spec = MixerSpec {
        mixer_id: "live-test".into(),
        conference_id: "live-test".into(),
        oper_user_id: "tester".into(),
        sources: vec![
            source("A", VideoCodec::Vp8, 96),
            source("B", VideoCodec::H264, 102),
        ],
        output: spec::engine_output("live.mp4", &out),
        layout: Layout {
            regions: vec![
                region("A", 0, 180, 640, 360, None),
                region("B", 640, 180, 640, 360, None),
            ],
        },
        layout_fill: Default::default(),
        playout_delay: Duration::from_millis(200),
        stale_timeout: Duration::from_millis(2_000),
        max_picture_pixels: cloudmixer::media::picture_size::DEFAULT_MAX_PICTURE_PIXELS,
        record: Default::default(),
    };
    let (mixer, ports) = LiveMixer::start(spec, &pool, bus.clone()).expect("mixer starts");
    let mut a = SenderSpec::solid(
        "red",
        Codec::Vp8,
        440,
        ports[0].video_rtp,
        ports[0].audio_rtp,
    );
    a.duration = Duration::from_secs(10);
    let mut b = SenderSpec::solid(
        "blue",
        Codec::H264,
        1000,
        ports[1].video_rtp,
        ports[1].audio_rtp,
    );
    b.duration = Duration::from_secs(10);
    let _sa = a.start();
    let _sb = b.start();
    // Paces the recording: the layout switches about 4 s into the file (checked at 2.5 s
    // and 6.5 s below); the decoded counts are then a check, not what is waited for.
    std::thread::sleep(Duration::from_secs(4));
    let snap = mixer.snapshot();
    assert!(
        snap.sources
            .iter()
            .all(|s| s.video_frames_decoded > 10 && s.audio_frames_decoded > 10),
        "{snap:?}"
    );
    mixer
        .update(
            ContentUpdate {
                layout: Some(Layout {
                    regions: vec![
                        region("A", 0, 0, 1280, 720, None),
                        region("B", 880, 495, 400, 225, Some(1)),
                    ],
                }),
                ..Default::default()
            },
            &pool,
        )
        .unwrap();
    // Paces the recording: 4 s of picture in picture.
    std::thread::sleep(Duration::from_secs(4));
    let info = mixer.stop();
    assert_eq!(info.status, OutputStatus::Finalized);

    let mut states = Vec::new();
    let mut at = std::collections::HashMap::new();
    while let Ok(e) = events.try_recv() {
        if let EventKind::StateChanged { state, .. } = e.kind {
            states.push(state);
            at.insert(state, e.unix_ms);
        }
    }
    // The file holds what the mixer recorded between its Running and Stopping events (its
    // own clock, not this test's sleeps): within one frame (67 ms) plus 30 ms for the
    // Running event following the mixer's time 0 (its threads' start) and the ms stamps.
    let recorded_ms = at[&MixerState::Stopping] - at[&MixerState::Running];
    assert!(
        (i64::try_from(info.duration_ms).unwrap() - recorded_ms).abs() <= 67 + 30,
        "duration {} ms, recorded {recorded_ms} ms (Running to Stopping)",
        info.duration_ms
    );
    assert_eq!(
        states,
        vec![
            MixerState::Starting,
            MixerState::Running,
            MixerState::Stopping,
            MixerState::Stopped
        ]
    );
    let p = probe(&out);
    assert_eq!(p.of_kind("video")[0].avg_frame_rate, "15/1");
    let f = frame_at(&out, 2.5, 1280, 720);
    check_colours(&f, spec::SIDE_BY_SIDE_POINTS).unwrap();
    let f = frame_at(&out, 6.5, 1280, 720);
    check_colours(&f, spec::PIP_POINTS).unwrap();
    check_tones(&audio_between(&out, 1.0, 7.0), &[440.0, 1000.0], 2500.0).unwrap();
    let _ = std::fs::remove_dir_all(PathBuf::from(&dir));
}
