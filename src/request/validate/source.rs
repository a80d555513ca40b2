//! Sources (Cloudroom camids): `SourceConfig` -> [`SourceSpec`].
//!
//! Rules: camid non-empty and unique within the mixer; at least one of video and audio;
//! codec set (not `*_UNSPECIFIED`, not an unknown enum value); payload type 0..=127;
//! a known transport, and for WHEP an `http://` or `https://` URL; a known content type;
//! at most one host (`host = true`) per mixer, counting the sources it keeps on Update;
//! a mix gain that is a finite number of dB in [`MIN_GAIN_DB`]..=[`MAX_GAIN_DB`].

use std::collections::HashSet;

use crate::compose::label::MAX_LABEL_CHARS;
use crate::model::FieldError;

use super::field::{self, invalid};
use super::strings::{self, shown};
use crate::model::{
    AudioCodec, ContentType, MixGain, RtpStreamSpec, SourceSpec, SourceTransport, VideoCodec,
    MAX_GAIN_DB, MIN_GAIN_DB,
};
use crate::proto;

/// Most sources one mixer may have (each needs two UDP port pairs).
pub const MAX_SOURCES: usize = 64;

/// Validates `list` (request field `prefix`, e.g. `sources` or `add_sources`).
/// `taken` holds the sources the mixer keeps (none on Create); a camid in `taken` or
/// repeated in `list` is a duplicate, and a host in `list` when `taken` or an earlier
/// entry of `list` already has one is a second host. Errors: a [`FieldError`] naming
/// e.g. `sources[1].camid` or `add_sources[0].host`.
pub fn sources(
    list: &[proto::SourceConfig],
    prefix: &str,
    taken: &[SourceSpec],
) -> Result<Vec<SourceSpec>, FieldError> {
    if list.len() + taken.len() > MAX_SOURCES {
        return Err(invalid(
            prefix,
            format!(
                "a mixer has at most {MAX_SOURCES} sources, got {}",
                list.len() + taken.len()
            ),
        ));
    }
    let mut seen: HashSet<&str> = taken.iter().map(|s| s.camid.as_str()).collect();
    let mut host: Option<&str> = taken.iter().find(|s| s.host).map(|s| s.camid.as_str());
    let mut out = Vec::with_capacity(list.len());
    for (i, s) in list.iter().enumerate() {
        let at = field::index(prefix, i);
        let camid_field = field::join(&at, "camid");
        field::camid(&camid_field, &s.camid)?;
        if !seen.insert(&s.camid) {
            return Err(invalid(camid_field, format!("duplicate {:?}", s.camid)));
        }
        if s.host {
            if let Some(h) = host {
                return Err(invalid(
                    field::join(&at, "host"),
                    format!("a mixer has at most one host, and {h:?} already is"),
                ));
            }
            host = Some(&s.camid);
        }
        out.push(source(s, &at)?);
    }
    Ok(out)
}

/// One source, its camid already checked.
fn source(s: &proto::SourceConfig, at: &str) -> Result<SourceSpec, FieldError> {
    if s.video.is_none() && s.audio.is_none() {
        return Err(invalid(at, "must have video, audio or both"));
    }
    let video = match &s.video {
        None => None,
        Some(v) => {
            let f = field::join(at, "video");
            Some(RtpStreamSpec {
                codec: video_codec(v.codec, &field::join(&f, "codec"))?,
                payload_type: payload_type(v.payload_type, &field::join(&f, "payload_type"))?,
                ssrc: v.ssrc,
            })
        }
    };
    let audio = match &s.audio {
        None => None,
        Some(a) => {
            let f = field::join(at, "audio");
            Some(RtpStreamSpec {
                codec: audio_codec(a.codec, &field::join(&f, "codec"))?,
                payload_type: payload_type(a.payload_type, &field::join(&f, "payload_type"))?,
                ssrc: a.ssrc,
            })
        }
    };
    Ok(SourceSpec {
        camid: s.camid.clone(),
        video,
        audio,
        transport: transport(s, at)?,
        content: content_type(s.content_type, &field::join(at, "content_type"))?,
        host: s.host,
        mix: mix_gain(s.gain_db, s.muted, &field::join(at, "gain_db"))?,
        display_name: display_name(&s.display_name, &field::join(at, "display_name"))?,
    })
}

