//! One test per validation rule: the error names the field (`"{field}: {message}"`).
//! Shared fixtures here; the tests are grouped by the validator they exercise.

use std::path::PathBuf;

pub(super) use super::*;
pub(super) use crate::model::{
    Rgb, DEFAULT_AUDIO_BPS, DEFAULT_PLAYOUT_DELAY_MS, DEFAULT_STALE_TIMEOUT_MS, DEFAULT_VIDEO_BPS,
};

/// A real directory handle (the system temp dir, never written: validation is pure)
/// reported as `/rec`.
pub(super) fn test_root() -> crate::model::RecordingsRoot {
    let dir =
        cap_std::fs::Dir::open_ambient_dir(std::env::temp_dir(), cap_std::ambient_authority())
            .expect("open the temp dir");
    crate::model::RecordingsRoot::from_dir(dir, PathBuf::from("/rec"))
}

pub(super) fn defaults() -> OutputDefaults {
    OutputDefaults {
        recordings_root: test_root(),
        x264_preset: "veryfast".into(),
        encoder_threads: 0,
        max_picture_pixels: crate::model::DEFAULT_MAX_PICTURE_PIXELS,
        single_path_template: crate::model::record::DEFAULT_SINGLE_PATH_TEMPLATE.to_owned(),
    }
}

pub(super) fn src(camid: &str) -> proto::SourceConfig {
    proto::SourceConfig {
        display_name: String::new(),
        transport: 0,
        whep: None,
        content_type: 0,
        host: false,
        camid: camid.into(),
        video: Some(proto::RtpVideo {
            codec: proto::VideoCodec::Vp8 as i32,
            payload_type: 96,
            ssrc: None,
        }),
        audio: Some(proto::RtpAudio {
            codec: proto::AudioCodec::Opus as i32,
            payload_type: 111,
            ssrc: Some(5),
        }),
        gain_db: 0.0,
        muted: false,
    }
}

pub(super) fn region(
    camid: &str,
    top: i32,
    left: i32,
    width: i32,
    height: i32,
) -> proto::LayoutRegion {
    proto::LayoutRegion {
        r#type: 0,
        top,
        left,
        width,
        height,
        keep_aspect_ratio: true,
        z_order: None,
        placeholder_image: Vec::new(),
        param: Some(proto::RegionParam {
            camid: camid.into(),
        }),
    }
}

/// Cloudroom's example: 1280x720 at 15 fps, two 640x360 tiles side by side at top=180.
/// A layout kept as given whatever joins or leaves.
pub(super) static FIXED: LayoutFill = LayoutFill::Fixed;

/// What an update is checked against: the 1280x720 canvas of [`req`] and `sources`, a
/// layout kept as given ([`FIXED`]).
pub(super) fn current(sources: &[SourceSpec]) -> Current<'_> {
    Current {
        canvas: Canvas {
            width: 1280,
            height: 720,
            background: Rgb::default(),
        },
        sources,
        layout_fill: &FIXED,
    }
}

pub(super) fn req() -> proto::CreateCloudMixerRequest {
    proto::CreateCloudMixerRequest {
        mixer_id: "m1".into(),
        oper_user_id: "alice".into(),
        conference_id: String::new(),
        sources: vec![src("Usr1.-1"), src("Usr2.-1")],
        record_cfg: None,
        video_file_cfg: Some(proto::VideoFileCfg {
            svr_path_name: "2021-09-24/meeting.mp4".into(),
            v_width: 1280,
            v_height: 720,
            v_fps: 15,
            layout_config: vec![
                region("Usr1.-1", 180, 0, 640, 360),
                region("Usr2.-1", 180, 640, 640, 360),
            ],
            ..Default::default()
        }),
        playout_delay_ms: 0,
        stale_timeout_ms: 0,
    }
}

pub(super) fn cfg(r: &mut proto::CreateCloudMixerRequest) -> &mut proto::VideoFileCfg {
    r.video_file_cfg.as_mut().unwrap()
}

/// Asserts that `r` fails with INVALID_ARGUMENT and a message starting with `prefix`.
#[track_caller]
pub(super) fn rejects(r: proto::CreateCloudMixerRequest, prefix: &str) {
    let e = create_request(&r, &defaults()).expect_err("request should be rejected");
    let message = e.to_string();
    assert!(
        message.starts_with(prefix),
        "message {message:?} should start with {prefix:?}"
    );
}

mod content;
mod layout;
mod output;
mod placeholder;
mod refill;
mod source;
mod strings;
mod update;
