//! Engine -> proto conversions: snapshots, output info, ports, statistics and events.
//!
//! Pure and total: every engine value has a proto form. Pixel values above `i32::MAX`
//! (impossible after validation) saturate.

use std::net::IpAddr;

use crate::events::{self, EventKind, MixerState, SourceConnectionState};
use crate::layout::Layout;
use crate::mixer::{self, MixerSnapshot};
use crate::model::{AudioCodec, OutputSpec, RecordSpec, VideoCodec};
use crate::proto;
use crate::request::convert::record_cfg;
pub use crate::request::convert::{output_info, output_status};

/// Proto form of a lifecycle state.
pub fn mixer_state(s: MixerState) -> proto::MixerState {
    match s {
        MixerState::Idle => proto::MixerState::Idle,
        MixerState::Starting => proto::MixerState::Starting,
        MixerState::Running => proto::MixerState::Running,
        MixerState::Stopping => proto::MixerState::Stopping,
        MixerState::Stopped => proto::MixerState::Stopped,
        MixerState::Error => proto::MixerState::Error,
        MixerState::Interrupted => proto::MixerState::Interrupted,
    }
}

/// Proto form of the ports of source `camid`, bound on `rtp_host`.
pub fn source_ports(camid: &str, p: &mixer::SourcePorts, rtp_host: IpAddr) -> proto::SourcePorts {
    proto::SourcePorts {
        camid: camid.to_owned(),
        rtp_host: rtp_host.to_string(),
        video_rtp_port: p.video_rtp.into(),
        video_rtcp_port: p.video_rtcp.into(),
        audio_rtp_port: p.audio_rtp.into(),
        audio_rtcp_port: p.audio_rtcp.into(),
        whip_url: p.whip_url.clone(),
        whip_token: p.whip_token.clone(),
    }
}

/// Proto form of a transport name ("rtp", "whip", "whep").
pub fn transport(name: &str) -> proto::SourceTransport {
    match name {
        "whip" => proto::SourceTransport::Whip,
        "whep" => proto::SourceTransport::Whep,
        _ => proto::SourceTransport::Rtp,
    }
}

/// Proto form of a WebRTC connection state (None -> UNSPECIFIED).
pub fn connection_state(s: Option<SourceConnectionState>) -> proto::SourceConnectionState {
    match s {
        None => proto::SourceConnectionState::Unspecified,
        Some(SourceConnectionState::Connected) => proto::SourceConnectionState::Connected,
        Some(SourceConnectionState::Disconnected) => proto::SourceConnectionState::Disconnected,
        Some(SourceConnectionState::Reconnecting) => proto::SourceConnectionState::Reconnecting,
        Some(SourceConnectionState::Failed) => proto::SourceConnectionState::Failed,
    }
}

/// Proto form of a video codec (None -> UNSPECIFIED).
pub fn video_codec(c: Option<VideoCodec>) -> proto::VideoCodec {
    match c {
        None => proto::VideoCodec::Unspecified,
        Some(VideoCodec::Vp8) => proto::VideoCodec::Vp8,
        Some(VideoCodec::H264) => proto::VideoCodec::H264,
    }
}

/// Proto form of an audio codec (None -> UNSPECIFIED).
pub fn audio_codec(c: Option<AudioCodec>) -> proto::AudioCodec {
    match c {
        None => proto::AudioCodec::Unspecified,
        Some(AudioCodec::Opus) => proto::AudioCodec::Opus,
    }
}

/// Proto form of one source's counters; its ports are bound on `rtp_host`.
pub fn source_stats(s: &mixer::SourceStats, rtp_host: IpAddr) -> proto::SourceStats {
    proto::SourceStats {
        camid: s.camid.clone(),
        ports: Some(source_ports(&s.camid, &s.ports, rtp_host)),
        video_packets: s.video_packets,
        video_bytes: s.video_bytes,
        audio_packets: s.audio_packets,
        audio_bytes: s.audio_bytes,
        packets_lost: s.packets_lost,
        packets_dropped: s.packets_dropped,
        keyframe_requests: s.keyframe_requests,
        rtcp_packets: s.rtcp_packets,
        audio_samples_late: s.audio_samples_late,
        audio_frames_concealed: s.audio_frames_concealed,
        pictures_oversized: s.pictures_oversized,
        drops_parse_error: s.drops_parse_error,
        drops_pt_ssrc_mismatch: s.drops_pt_ssrc_mismatch,
        drops_foreign_address: s.drops_foreign_address,
        drops_queue_full: s.drops_queue_full,
        drops_decode_error: s.drops_decode_error,
        drops_duplicate_or_late: s.drops_duplicate_or_late,
        video_frames_decoded: s.video_frames_decoded,
        audio_frames_decoded: s.audio_frames_decoded,
        width: s.width,
        height: s.height,
        last_packet_unix_ms: s.last_packet_unix_ms,
        video_codec: video_codec(s.video_codec) as i32,
        audio_codec: audio_codec(s.audio_codec) as i32,
        transport: transport(&s.transport) as i32,
        connection_state: connection_state(s.connection) as i32,
        gain_db: s.mix.db(),
        muted: s.mix.muted,
        audio_level_dbfs: s.audio_level_centi_dbfs as f32 / 100.0,
    }
}