/// A tile label: at most [`MAX_LABEL_CHARS`] characters, no control characters.
fn display_name(name: &str, f: &str) -> Result<String, FieldError> {
    let n = name.chars().count();
    if n > MAX_LABEL_CHARS {
        return Err(invalid(
            f,
            format!("at most {MAX_LABEL_CHARS} characters, got {n}"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(invalid(f, format!("control characters in {name:?}")));
    }
    Ok(name.to_owned())
}

/// A mix gain from `gain_db` (request field `f`) and `muted`. Errors: NaN, infinite or
/// outside [`MIN_GAIN_DB`]..=[`MAX_GAIN_DB`].
pub fn mix_gain(gain_db: f32, muted: bool, f: &str) -> Result<MixGain, FieldError> {
    if !gain_db.is_finite() || !(MIN_GAIN_DB..=MAX_GAIN_DB).contains(&gain_db) {
        return Err(invalid(
            f,
            format!("{gain_db} dB is not in {MIN_GAIN_DB}..={MAX_GAIN_DB}"),
        ));
    }
    Ok(MixGain {
        centi_db: (gain_db * 100.0).round() as i32,
        muted,
    })
}

/// Validates Update's `source_mix` against the camids of the mixer after the update:
/// each camid one of them and at most once. Errors name `source_mix[i].camid` or
/// `source_mix[i].gain_db`.
pub fn source_mix(
    list: &[proto::SourceMix],
    after: &[SourceSpec],
) -> Result<Vec<(String, MixGain)>, FieldError> {
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(list.len());
    for (i, m) in list.iter().enumerate() {
        let at = field::index("source_mix", i);
        let cf = field::join(&at, "camid");
        if !after.iter().any(|s| s.camid == m.camid) {
            return Err(invalid(cf, format!("{} is not a source", shown(&m.camid))));
        }
        if !seen.insert(m.camid.as_str()) {
            return Err(invalid(cf, format!("duplicate {:?}", m.camid)));
        }
        let gain = mix_gain(m.gain_db, m.muted, &field::join(&at, "gain_db"))?;
        out.push((m.camid.clone(), gain));
    }
    Ok(out)
}

/// The source's transport; WHEP needs an `http://` or `https://` URL (whether its host
/// is allowed is the daemon's `--whep-allow`, checked when the mixer starts).
fn transport(s: &proto::SourceConfig, at: &str) -> Result<SourceTransport, FieldError> {
    let f = field::join(at, "transport");
    match proto::SourceTransport::try_from(s.transport) {
        Ok(proto::SourceTransport::Rtp) => Ok(SourceTransport::Rtp),
        Ok(proto::SourceTransport::Whip) => Ok(SourceTransport::Whip),
        Ok(proto::SourceTransport::Whep) => {
            let wf = field::join(at, "whep");
            let Some(w) = &s.whep else {
                return Err(invalid(wf, "must be set for SOURCE_TRANSPORT_WHEP"));
            };
            let uf = field::join(&wf, "url");
            strings::url(&uf, &w.url)?;
            let ok = w
                .url
                .strip_prefix("http://")
                .or_else(|| w.url.strip_prefix("https://"))
                .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
            if !ok || w.url.len() > 2048 {
                return Err(invalid(
                    uf,
                    format!(
                        "must be an http:// or https:// URL with a host, got {}",
                        shown(&w.url)
                    ),
                ));
            }
            strings::bearer_token(&field::join(&wf, "bearer_token"), &w.bearer_token)?;
            Ok(SourceTransport::Whep {
                url: w.url.clone(),
                bearer_token: w.bearer_token.clone(),
            })
        }
        Err(_) => Err(invalid(f, format!("unknown transport {}", s.transport))),
    }
}

/// A source's or region's content type.
pub fn content_type(v: i32, f: &str) -> Result<ContentType, FieldError> {
    match proto::ContentType::try_from(v) {
        Ok(proto::ContentType::Video) => Ok(ContentType::Camera),
        Ok(proto::ContentType::Screen) => Ok(ContentType::Screen),
        Ok(proto::ContentType::Media) => Ok(ContentType::Media),
        Err(_) => Err(invalid(f, format!("unknown content type {v}"))),
    }
}

fn video_codec(v: i32, f: &str) -> Result<VideoCodec, FieldError> {
    match proto::VideoCodec::try_from(v) {
        Ok(proto::VideoCodec::Vp8) => Ok(VideoCodec::Vp8),
        Ok(proto::VideoCodec::H264) => Ok(VideoCodec::H264),
        Ok(proto::VideoCodec::Unspecified) => Err(invalid(
            f,
            "must be set (VIDEO_CODEC_VP8 or VIDEO_CODEC_H264)",
        )),
        Err(_) => Err(invalid(f, format!("unknown video codec {v}"))),
    }
}

fn audio_codec(v: i32, f: &str) -> Result<AudioCodec, FieldError> {
    match proto::AudioCodec::try_from(v) {
        Ok(proto::AudioCodec::Opus) => Ok(AudioCodec::Opus),
        Ok(proto::AudioCodec::Unspecified) => Err(invalid(f, "must be set (AUDIO_CODEC_OPUS)")),
        Err(_) => Err(invalid(f, format!("unknown audio codec {v}"))),
    }
}

fn payload_type(pt: u32, f: &str) -> Result<u8, FieldError> {
    match u8::try_from(pt) {
        Ok(pt) if pt <= 127 => Ok(pt),
        _ => Err(invalid(f, format!("must be 0..=127, got {pt}"))),
    }
}

/// Validates `remove` (request field `remove_camids`) against the mixer's `current`
/// camids. Errors: empty, unknown or repeated camid.
pub fn removals(remove: &[String], current: &[String]) -> Result<(), FieldError> {
    let mut seen = HashSet::new();
    for (i, c) in remove.iter().enumerate() {
        let f = field::index("remove_camids", i);
        field::camid(&f, c)?;
        if !current.contains(c) {
            return Err(invalid(f, format!("{c:?} is not a source of this mixer")));
        }
        if !seen.insert(c) {
            return Err(invalid(f, format!("duplicate {c:?}")));
        }
    }
    Ok(())
}

/// Camids of the sources that send video, in order: the default tiles of a preset
/// (the `speaker` preset then puts the host first, [`crate::layout::preset::default_camids`]).
pub fn video_camids(sources: &[SourceSpec]) -> Vec<String> {
    sources
        .iter()
        .filter(|s| s.video.is_some())
        .map(|s| s.camid.clone())
        .collect()
}

/// The camid of the mixer's host (`host = true`), if any (validation allows one).
pub fn host(sources: &[SourceSpec]) -> Option<&str> {
    sources.iter().find(|s| s.host).map(|s| s.camid.as_str())
}
