//! Tests of engine -> proto conversions.

use std::path::PathBuf;

use super::*;
use crate::events::{OutputInfo, OutputStatus};
use crate::layout::Region;
use crate::mixer::{SourcePorts, SourceStats};
use crate::model::{Encoding, Rgb};

fn out_spec() -> OutputSpec {
    OutputSpec {
        rel_path: "a/b.mp4".into(),
        abs_path: PathBuf::from("/rec/a/b.mp4"),
        root: crate::model::RecordingsRoot::from_dir(
            cap_std::fs::Dir::open_ambient_dir(std::env::temp_dir(), cap_std::ambient_authority())
                .unwrap(),
            PathBuf::from("/rec"),
        ),
        encoding: Encoding {
            width: 1280,
            height: 720,
            fps: 15,
            video_bps: 1_500_000,
            audio_bps: 64_000,
            background: Rgb {
                r: 0x12,
                g: 0x34,
                b: 0x56,
            },
            speaking_ring: None,
            border: None,
            background_image: None,
            loudness_target_lufs: None,
        },
        encoder_threads: 0,
        x264_preset: "veryfast".into(),
        media: crate::model::OutputMedia::Av,
        snapshots: None,
        live_push_urls: Vec::new(),
        hls: None,
    }
}

fn output() -> OutputInfo {
    OutputInfo {
        duration_ms: 1234,
        size_bytes: 5678,
        status: OutputStatus::Finalized,
        ..OutputInfo::mixed(
            "a/b.mp4",
            "/rec/a/b.mp4",
            crate::model::OutputMedia::Av,
            "mp4",
        )
    }
}

fn layout() -> Layout {
    Layout {
        regions: vec![Region {
            camid: "Usr1.-1".into(),
            top: 180,
            left: 640,
            width: 640,
            height: 360,
            keep_aspect_ratio: true,
            z_order: Some(2),
            placeholder: None,
        }],
    }
}

#[test]
fn mixer_info_carries_snapshot_and_effective_cfg() {
    let ports = SourcePorts {
        whip_url: String::new(),
        whip_token: String::new(),
        video_rtp: 40000,
        video_rtcp: 40001,
        audio_rtp: 40002,
        audio_rtcp: 40003,
    };
    let snap = MixerSnapshot {
        state: MixerState::Running,
        error_code: 0,
        error_message: String::new(),
        output: output(),
        singles: Vec::new(),
        sources: vec![SourceStats {
            camid: "Usr1.-1".into(),
            ports,
            video_codec: Some(VideoCodec::Vp8),
            audio_codec: Some(AudioCodec::Opus),
            video_packets: 10,
            width: 640,
            height: 360,
            ..Default::default()
        }],
        layout: layout(),
        live_outputs: Vec::new(),
    };
    let spec = out_spec();
    let info = mixer_info(
        InfoParts {
            conference_id: "conf",
            mixer_id: "m1",
            oper_user_id: "alice",
            created_unix_ms: 42,
            playout_delay_ms: 200,
            stale_timeout_ms: 1500,
            output: &spec,
            record: &crate::model::RecordSpec::default(),
            rtp_host: "127.0.0.1".parse().unwrap(),
        },
        &snap,
    );
    assert_eq!(info.mixer_id, "m1");
    assert_eq!(info.state, proto::MixerState::Running as i32);
    assert_eq!(info.created_unix_ms, 42);
    assert_eq!(info.playout_delay_ms, 200);
    assert_eq!(info.stale_timeout_ms, 1500);
    let cfg = info.video_file_cfg.unwrap();
    assert_eq!(cfg.svr_path_name, "a/b.mp4");
    assert_eq!((cfg.v_width, cfg.v_height, cfg.v_fps), (1280, 720, 15));
    assert_eq!(cfg.background_color, "#123456");
    assert!(cfg.layout_preset.is_none());
    let r = &cfg.layout_config[0];
    assert_eq!((r.top, r.left, r.width, r.height), (180, 640, 640, 360));
    assert_eq!(r.z_order, Some(2));
    assert_eq!(r.param.as_ref().unwrap().camid, "Usr1.-1");
    let out = info.output.unwrap();
    assert_eq!(out.status, proto::OutputStatus::Finalized as i32);
    assert_eq!((out.duration_ms, out.size_bytes), (1234, 5678));
    assert_eq!(out.abs_path, "/rec/a/b.mp4");
    let s = &info.sources[0];
    assert_eq!(s.video_codec, proto::VideoCodec::Vp8 as i32);
    assert_eq!(s.audio_codec, proto::AudioCodec::Opus as i32);
    let p = s.ports.as_ref().unwrap();
    assert_eq!((p.video_rtp_port, p.audio_rtcp_port), (40000, 40003));
    assert_eq!(p.camid, "Usr1.-1");
    assert_eq!(p.rtp_host, "127.0.0.1");
}

