//! Requests and expectations shared by the tests: the Cloudroom example layouts
//! (1280x720 side by side at top=180, and picture-in-picture with a 400x225 tile at
//! 880,495) and the colours a correct mix shows at sample points of each.

use cloudmixer::proto::{
    AudioCodec, CreateCloudMixerRequest, LayoutRegion, RegionParam, RtpAudio, RtpVideo,
    SourceConfig, VideoCodec, VideoFileCfg,
};

use super::media::{ColourAt, BLACK, BLUE, RED};

/// Two sources side by side, `camids` .0 VP8 (PT 96) and .1 H.264 (PT 102), both with
/// Opus, recorded to `path` with `record_cfg`.
pub fn duo_request(
    id: &str,
    camids: (&str, &str),
    path: &str,
    record_cfg: Option<cloudmixer::proto::RecordCfg>,
) -> CreateCloudMixerRequest {
    let (a, b) = camids;
    CreateCloudMixerRequest {
        conference_id: String::new(),
        record_cfg,
        ..create_request(
            id,
            vec![
                source(a, Some((VideoCodec::Vp8, 96)), true),
                source(b, Some((VideoCodec::H264, 102)), true),
            ],
            side_by_side(a, b),
            path,
        )
    }
}

/// A source with the given video codec/PT (None = audio only) and Opus PT 111 if `audio`.
pub fn source(camid: &str, video: Option<(VideoCodec, u32)>, audio: bool) -> SourceConfig {
    SourceConfig {
        content_type: 0,
        host: false,
        camid: camid.into(),
        video: video.map(|(codec, pt)| RtpVideo {
            codec: codec as i32,
            payload_type: pt,
            ssrc: None,
        }),
        audio: audio.then_some(RtpAudio {
            codec: AudioCodec::Opus as i32,
            payload_type: 111,
            ssrc: None,
        }),
        // Plain RTP (the default transport).
        ..Default::default()
    }
}

/// A region showing `camid`, keep_aspect_ratio true, z_order unset.
pub fn region(camid: &str, left: i32, top: i32, width: i32, height: i32) -> LayoutRegion {
    LayoutRegion {
        r#type: 0,
        top,
        left,
        width,
        height,
        keep_aspect_ratio: true,
        z_order: None,
        placeholder_image: Vec::new(),
        param: Some(RegionParam {
            camid: camid.into(),
        }),
    }
}

/// Cloudroom's CreateCloudMixer example: two 640x360 tiles side by side at top=180.
pub fn side_by_side(a: &str, b: &str) -> Vec<LayoutRegion> {
    vec![region(a, 0, 180, 640, 360), region(b, 640, 180, 640, 360)]
}

/// Cloudroom's UpdateCloudMixerContent example: `a` full canvas, `b` 400x225 at 880,495 on top.
pub fn picture_in_picture(a: &str, b: &str) -> Vec<LayoutRegion> {
    let mut small = region(b, 880, 495, 400, 225);
    small.z_order = Some(1);
    vec![region(a, 0, 0, 1280, 720), small]
}

/// A 1280x720@15 request with explicit regions, output `path` (relative).
pub fn create_request(
    mixer_id: &str,
    sources: Vec<SourceConfig>,
    layout: Vec<LayoutRegion>,
    path: &str,
) -> CreateCloudMixerRequest {
    CreateCloudMixerRequest {
        conference_id: String::new(),
        record_cfg: None,
        mixer_id: mixer_id.into(),
        oper_user_id: "e2e".into(),
        sources,
        video_file_cfg: Some(VideoFileCfg {
            svr_path_name: path.into(),
            v_width: 1280,
            v_height: 720,
            v_fps: 15,
            v_bps: 0,
            background_color: String::new(),
            layout_config: layout,
            layout_preset: None,
            a_bps: 0,
            speaking_ring_color: String::new(),
            region_border_color: String::new(),
            region_border_px: 0,
            background_image: Vec::new(),
            loudness_target_lufs: 0,
            snapshot_interval_secs: 0,
            live_push_urls: Vec::new(),
            hls_segment_secs: 0,
        }),
        playout_delay_ms: 0,
        stale_timeout_ms: 0,
    }
}

/// Side by side, A red and B blue: tile centres, and the black bands above and below.
pub const SIDE_BY_SIDE_POINTS: &[ColourAt] = &[
    ColourAt {
        what: "left tile (A) centre",
        x: 320,
        y: 360,
        rgb: RED,
    },
    ColourAt {
        what: "right tile (B) centre",
        x: 960,
        y: 360,
        rgb: BLUE,
    },
    ColourAt {
        what: "top band",
        x: 640,
        y: 90,
        rgb: BLACK,
    },
    ColourAt {
        what: "bottom band",
        x: 640,
        y: 630,
        rgb: BLACK,
    },
];

/// Picture in picture, A red full canvas, B blue small tile at 880,495 400x225.
pub const PIP_POINTS: &[ColourAt] = &[
    ColourAt {
        what: "canvas centre (A)",
        x: 640,
        y: 360,
        rgb: RED,
    },
    ColourAt {
        what: "top-left area (A)",
        x: 100,
        y: 90,
        rgb: RED,
    },
    ColourAt {
        what: "small tile (B) centre",
        x: 1080,
        y: 607,
        rgb: BLUE,
    },
];

/// The engine's output for `rel_path` at `abs_path`: 1280x720 @ 15 fps, 1 Mbit/s H.264,
/// 64 kbit/s AAC, black background, one x264 thread, veryfast (for engine-level tests
/// that bypass the gRPC validation). The recordings root is `abs_path`'s directory,
/// created if missing and opened here.
pub fn engine_output(rel_path: &str, abs_path: &std::path::Path) -> cloudmixer::model::OutputSpec {
    let dir = abs_path.parent().expect("abs_path has a directory");
    std::fs::create_dir_all(dir).expect("create the output's directory");
    cloudmixer::model::OutputSpec {
        rel_path: rel_path.into(),
        abs_path: abs_path.to_owned(),
        root: cloudmixer::model::RecordingsRoot::open(dir).expect("open the output's directory"),
        encoding: cloudmixer::model::Encoding {
            width: 1280,
            height: 720,
            fps: 15,
            video_bps: 1_000_000,
            audio_bps: 64_000,
            background: cloudmixer::model::Rgb::default(),
            speaking_ring: None,
            border: None,
            background_image: None,
            loudness_target_lufs: None,
        },
        encoder_threads: 1,
        x264_preset: "veryfast".into(),
        media: cloudmixer::model::OutputMedia::Av,
        snapshots: None,
        live_push_urls: Vec::new(),
        hls: None,
    }
}
