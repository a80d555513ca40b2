//! Human-readable printing of responses and events (the `--json` forms are in
//! [`crate::cli::json`]). Functions return strings so they can be tested.

use std::fmt::Write as _;
use std::net::IpAddr;

use crate::proto;

/// Name of a proto enum value without its type prefix, e.g. `RUNNING`.
fn short(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix).unwrap_or(name).to_owned()
}

/// `RUNNING`, `STOPPED`, ...
pub fn state(v: i32) -> String {
    proto::MixerState::try_from(v)
        .map(|s| short(s.as_str_name(), "MIXER_STATE_"))
        .unwrap_or_else(|_| v.to_string())
}

/// `RECORDING`, `FINALIZED`, ...
pub fn status(v: i32) -> String {
    proto::OutputStatus::try_from(v)
        .map(|s| short(s.as_str_name(), "OUTPUT_STATUS_"))
        .unwrap_or_else(|_| v.to_string())
}

/// `12.345 s`.
pub fn duration(ms: u64) -> String {
    format!("{}.{:03} s", ms / 1000, ms % 1000)
}

/// `1234567 B (1.2 MB)`.
pub fn size(bytes: u64) -> String {
    if bytes < 1_000_000 {
        format!("{bytes} B")
    } else {
        format!(
            "{bytes} B ({}.{} MB)",
            bytes / 1_000_000,
            bytes % 1_000_000 / 100_000
        )
    }
}

/// Unix ms as UTC `2021-09-24T13:47:41.123Z`; 0 as `-`.
pub fn unix_ms(ms: i64) -> String {
    if ms == 0 {
        return "-".into();
    }
    let (secs, milli) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        sod / 3600,
        sod / 60 % 60,
        sod % 60
    )
}

/// Host to print for RTP ports: the daemon's bind address, or `fallback` (the host of
/// `--server`) when it binds every interface or did not say.
pub fn rtp_host(p: &proto::SourcePorts, fallback: &str) -> String {
    match p.rtp_host.parse::<IpAddr>() {
        Ok(ip) if !ip.is_unspecified() => match ip {
            IpAddr::V6(_) => format!("[{ip}]"),
            IpAddr::V4(_) => ip.to_string(),
        },
        _ => fallback.to_owned(),
    }
}

/// `Usr1.-1  video rtp 127.0.0.1:40000 (rtcp 40001)  audio rtp 127.0.0.1:40002 (rtcp 40003)`.
pub fn ports_line(p: &proto::SourcePorts, fallback_host: &str) -> String {
    let host = rtp_host(p, fallback_host);
    let mut s = p.camid.clone();
    if p.video_rtp_port != 0 {
        let _ = write!(
            s,
            "  video rtp {host}:{} (rtcp {})",
            p.video_rtp_port, p.video_rtcp_port
        );
    }
    if p.audio_rtp_port != 0 {
        let _ = write!(
            s,
            "  audio rtp {host}:{} (rtcp {})",
            p.audio_rtp_port, p.audio_rtcp_port
        );
    }
    if !p.whip_url.is_empty() {
        let _ = write!(s, "  whip {} (bearer token {})", p.whip_url, p.whip_token);
    }
    s
}

/// `path  RECORDING  12.345 s  1234 B` plus the error, if any.
pub fn output_info(o: &proto::OutputInfo) -> String {
    let mut s = format!(
        "{}  {}  {}  {}",
        o.path,
        status(o.status),
        duration(o.duration_ms),
        size(o.size_bytes)
    );
    if o.error_code != 0 || !o.error_message.is_empty() {
        let _ = write!(s, "  error {}: {}", o.error_code, o.error_message);
    }
    s
}

/// `[mixed av mp4]` or `[single Usr1.-1 audio aac span 2 from T to T]`, then
/// [`output_info`].
pub fn output_entry(o: &proto::OutputInfo) -> String {
    let kind = proto::OutputKind::try_from(o.kind)
        .map(|k| short(k.as_str_name(), "OUTPUT_KIND_").to_lowercase())
        .unwrap_or_else(|_| o.kind.to_string());
    let media = proto::OutputMedia::try_from(o.media)
        .map(|k| short(k.as_str_name(), "OUTPUT_MEDIA_").to_lowercase())
        .unwrap_or_else(|_| o.media.to_string());
    let mut s = format!("[{kind}");
    if !o.camid.is_empty() {
        let _ = write!(s, " {}", o.camid);
    }
    let _ = write!(s, " {media} {}", o.container);
    if o.span != 0 {
        let _ = write!(s, " span {}", o.span);
    }
    if o.start_unix_ms != 0 {
        let _ = write!(s, " from {}", unix_ms(o.start_unix_ms));
    }
    if o.end_unix_ms != 0 {
        let _ = write!(s, " to {}", unix_ms(o.end_unix_ms));
    }
    let _ = write!(s, "] {}", output_info(o));
    s
}

