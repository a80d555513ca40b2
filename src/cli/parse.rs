//! Parsers of the compact command-line syntaxes: sources, sizes, port ranges, inputs.
//!
//! Source syntax: `CAMID[:video=CODEC/PT,audio=CODEC/PT,vssrc=N,assrc=N,KEY=V...]`,
//! e.g. `Usr1.-1:video=vp8/96,audio=opus/111`. A bare `CAMID` means
//! `video=vp8/96,audio=opus/111`. SSRCs are decimal or `0x` hex. Transports:
//! `transport=whip` (the daemon serves a WHIP endpoint), `whep=http://HOST/PATH` (pull
//! from a WHEP endpoint, optional `token=BEARER`); without, plain RTP. When only a
//! transport is given, video and audio default as for a bare `CAMID`. The mixed audio:
//! `gain=DB` (-60..=20) and `muted=true`.
//!
//! Mix syntax (`update --mix`): `CAMID:gain=DB[,muted=true|false]`, e.g. `Usr2.-1:gain=-6`
//! or `Usr2.-1:muted=true` (both values are set; an omitted one is 0 dB / not muted).

use std::path::PathBuf;

use crate::proto;

/// Default RTP payload type of VP8 (Chrome's choice).
pub const DEFAULT_VP8_PT: u32 = 96;
/// Default RTP payload type of H.264.
pub const DEFAULT_H264_PT: u32 = 102;
/// Default RTP payload type of Opus.
pub const DEFAULT_OPUS_PT: u32 = 111;

/// Parses `update --mix` (see the module doc).
pub fn source_mix(s: &str) -> Result<proto::SourceMix, String> {
    let (camid, spec) = s
        .rsplit_once(':')
        .filter(|(_, spec)| spec.contains('='))
        .ok_or_else(|| format!("expected CAMID:gain=DB[,muted=true], got {s:?}"))?;
    if camid.is_empty() {
        return Err("missing camid before ':'".into());
    }
    let mut m = proto::SourceMix {
        camid: camid.to_owned(),
        ..Default::default()
    };
    for item in spec.split(',') {
        match item.split_once('=') {
            Some(("gain", v)) => m.gain_db = gain_db(v)?,
            Some(("muted", v)) => m.muted = boolean(v)?,
            _ => {
                return Err(format!(
                    "expected gain=DB or muted=true|false, got {item:?}"
                ))
            }
        }
    }
    Ok(m)
}

fn gain_db(v: &str) -> Result<f32, String> {
    v.trim_end_matches("dB")
        .parse::<f32>()
        .ok()
        .filter(|g| g.is_finite())
        .ok_or_else(|| format!("gain must be a number of dB, got {v:?}"))
}

fn boolean(v: &str) -> Result<bool, String> {
    match v {
        "true" | "1" | "yes" => Ok(true),
        "false" | "0" | "no" => Ok(false),
        _ => Err(format!("expected true or false, got {v:?}")),
    }
}