fn px(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// The regions of `layout` as `layout_config`. Placeholder pictures are not echoed
/// (`placeholder_image` empty): they would make every Get as large as the pictures.
pub fn layout_regions(layout: &Layout) -> Vec<proto::LayoutRegion> {
    layout
        .regions
        .iter()
        .map(|r| proto::LayoutRegion {
            r#type: proto::ContentType::Video as i32,
            top: px(r.top),
            left: px(r.left),
            width: px(r.width),
            height: px(r.height),
            keep_aspect_ratio: r.keep_aspect_ratio,
            z_order: r.z_order,
            param: Some(proto::RegionParam {
                camid: r.camid.clone(),
            }),
            placeholder_image: Vec::new(),
        })
        .collect()
}

/// The effective `video_file_cfg` of a mixer: defaults applied, the layout in force as
/// explicit `layout_config` (presets resolved), `layout_preset` unset. Sending it back
/// in a request reproduces the same output settings, but for `background_image`, which
/// is left empty (the daemon keeps the decoded picture, not its bytes).
pub fn video_file_cfg(out: &OutputSpec, layout: &Layout) -> proto::VideoFileCfg {
    proto::VideoFileCfg {
        svr_path_name: out.rel_path.clone(),
        v_width: out.encoding.width,
        v_height: out.encoding.height,
        v_fps: out.encoding.fps,
        v_bps: out.encoding.video_bps,
        background_color: out.encoding.background.to_hex(),
        layout_config: layout_regions(layout),
        layout_preset: None,
        a_bps: out.encoding.audio_bps,
        speaking_ring_color: out
            .encoding
            .speaking_ring
            .map(|c| c.to_hex())
            .unwrap_or_default(),
        region_border_color: out
            .encoding
            .border
            .map(|b| b.colour.to_hex())
            .unwrap_or_default(),
        region_border_px: out.encoding.border.map_or(0, |b| b.px),
        // Not echoed: the daemon keeps the decoded picture, not the bytes.
        background_image: Vec::new(),
        loudness_target_lufs: out.encoding.loudness_target_lufs.unwrap_or(0),
        snapshot_interval_secs: out.snapshots.as_ref().map_or(0, |s| s.interval_s),
        hls_segment_secs: out.hls.as_ref().map_or(0, |h| h.segment_s),
        // Shown without their stream keys.
        live_push_urls: out
            .live_push_urls
            .iter()
            .map(|u| crate::output::push::redact(u))
            .collect(),
    }
}

/// What a [`proto::MixerInfo`] is built from besides the engine snapshot.
#[derive(Debug, Clone, Copy)]
pub struct InfoParts<'a> {
    pub mixer_id: &'a str,
    pub conference_id: &'a str,
    pub oper_user_id: &'a str,
    /// Unix ms.
    pub created_unix_ms: i64,
    /// ms.
    pub playout_delay_ms: u32,
    /// ms.
    pub stale_timeout_ms: u32,
    pub output: &'a OutputSpec,
    pub record: &'a RecordSpec,
    /// Where the sources' UDP ports are bound.
    pub rtp_host: IpAddr,
}