/// `mode MIXED_AND_SINGLE  audio on  video on  single AV,AUDIO PASSTHROUGH AAC  template T`.
pub fn record_cfg(r: &proto::RecordCfg) -> String {
    let mode = proto::RecordMode::try_from(r.mode)
        .map(|m| short(m.as_str_name(), "RECORD_MODE_"))
        .unwrap_or_else(|_| r.mode.to_string());
    let on = |b: Option<bool>| if b.unwrap_or(true) { "on" } else { "off" };
    let media: Vec<String> = r
        .single_media
        .iter()
        .map(|m| {
            proto::SingleMedia::try_from(*m)
                .map(|m| short(m.as_str_name(), "SINGLE_MEDIA_"))
                .unwrap_or_else(|_| m.to_string())
        })
        .collect();
    let video = match proto::SingleVideo::try_from(r.single_video) {
        Ok(proto::SingleVideo::Transcode) => {
            format!("TRANSCODE {}x{}", r.transcode_width, r.transcode_height)
        }
        Ok(v) => short(v.as_str_name(), "SINGLE_VIDEO_"),
        Err(_) => r.single_video.to_string(),
    };
    let container = proto::AudioContainer::try_from(r.single_audio_container)
        .map(|c| short(c.as_str_name(), "AUDIO_CONTAINER_"))
        .unwrap_or_else(|_| r.single_audio_container.to_string());
    format!(
        "mode {mode}  audio {}  video {}  single {} {video} {container}  template {}",
        on(r.record_audio),
        on(r.record_video),
        media.join(","),
        r.single_path_template
    )
}

/// The answer of `create`: id, state, file, then one ports line per source.
pub fn created(r: &proto::CreateCloudMixerResponse, fallback_host: &str) -> String {
    let mut s = format!("mixer {}", r.mixer_id);
    if let Some(info) = &r.info {
        let _ = write!(s, "  {}", state(info.state));
        if let Some(o) = &info.output {
            let _ = write!(s, "  recording to {}", o.abs_path);
        }
    }
    s.push('\n');
    for p in &r.source_ports {
        let _ = writeln!(s, "  {}", ports_line(p, fallback_host));
    }
    s
}

/// Header of [`mixer_row`].
pub const LIST_HEADER: &str = "MIXER\tSTATE\tDURATION\tSIZE\tSOURCES\tPATH";

/// One line of `list`.
pub fn mixer_row(m: &proto::MixerInfo) -> String {
    let o = m.output.clone().unwrap_or_default();
    format!(
        "{}\t{}\t{}\t{}\t{}\t{}",
        m.mixer_id,
        state(m.state),
        duration(o.duration_ms),
        size(o.size_bytes),
        m.sources.len(),
        o.path
    )
}