#[test]
fn states_and_statuses_map_one_to_one() {
    let pairs = [
        (MixerState::Idle, proto::MixerState::Idle),
        (MixerState::Starting, proto::MixerState::Starting),
        (MixerState::Running, proto::MixerState::Running),
        (MixerState::Stopping, proto::MixerState::Stopping),
        (MixerState::Stopped, proto::MixerState::Stopped),
        (MixerState::Error, proto::MixerState::Error),
        (MixerState::Interrupted, proto::MixerState::Interrupted),
    ];
    assert_eq!(pairs.len(), MixerState::ALL.len());
    for (e, p) in pairs {
        assert_eq!(mixer_state(e), p);
    }
    assert_eq!(
        output_status(OutputStatus::Failed),
        proto::OutputStatus::Failed
    );
    assert_eq!(video_codec(None), proto::VideoCodec::Unspecified);
    assert_eq!(video_codec(Some(VideoCodec::H264)), proto::VideoCodec::H264);
}

#[test]
fn events_map_to_the_oneof() {
    use proto::mixer_event::Event;
    let e = events::MixerEvent {
        seq: 7,
        unix_ms: 99,
        mixer_id: "m1".into(),
        kind: EventKind::StateChanged {
            state: MixerState::Error,
            error_code: 3,
            error_message: "boom".into(),
            oper_user_id: "bob".into(),
        },
    };
    let p = mixer_event(&e);
    assert_eq!((p.seq, p.unix_ms), (7, 99));
    match p.event {
        Some(Event::StateChanged(s)) => {
            assert_eq!(s.mixer_id, "m1");
            assert_eq!(s.state, proto::MixerState::Error as i32);
            assert_eq!((s.error_code, s.error_message.as_str()), (3, "boom"));
            assert_eq!(s.oper_user_id, "bob");
        }
        other => panic!("unexpected {other:?}"),
    }
    let e = events::MixerEvent {
        kind: EventKind::OutputInfoChanged(output()),
        ..e
    };
    match mixer_event(&e).event {
        Some(Event::OutputInfoChanged(o)) => {
            assert_eq!(o.mixer_id, "m1");
            assert_eq!(o.output_info.unwrap().duration_ms, 1234);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn effective_cfg_round_trips_through_validation() {
    let cfg = video_file_cfg(&out_spec(), &layout());
    let enc = crate::request::validate::output::encoding(&cfg, "video_file_cfg").unwrap();
    assert_eq!((enc.width, enc.height, enc.fps), (1280, 720, 15));
    assert_eq!(enc.background, out_spec().encoding.background);
    let canvas = crate::request::validate::Canvas {
        width: 1280,
        height: 720,
        background: out_spec().encoding.background,
    };
    let none = crate::request::validate::layout::LayoutSources::default();
    let l =
        crate::request::validate::layout::regions(&cfg.layout_config, "x", canvas, &none).unwrap();
    assert_eq!(l, layout());
}
