//! `--json` output: proto messages as JSON objects with proto3 JSON field names
//! (lowerCamelCase) and enum values by name. 64-bit integers are JSON numbers (not the
//! strings of canonical proto3 JSON) so that `jq` can do arithmetic on them.

use serde_json::{json, Value};

use crate::proto;

fn enum_name<E: TryFrom<i32>>(v: i32, name: impl Fn(E) -> &'static str) -> Value {
    E::try_from(v).map(|e| json!(name(e))).unwrap_or(json!(v))
}

/// `SourcePorts`.
pub fn source_ports(p: &proto::SourcePorts) -> Value {
    json!({
        "camid": p.camid,
        "rtpHost": p.rtp_host,
        "videoRtpPort": p.video_rtp_port,
        "videoRtcpPort": p.video_rtcp_port,
        "audioRtpPort": p.audio_rtp_port,
        "audioRtcpPort": p.audio_rtcp_port,
        "whipUrl": p.whip_url,
        "whipToken": p.whip_token,
    })
}

/// `OutputInfo`.
pub fn output_info(o: &proto::OutputInfo) -> Value {
    json!({
        "path": o.path,
        "absPath": o.abs_path,
        "durationMs": o.duration_ms,
        "sizeBytes": o.size_bytes,
        "status": enum_name(o.status, |s: proto::OutputStatus| s.as_str_name()),
        "errorCode": o.error_code,
        "errorMessage": o.error_message,
        "outputId": o.output_id,
        "kind": enum_name(o.kind, |k: proto::OutputKind| k.as_str_name()),
        "camid": o.camid,
        "media": enum_name(o.media, |m: proto::OutputMedia| m.as_str_name()),
        "container": o.container,
        "startUnixMs": o.start_unix_ms,
        "endUnixMs": o.end_unix_ms,
        "span": o.span,
    })
}

/// `RecordCfg`.
pub fn record_cfg(r: &proto::RecordCfg) -> Value {
    json!({
        "mode": enum_name(r.mode, |m: proto::RecordMode| m.as_str_name()),
        "recordAudio": r.record_audio,
        "recordVideo": r.record_video,
        "singleMedia": r.single_media.iter()
            .map(|m| enum_name(*m, |m: proto::SingleMedia| m.as_str_name()))
            .collect::<Vec<_>>(),
        "singleVideo": enum_name(r.single_video, |v: proto::SingleVideo| v.as_str_name()),
        "transcodeWidth": r.transcode_width,
        "transcodeHeight": r.transcode_height,
        "singleAudioContainer": enum_name(r.single_audio_container, |c: proto::AudioContainer| c.as_str_name()),
        "singlePathTemplate": r.single_path_template,
    })
}