/// Everything `get` shows.
pub fn mixer_info(m: &proto::MixerInfo, fallback_host: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "mixer     {}", m.mixer_id);
    let _ = writeln!(s, "state     {}", state(m.state));
    if m.error_code != 0 || !m.error_message.is_empty() {
        let _ = writeln!(s, "error     {}: {}", m.error_code, m.error_message);
    }
    let _ = writeln!(s, "oper user {}", m.oper_user_id);
    let _ = writeln!(s, "created   {}", unix_ms(m.created_unix_ms));
    let _ = writeln!(s, "playout   {} ms", m.playout_delay_ms);
    let _ = writeln!(s, "stale     {} ms", m.stale_timeout_ms);
    if let Some(c) = &m.video_file_cfg {
        let _ = writeln!(
            s,
            "picture   {}x{} @ {} fps, video {} bit/s, audio {} bit/s, background {}",
            c.v_width, c.v_height, c.v_fps, c.v_bps, c.a_bps, c.background_color
        );
        for r in &c.layout_config {
            let camid = r.param.as_ref().map(|p| p.camid.as_str()).unwrap_or("");
            let _ = writeln!(
                s,
                "region    {camid}  {}x{} at left {} top {}{}{}",
                r.width,
                r.height,
                r.left,
                r.top,
                if r.keep_aspect_ratio {
                    "  keep-aspect"
                } else {
                    ""
                },
                r.z_order.map(|z| format!("  z {z}")).unwrap_or_default()
            );
        }
    }
    if let Some(r) = &m.record_cfg {
        let _ = writeln!(s, "record    {}", record_cfg(r));
    }
    // Every output (composite and per participant); a daemon that predates
    // `outputs` only sends `output`.
    let single_output: Vec<proto::OutputInfo> = m.output.clone().into_iter().collect();
    let outputs = if m.outputs.is_empty() {
        &single_output
    } else {
        &m.outputs
    };
    for o in outputs {
        let _ = writeln!(s, "output    {}", output_entry(o));
        let _ = writeln!(s, "file      {}", o.abs_path);
    }
    for src in &m.sources {
        let ports = src.ports.clone().unwrap_or_default();
        let _ = writeln!(s, "source    {}", ports_line(&ports, fallback_host));
        let _ = writeln!(
            s,
            "          video {} pkt {} B {} frames {}x{}  audio {} pkt {} B {} frames  lost {} dropped {} oversized {}  PLI/FIR {} RTCP {}  last packet {}",
            src.video_packets,
            src.video_bytes,
            src.video_frames_decoded,
            src.width,
            src.height,
            src.audio_packets,
            src.audio_bytes,
            src.audio_frames_decoded,
            src.packets_lost,
            src.packets_dropped,
            src.pictures_oversized,
            src.keyframe_requests,
            src.rtcp_packets,
            unix_ms(src.last_packet_unix_ms)
        );
        if src.packets_dropped > 0 {
            let _ = writeln!(
                s,
                "          dropped: parse {} pt/ssrc {} foreign address {} queue full {} decode {} duplicate/late {}",
                src.drops_parse_error,
                src.drops_pt_ssrc_mismatch,
                src.drops_foreign_address,
                src.drops_queue_full,
                src.drops_decode_error,
                src.drops_duplicate_or_late
            );
        }
    }
    s
}