/// Proto [`proto::MixerInfo`] of one mixer at the instant of `snap`.
pub fn mixer_info(parts: InfoParts<'_>, snap: &MixerSnapshot) -> proto::MixerInfo {
    proto::MixerInfo {
        mixer_id: parts.mixer_id.to_owned(),
        oper_user_id: parts.oper_user_id.to_owned(),
        state: mixer_state(snap.state) as i32,
        video_file_cfg: Some(video_file_cfg(parts.output, &snap.layout)),
        output: parts.record.mode.mixed().then(|| output_info(&snap.output)),
        outputs: parts
            .record
            .mode
            .mixed()
            .then_some(&snap.output)
            .into_iter()
            .chain(&snap.singles)
            .map(output_info)
            .collect(),
        record_cfg: Some(record_cfg(parts.record)),
        sources: snap
            .sources
            .iter()
            .map(|s| source_stats(s, parts.rtp_host))
            .collect(),
        created_unix_ms: parts.created_unix_ms,
        error_code: snap.error_code,
        error_message: snap.error_message.clone(),
        playout_delay_ms: parts.playout_delay_ms,
        stale_timeout_ms: parts.stale_timeout_ms,
        conference_id: parts.conference_id.to_owned(),
        live_outputs: snap.live_outputs.iter().map(live_output_info).collect(),
    }
}

/// Proto form of a live push's state.
pub fn live_output_info(l: &events::LiveOutputInfo) -> proto::LiveOutputInfo {
    use events::LivePushState as S;
    let state = match l.state {
        S::Connecting => proto::LivePushState::Connecting,
        S::Live => proto::LivePushState::Live,
        S::Reconnecting => proto::LivePushState::Reconnecting,
        S::Stopped => proto::LivePushState::Stopped,
    };
    proto::LiveOutputInfo {
        index: l.index,
        url: l.url.clone(),
        state: state as i32,
        reconnects: l.reconnects,
        bytes_sent: l.bytes_sent,
        packets_dropped: l.packets_dropped,
        last_error: l.last_error.clone(),
    }
}

/// Proto form of a bus event.
pub fn mixer_event(e: &events::MixerEvent) -> proto::MixerEvent {
    use proto::mixer_event::Event;
    let event = match &e.kind {
        EventKind::StateChanged {
            state,
            error_code,
            error_message,
            oper_user_id,
        } => Event::StateChanged(proto::StateChanged {
            mixer_id: e.mixer_id.clone(),
            state: mixer_state(*state) as i32,
            error_code: *error_code,
            error_message: error_message.clone(),
            oper_user_id: oper_user_id.clone(),
        }),
        EventKind::OutputInfoChanged(o) => Event::OutputInfoChanged(proto::OutputInfoChanged {
            mixer_id: e.mixer_id.clone(),
            output_info: Some(output_info(o)),
        }),
        EventKind::UploadChanged { output, upload } => {
            let mut info = output_info(output);
            info.upload = Some(crate::request::convert::upload_info(upload));
            Event::OutputInfoChanged(proto::OutputInfoChanged {
                mixer_id: e.mixer_id.clone(),
                output_info: Some(info),
            })
        }
        EventKind::LiveOutputChanged(l) => Event::LiveOutputChanged(proto::LiveOutputChanged {
            mixer_id: e.mixer_id.clone(),
            live_output: Some(live_output_info(l)),
        }),
        EventKind::SourceStateChanged {
            camid,
            state,
            reason,
        } => Event::SourceStateChanged(proto::SourceStateChanged {
            mixer_id: e.mixer_id.clone(),
            camid: camid.clone(),
            state: connection_state(Some(*state)) as i32,
            reason: reason.clone(),
        }),
        EventKind::ActiveSpeakerChanged {
            camid,
            previous_camid,
            level_centi_dbfs,
            output_ms,
        } => Event::ActiveSpeakerChanged(proto::ActiveSpeakerChanged {
            mixer_id: e.mixer_id.clone(),
            camid: camid.clone(),
            previous_camid: previous_camid.clone(),
            level_dbfs: *level_centi_dbfs as f32 / 100.0,
            output_ms: *output_ms,
        }),
    };
    proto::MixerEvent {
        seq: e.seq,
        unix_ms: e.unix_ms,
        event: Some(event),
    }
}

#[cfg(test)]
#[path = "convert_tests.rs"]
mod tests;

/// The presets of `set` as ListPresets returns them, in the set's order.
pub fn preset_infos(set: &crate::layout::preset::PresetSet) -> Vec<proto::PresetInfo> {
    set.presets()
        .iter()
        .map(|p| proto::PresetInfo {
            name: p.name.clone(),
            description: p.description.clone(),
            canvas_width: p.canvas_width,
            canvas_height: p.canvas_height,
            tiles: p
                .regions
                .iter()
                .map(|r| proto::PresetTile {
                    top: r.top,
                    left: r.left,
                    width: r.width,
                    height: r.height,
                    keep_aspect_ratio: r.keep_aspect_ratio,
                    z_order: r.z_order,
                })
                .collect(),
        })
        .collect()
}