/// Parses a source (see the module doc).
pub fn source(s: &str) -> Result<proto::SourceConfig, String> {
    const KEYS: [&str; 10] = [
        "video=",
        "audio=",
        "vssrc=",
        "assrc=",
        "transport=",
        "whep=",
        "token=",
        "gain=",
        "muted=",
        "name=",
    ];
    let split = s
        .match_indices(':')
        .map(|(i, _)| i)
        .find(|&i| KEYS.iter().any(|k| s[i + 1..].starts_with(k)));
    // The first ':' before a known key (a WHEP URL has ':'s of its own); else the last
    // ':' before something with '=' (an unknown key, reported below).
    let split = split.or_else(|| s.rfind(':').filter(|&i| s[i + 1..].contains('=')));
    let (camid, spec) = match split {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    if camid.is_empty() {
        return Err("missing camid before ':'".into());
    }
    let mut src = proto::SourceConfig {
        camid: camid.to_owned(),
        ..Default::default()
    };
    let Some(spec) = spec else {
        src.video = Some(video("vp8")?);
        src.audio = Some(audio("opus")?);
        return Ok(src);
    };
    let (mut vssrc, mut assrc) = (None, None);
    let mut token = None;
    for item in spec.split(',') {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| format!("expected KEY=VALUE, got {item:?}"))?;
        match k {
            "video" => src.video = Some(video(v)?),
            "audio" => src.audio = Some(audio(v)?),
            "vssrc" => vssrc = Some(ssrc(v)?),
            "assrc" => assrc = Some(ssrc(v)?),
            "transport" => {
                src.transport = match v {
                    "rtp" => proto::SourceTransport::Rtp,
                    "whip" => proto::SourceTransport::Whip,
                    _ => {
                        return Err(format!(
                            "transport must be rtp or whip (or use whep=URL), got {v:?}"
                        ))
                    }
                } as i32
            }
            "whep" => {
                src.transport = proto::SourceTransport::Whep as i32;
                src.whep = Some(proto::WhepSource {
                    url: v.to_owned(),
                    bearer_token: String::new(),
                });
            }
            "token" => token = Some(v.to_owned()),
            "gain" => src.gain_db = gain_db(v)?,
            "muted" => src.muted = boolean(v)?,
            "name" => v.clone_into(&mut src.display_name),
            _ => {
                return Err(format!(
                    "unknown key {k:?} (video, audio, vssrc, assrc, transport, whep, token, \
                     gain, muted, name)"
                ))
            }
        }
    }
    match (&mut src.whep, token) {
        (Some(w), Some(t)) => w.bearer_token = t,
        (None, Some(_)) => return Err("token given without whep=".into()),
        _ => {}
    }
    if src.video.is_none() && src.audio.is_none() && vssrc.is_none() && assrc.is_none() {
        src.video = Some(video("vp8")?);
        src.audio = Some(audio("opus")?);
    }
    match (&mut src.video, vssrc) {
        (Some(v), s) => v.ssrc = s,
        (None, Some(_)) => return Err("vssrc given without video=".into()),
        (None, None) => {}
    }
    match (&mut src.audio, assrc) {
        (Some(a), s) => a.ssrc = s,
        (None, Some(_)) => return Err("assrc given without audio=".into()),
        (None, None) => {}
    }
    Ok(src)
}

fn codec_pt(v: &str) -> Result<(&str, Option<u32>), String> {
    match v.split_once('/') {
        None => Ok((v, None)),
        Some((c, pt)) => {
            let pt: u32 = pt
                .parse()
                .map_err(|_| format!("payload type must be a number 0..=127, got {pt:?}"))?;
            Ok((c, Some(pt)))
        }
    }
}

fn video(v: &str) -> Result<proto::RtpVideo, String> {
    let (codec, pt) = codec_pt(v)?;
    let (codec, default_pt) = match codec.to_ascii_lowercase().as_str() {
        "vp8" => (proto::VideoCodec::Vp8, DEFAULT_VP8_PT),
        "h264" => (proto::VideoCodec::H264, DEFAULT_H264_PT),
        _ => return Err(format!("video codec must be vp8 or h264, got {codec:?}")),
    };
    Ok(proto::RtpVideo {
        codec: codec as i32,
        payload_type: pt.unwrap_or(default_pt),
        ssrc: None,
    })
}

fn audio(v: &str) -> Result<proto::RtpAudio, String> {
    let (codec, pt) = codec_pt(v)?;
    if !codec.eq_ignore_ascii_case("opus") {
        return Err(format!("audio codec must be opus, got {codec:?}"));
    }
    Ok(proto::RtpAudio {
        codec: proto::AudioCodec::Opus as i32,
        payload_type: pt.unwrap_or(DEFAULT_OPUS_PT),
        ssrc: None,
    })
}

fn ssrc(v: &str) -> Result<u32, String> {
    let r = match v.strip_prefix("0x").or_else(|| v.strip_prefix("0X")) {
        Some(hex) => u32::from_str_radix(hex, 16),
        None => v.parse(),
    };
    r.map_err(|_| format!("SSRC must be a 32-bit number, got {v:?}"))
}

/// Parses `WIDTHxHEIGHT`, e.g. `1280x720`.
pub fn size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("expected WIDTHxHEIGHT, got {s:?}"))?;
    let n = |v: &str| {
        v.parse::<u32>()
            .map_err(|_| format!("expected WIDTHxHEIGHT in pixels, got {s:?}"))
    };
    Ok((n(w)?, n(h)?))
}