fn region(r: &proto::LayoutRegion) -> Value {
    json!({
        "type": enum_name(r.r#type, |t: proto::ContentType| t.as_str_name()),
        "top": r.top,
        "left": r.left,
        "width": r.width,
        "height": r.height,
        "keepAspectRatio": r.keep_aspect_ratio,
        "zOrder": r.z_order,
        "param": { "camid": r.param.as_ref().map(|p| p.camid.as_str()).unwrap_or("") },
    })
}

/// `VideoFileCfg`.
pub fn video_file_cfg(c: &proto::VideoFileCfg) -> Value {
    json!({
        "svrPathName": c.svr_path_name,
        "vWidth": c.v_width,
        "vHeight": c.v_height,
        "vFps": c.v_fps,
        "vBps": c.v_bps,
        "aBps": c.a_bps,
        "backgroundColor": c.background_color,
        "speakingRingColor": c.speaking_ring_color,
        "regionBorderColor": c.region_border_color,
        "regionBorderPx": c.region_border_px,
        "loudnessTargetLufs": c.loudness_target_lufs,
        "snapshotIntervalSecs": c.snapshot_interval_secs,
        "livePushUrls": c.live_push_urls,
        "hlsSegmentSecs": c.hls_segment_secs,
        "layoutConfig": c.layout_config.iter().map(region).collect::<Vec<_>>(),
        "layoutPreset": c.layout_preset.as_ref().map(|p| json!({
            "name": p.name, "camids": p.camids, "keepAspectRatio": p.keep_aspect_ratio,
        })),
    })
}

fn source_stats(s: &proto::SourceStats) -> Value {
    json!({
        "camid": s.camid,
        "ports": s.ports.as_ref().map(source_ports),
        "videoCodec": enum_name(s.video_codec, |c: proto::VideoCodec| c.as_str_name()),
        "audioCodec": enum_name(s.audio_codec, |c: proto::AudioCodec| c.as_str_name()),
        "videoPackets": s.video_packets,
        "videoBytes": s.video_bytes,
        "audioPackets": s.audio_packets,
        "audioBytes": s.audio_bytes,
        "packetsLost": s.packets_lost,
        "packetsDropped": s.packets_dropped,
        "picturesOversized": s.pictures_oversized,
        "dropsParseError": s.drops_parse_error,
        "dropsPtSsrcMismatch": s.drops_pt_ssrc_mismatch,
        "dropsForeignAddress": s.drops_foreign_address,
        "dropsQueueFull": s.drops_queue_full,
        "dropsDecodeError": s.drops_decode_error,
        "dropsDuplicateOrLate": s.drops_duplicate_or_late,
        "keyframeRequests": s.keyframe_requests,
        "rtcpPackets": s.rtcp_packets,
        "videoFramesDecoded": s.video_frames_decoded,
        "audioFramesDecoded": s.audio_frames_decoded,
        "width": s.width,
        "height": s.height,
        "lastPacketUnixMs": s.last_packet_unix_ms,
    })
}

/// `MixerInfo`.
pub fn mixer_info(m: &proto::MixerInfo) -> Value {
    json!({
        "mixerId": m.mixer_id,
        "operUserId": m.oper_user_id,
        "state": enum_name(m.state, |s: proto::MixerState| s.as_str_name()),
        "videoFileCfg": m.video_file_cfg.as_ref().map(video_file_cfg),
        "output": m.output.as_ref().map(output_info),
        "outputs": m.outputs.iter().map(output_info).collect::<Vec<_>>(),
        "recordCfg": m.record_cfg.as_ref().map(record_cfg),
        "sources": m.sources.iter().map(source_stats).collect::<Vec<_>>(),
        "createdUnixMs": m.created_unix_ms,
        "errorCode": m.error_code,
        "errorMessage": m.error_message,
        "playoutDelayMs": m.playout_delay_ms,
        "staleTimeoutMs": m.stale_timeout_ms,
        "conferenceId": m.conference_id,
        "liveOutputs": m.live_outputs.iter().map(live_output).collect::<Vec<_>>(),
    })
}

/// `LiveOutputInfo`.
pub fn live_output(l: &proto::LiveOutputInfo) -> Value {
    json!({
        "index": l.index,
        "url": l.url,
        "state": enum_name(l.state, |s: proto::LivePushState| s.as_str_name()),
        "reconnects": l.reconnects,
        "bytesSent": l.bytes_sent,
        "packetsDropped": l.packets_dropped,
        "lastError": l.last_error,
    })
}

/// `CreateCloudMixerResponse`.
pub fn created(r: &proto::CreateCloudMixerResponse) -> Value {
    json!({
        "mixerId": r.mixer_id,
        "sourcePorts": r.source_ports.iter().map(source_ports).collect::<Vec<_>>(),
        "info": r.info.as_ref().map(mixer_info),
    })
}

/// `UpdateCloudMixerContentResponse`.
pub fn updated(r: &proto::UpdateCloudMixerContentResponse) -> Value {
    json!({
        "info": r.info.as_ref().map(mixer_info),
        "addedSourcePorts": r.added_source_ports.iter().map(source_ports).collect::<Vec<_>>(),
    })
}

/// `ListCloudMixersResponse`.
pub fn list(r: &proto::ListCloudMixersResponse) -> Value {
    json!({ "mixers": r.mixers.iter().map(mixer_info).collect::<Vec<_>>() })
}

/// `MixerEvent` (one line per event when printed compactly).
pub fn event(e: &proto::MixerEvent) -> Value {
    use proto::mixer_event::Event;
    let mut v = json!({ "seq": e.seq, "unixMs": e.unix_ms });
    match &e.event {
        Some(Event::StateChanged(c)) => {
            v["stateChanged"] = json!({
                "mixerId": c.mixer_id,
                "state": enum_name(c.state, |s: proto::MixerState| s.as_str_name()),
                "errorCode": c.error_code,
                "errorMessage": c.error_message,
                "operUserId": c.oper_user_id,
            });
        }
        Some(Event::OutputInfoChanged(o)) => {
            v["outputInfoChanged"] = json!({
                "mixerId": o.mixer_id,
                "outputInfo": o.output_info.as_ref().map(output_info),
            });
        }
        Some(Event::SourceStateChanged(c)) => {
            v["sourceStateChanged"] = json!({
                "mixerId": c.mixer_id,
                "camid": c.camid,
                "state": enum_name(c.state, |s: proto::SourceConnectionState| s.as_str_name()),
                "reason": c.reason,
            });
        }
        Some(Event::ActiveSpeakerChanged(a)) => {
            v["activeSpeakerChanged"] = json!({
                "mixerId": a.mixer_id,
                "camid": a.camid,
                "previousCamid": a.previous_camid,
                "levelDbfs": a.level_dbfs,
                "outputMs": a.output_ms,
            });
        }
        Some(Event::LiveOutputChanged(l)) => {
            v["liveOutputChanged"] = json!({
                "mixerId": l.mixer_id,
                "liveOutput": l.live_output.as_ref().map(live_output),
            });
        }
        None => {}
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_by_name_and_camel_case_fields() {
        let m = proto::MixerInfo {
            mixer_id: "m1".into(),
            state: proto::MixerState::Running as i32,
            output: Some(proto::OutputInfo {
                duration_ms: 5,
                status: proto::OutputStatus::Recording as i32,
                ..Default::default()
            }),
            ..Default::default()
        };
        let v = mixer_info(&m);
        assert_eq!(v["mixerId"], "m1");
        assert_eq!(v["state"], "MIXER_STATE_RUNNING");
        assert_eq!(v["output"]["status"], "OUTPUT_STATUS_RECORDING");
        assert_eq!(v["output"]["durationMs"], 5);
        assert_eq!(v["output"]["kind"], "OUTPUT_KIND_MIXED");
        assert_eq!(v["outputs"], json!([]));
        assert_eq!(v["recordCfg"], Value::Null);
        let e = event(&proto::MixerEvent {
            seq: 3,
            unix_ms: 4,
            event: Some(proto::mixer_event::Event::StateChanged(
                proto::StateChanged {
                    state: 42,
                    ..Default::default()
                },
            )),
        });
        assert_eq!(e["stateChanged"]["state"], 42);
    }
}