/// One line per event: time, mixer, what happened.
pub fn event_line(e: &proto::MixerEvent) -> String {
    use proto::mixer_event::Event;
    let t = unix_ms(e.unix_ms);
    match &e.event {
        Some(Event::StateChanged(c)) => {
            let mut s = format!("{t}  {}  state {}", c.mixer_id, state(c.state));
            if !c.oper_user_id.is_empty() {
                let _ = write!(s, "  by {}", c.oper_user_id);
            }
            if c.error_code != 0 || !c.error_message.is_empty() {
                let _ = write!(s, "  error {}: {}", c.error_code, c.error_message);
            }
            s
        }
        Some(Event::OutputInfoChanged(o)) => {
            let info = o.output_info.clone().unwrap_or_default();
            format!("{t}  {}  output {}", o.mixer_id, output_info(&info))
        }
        Some(Event::SourceStateChanged(c)) => {
            let st = proto::SourceConnectionState::try_from(c.state)
                .map(|s| short(s.as_str_name(), "SOURCE_CONNECTION_STATE_").to_lowercase())
                .unwrap_or_else(|_| c.state.to_string());
            format!("{t}  {}  source {} {st}: {}", c.mixer_id, c.camid, c.reason)
        }
        Some(Event::ActiveSpeakerChanged(a)) => format!(
            "{t}  {}  active speaker {} (was {}) at {:.1} dBFS, output {} ms",
            a.mixer_id,
            a.camid,
            if a.previous_camid.is_empty() {
                "nobody"
            } else {
                &a.previous_camid
            },
            a.level_dbfs,
            a.output_ms
        ),
        Some(Event::LiveOutputChanged(l)) => {
            let info = l.live_output.clone().unwrap_or_default();
            let st = proto::LivePushState::try_from(info.state)
                .map(|s| short(s.as_str_name(), "LIVE_PUSH_STATE_").to_lowercase())
                .unwrap_or_else(|_| info.state.to_string());
            let mut s = format!(
                "{t}  {}  live push {} {st} (reconnects {})",
                l.mixer_id, info.url, info.reconnects
            );
            if !info.last_error.is_empty() {
                let _ = write!(s, ": {}", info.last_error);
            }
            s
        }
        None => format!("{t}  (unknown event #{})", e.seq),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_times_sizes_and_durations() {
        assert_eq!(unix_ms(1_632_491_261_123), "2021-09-24T13:47:41.123Z");
        assert_eq!(unix_ms(0), "-");
        assert_eq!(duration(12_345), "12.345 s");
        assert_eq!(size(1_234_567), "1234567 B (1.2 MB)");
    }

    #[test]
    fn ports_line_is_pasteable() {
        let p = proto::SourcePorts {
            whip_url: String::new(),
            whip_token: String::new(),
            camid: "Usr1.-1".into(),
            video_rtp_port: 40000,
            video_rtcp_port: 40001,
            audio_rtp_port: 40002,
            audio_rtcp_port: 40003,
            rtp_host: "0.0.0.0".into(),
        };
        assert_eq!(
            ports_line(&p, "10.0.0.5"),
            "Usr1.-1  video rtp 10.0.0.5:40000 (rtcp 40001)  audio rtp 10.0.0.5:40002 (rtcp 40003)"
        );
        let p = proto::SourcePorts {
            whip_url: String::new(),
            whip_token: String::new(),
            rtp_host: "127.0.0.1".into(),
            audio_rtp_port: 0,
            ..p
        };
        assert_eq!(
            ports_line(&p, "x"),
            "Usr1.-1  video rtp 127.0.0.1:40000 (rtcp 40001)"
        );
    }

    #[test]
    fn get_lists_every_output_and_the_record_cfg() {
        let mixed = proto::OutputInfo {
            output_id: "mixed".into(),
            kind: proto::OutputKind::Mixed as i32,
            media: proto::OutputMedia::Audio as i32,
            container: "m4a".into(),
            path: "m/a.m4a".into(),
            abs_path: "/rec/m/a.m4a".into(),
            duration_ms: 2000,
            status: proto::OutputStatus::Recording as i32,
            ..Default::default()
        };
        let single = proto::OutputInfo {
            output_id: "Usr1.-1/audio/1".into(),
            kind: proto::OutputKind::Single as i32,
            camid: "Usr1.-1".into(),
            media: proto::OutputMedia::Audio as i32,
            container: "aac".into(),
            span: 1,
            start_unix_ms: 1_632_491_261_123,
            path: "m/Usr1.-1-audio-1632491261123.aac".into(),
            abs_path: "/rec/m/Usr1.-1-audio-1632491261123.aac".into(),
            status: proto::OutputStatus::Finalized as i32,
            ..Default::default()
        };
        let info = proto::MixerInfo {
            mixer_id: "m".into(),
            output: Some(mixed.clone()),
            outputs: vec![mixed, single],
            record_cfg: Some(proto::RecordCfg {
                mode: proto::RecordMode::MixedAndSingle as i32,
                record_audio: Some(true),
                record_video: Some(false),
                single_media: vec![proto::SingleMedia::Audio as i32],
                single_path_template: "{mixer_id}/{camid}-{media}-{start_ms}".into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        let text = mixer_info(&info, "h");
        assert!(
            text.contains("record    mode MIXED_AND_SINGLE  audio on  video off  single AUDIO PASSTHROUGH AAC  template {mixer_id}/{camid}-{media}-{start_ms}\n"),
            "{text}"
        );
        assert!(
            text.contains("output    [mixed audio m4a] m/a.m4a  RECORDING  2.000 s  0 B\nfile      /rec/m/a.m4a\n"),
            "{text}"
        );
        assert!(
            text.contains("output    [single Usr1.-1 audio aac span 1 from 2021-09-24T13:47:41.123Z] m/Usr1.-1-audio-1632491261123.aac  FINALIZED"),
            "{text}"
        );
        assert_eq!(
            text.matches("output    ").count(),
            2,
            "the composite once: {text}"
        );
        // Single only: no composite, the per-participant files alone.
        let only = proto::MixerInfo {
            output: None,
            outputs: vec![info.outputs[1].clone()],
            ..info
        };
        assert_eq!(mixer_info(&only, "h").matches("output    ").count(), 1);
    }

    #[test]
    fn event_lines_name_state_and_output() {
        use proto::mixer_event::Event;
        let e = proto::MixerEvent {
            seq: 1,
            unix_ms: 1_632_491_261_123,
            event: Some(Event::StateChanged(proto::StateChanged {
                mixer_id: "m1".into(),
                state: proto::MixerState::Running as i32,
                ..Default::default()
            })),
        };
        assert_eq!(
            event_line(&e),
            "2021-09-24T13:47:41.123Z  m1  state RUNNING"
        );
        let e = proto::MixerEvent {
            event: Some(Event::OutputInfoChanged(proto::OutputInfoChanged {
                mixer_id: "m1".into(),
                output_info: Some(proto::OutputInfo {
                    path: "a.mp4".into(),
                    duration_ms: 2000,
                    size_bytes: 10,
                    status: proto::OutputStatus::Recording as i32,
                    ..Default::default()
                }),
            })),
            ..e
        };
        assert_eq!(
            event_line(&e),
            "2021-09-24T13:47:41.123Z  m1  output a.mp4  RECORDING  2.000 s  10 B"
        );
    }
}