/// Parses `FIRST-LAST`, e.g. `40000-40999`; FIRST < LAST.
pub fn port_range(s: &str) -> Result<(u16, u16), String> {
    let (a, b) = s
        .split_once('-')
        .ok_or_else(|| format!("expected FIRST-LAST, got {s:?}"))?;
    let p = |v: &str| {
        v.parse::<u16>()
            .map_err(|_| format!("ports must be 1..=65535, got {v:?}"))
    };
    let (a, b) = (p(a)?, p(b)?);
    if a == 0 || a >= b {
        return Err(format!("expected 0 < FIRST < LAST, got {s:?}"));
    }
    Ok((a, b))
}

/// Parses `CAMID=FILE`.
pub fn input(s: &str) -> Result<(String, PathBuf), String> {
    match s.split_once('=') {
        Some((c, f)) if !c.is_empty() && !f.is_empty() => Ok((c.to_owned(), PathBuf::from(f))),
        _ => Err(format!("expected CAMID=FILE, got {s:?}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_full_source() {
        let s = source("Usr1.-1:video=h264/100,audio=opus/109,vssrc=0x10,assrc=7").unwrap();
        assert_eq!(s.camid, "Usr1.-1");
        let v = s.video.unwrap();
        assert_eq!((v.codec, v.payload_type, v.ssrc), (2, 100, Some(16)));
        let a = s.audio.unwrap();
        assert_eq!((a.codec, a.payload_type, a.ssrc), (1, 109, Some(7)));
    }

    #[test]
    fn bare_camid_means_vp8_and_opus() {
        let s = source("Usr2.-1").unwrap();
        assert_eq!(s.video.unwrap().payload_type, 96);
        assert_eq!(s.audio.unwrap().payload_type, 111);
        let s = source("Usr3.-1:audio=opus").unwrap();
        assert!(s.video.is_none());
        assert_eq!(s.audio.unwrap().payload_type, 111);
    }

    #[test]
    fn parses_webrtc_transports() {
        let s = source("U1:transport=whip").unwrap();
        assert_eq!(s.transport, proto::SourceTransport::Whip as i32);
        assert!(s.video.is_some() && s.audio.is_some());
        let s = source("U2:video=h264,whep=http://h:8889/cam/whep,token=abc").unwrap();
        assert_eq!(s.camid, "U2");
        assert_eq!(s.transport, proto::SourceTransport::Whep as i32);
        let w = s.whep.unwrap();
        assert_eq!(
            (w.url.as_str(), w.bearer_token.as_str()),
            ("http://h:8889/cam/whep", "abc")
        );
        assert!(s.audio.is_none());
        assert!(source("U3:token=x").is_err());
        assert!(source("U3:transport=carrier-pigeon").is_err());
    }

    #[test]
    fn rejects_bad_sources() {
        assert!(source("a:video=vp9/96").is_err());
        let s = source("U3:audio=opus/111,gain=-6.5,muted=true").unwrap();
        assert_eq!((s.gain_db, s.muted), (-6.5, true));
        let m = source_mix("Usr1.-1:gain=-6dB").unwrap();
        assert_eq!(
            (m.camid.as_str(), m.gain_db, m.muted),
            ("Usr1.-1", -6.0, false)
        );
        assert!(source_mix("Usr1.-1:muted=maybe").is_err());
        assert!(source_mix("Usr1.-1").is_err());
        assert!(source("a:colour=red").is_err());
        assert!(source("a:audio=opus,vssrc=1").is_err());
        assert!(source(":video=vp8").is_err());
    }

    #[test]
    fn parses_sizes_ranges_and_inputs() {
        assert_eq!(size("1280x720"), Ok((1280, 720)));
        assert!(size("1280").is_err());
        assert_eq!(port_range("40000-40999"), Ok((40000, 40999)));
        assert!(port_range("5-1").is_err());
        assert_eq!(input("a=x.mp4").unwrap().1, PathBuf::from("x.mp4"));
        assert!(input("x.mp4").is_err());
    }
}
