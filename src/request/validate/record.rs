//! The recording configuration (`record_cfg`) -> [`RecordSpec`], and the per-participant
//! path template.
//!
//! Rules: known enum values; `single_media` without UNSPECIFIED or repeats (empty =
//! AV + AUDIO); transcode size even, 2..=3840 x 2..=2160 or 0 (the composite's); a path
//! template that expands to a relative path of safe components (see [`template`]).

use std::path::PathBuf;

use crate::model::record::PRESENCE_TIMEOUT_MS_RANGE;

use crate::model::{
    AudioContainer, Encoding, FieldError, OutputMedia, RecordMode, RecordSpec, SingleVideo,
    SourceSpec, STATE_DIR_NAME,
};
use crate::proto;

use super::field::{self, invalid};
use super::output::{MAX_HEIGHT, MAX_PATH_LEN, MAX_WIDTH};
use super::strings::MAX_PATH_COMPONENT_LEN;

/// The placeholders a per-participant path template may use.
pub const TEMPLATE_PLACEHOLDERS: [&str; 5] =
    ["{mixer_id}", "{camid}", "{media}", "{span}", "{start_ms}"];

/// Validates `cfg` (request field `record_cfg`; None = the defaults) against the
/// composite's `enc` (the transcode size defaults to it); `default_template` is the
/// daemon's `--single-path-template`. Errors: a [`FieldError`] naming the field.
pub fn record(
    cfg: Option<&proto::RecordCfg>,
    enc: &Encoding,
    default_template: &str,
) -> Result<RecordSpec, FieldError> {
    let mut spec = RecordSpec {
        single_path_template: default_template.to_owned(),
        ..RecordSpec::default()
    };
    let Some(cfg) = cfg else {
        return Ok(spec);
    };
    spec.mode = match proto::RecordMode::try_from(cfg.mode) {
        Ok(proto::RecordMode::Mixed) => RecordMode::Mixed,
        Ok(proto::RecordMode::MixedAndSingle) => RecordMode::MixedAndSingle,
        Ok(proto::RecordMode::Single) => RecordMode::Single,
        Err(_) => {
            return Err(invalid(
                "record_cfg.mode",
                format!("unknown mode {}", cfg.mode),
            ))
        }
    };
    spec.record_audio = cfg.record_audio.unwrap_or(true);
    spec.record_video = cfg.record_video.unwrap_or(true);
    if !spec.record_audio && !spec.record_video {
        return Err(invalid(
            "record_cfg.record_audio",
            "record_audio and record_video are both false: nothing to record",
        ));
    }
    if !cfg.single_media.is_empty() {
        spec.single_av = false;
        spec.single_audio = false;
        for (i, m) in cfg.single_media.iter().enumerate() {
            let f = field::index("record_cfg.single_media", i);
            let flag = match proto::SingleMedia::try_from(*m) {
                Ok(proto::SingleMedia::Av) => &mut spec.single_av,
                Ok(proto::SingleMedia::Audio) => &mut spec.single_audio,
                Ok(proto::SingleMedia::Unspecified) => {
                    return Err(invalid(f, "must be SINGLE_MEDIA_AV or SINGLE_MEDIA_AUDIO"))
                }
                Err(_) => return Err(invalid(f, format!("unknown media {m}"))),
            };
            if std::mem::replace(flag, true) {
                return Err(invalid(f, "listed twice"));
            }
        }
    }
    spec.single_video = match proto::SingleVideo::try_from(cfg.single_video) {
        Ok(proto::SingleVideo::Passthrough) => SingleVideo::Passthrough,
        Ok(proto::SingleVideo::Transcode) => SingleVideo::Transcode {
            width: size(cfg.transcode_width, enc.width, MAX_WIDTH, "transcode_width")?,
            height: size(
                cfg.transcode_height,
                enc.height,
                MAX_HEIGHT,
                "transcode_height",
            )?,
        },
        Err(_) => {
            return Err(invalid(
                "record_cfg.single_video",
                format!("unknown value {}", cfg.single_video),
            ))
        }
    };
    spec.single_audio_container = match proto::AudioContainer::try_from(cfg.single_audio_container)
    {
        Ok(proto::AudioContainer::Aac) => AudioContainer::Aac,
        Ok(proto::AudioContainer::M4a) => AudioContainer::M4a,
        Ok(proto::AudioContainer::Ogg) => AudioContainer::Ogg,
        Err(_) => {
            return Err(invalid(
                "record_cfg.single_audio_container",
                format!("unknown value {}", cfg.single_audio_container),
            ))
        }
    };
    if cfg.presence_timeout_ms != 0 {
        let (lo, hi) = PRESENCE_TIMEOUT_MS_RANGE;
        if !(lo..=hi).contains(&cfg.presence_timeout_ms) {
            return Err(invalid(
                "record_cfg.presence_timeout_ms",
                format!(
                    "must be 0 (default) or {lo}..={hi}, got {}",
                    cfg.presence_timeout_ms
                ),
            ));
        }
        spec.presence_timeout =
            std::time::Duration::from_millis(u64::from(cfg.presence_timeout_ms));
    }
    if !cfg.single_path_template.is_empty() {
        template(&cfg.single_path_template, "record_cfg.single_path_template")?;
        spec.single_path_template = cfg.single_path_template.clone();
    }
    delivery(cfg, &mut spec)?;
    Ok(spec)
}

/// Most per-request webhook endpoints.
pub const MAX_WEBHOOK_URLS: usize = 4;
/// Longest per-request webhook URL, bytes.
pub const MAX_WEBHOOK_URL_LEN: usize = 2048;
/// Longest retention, seconds (100 years; as `serve --retention-secs`).
pub const MAX_RETENTION_SECS: u64 = 3_153_600_000;

/// `retention_secs` and `webhook_urls` of `cfg` into `spec`.
fn delivery(cfg: &proto::RecordCfg, spec: &mut RecordSpec) -> Result<(), FieldError> {
    if cfg.retention_secs > MAX_RETENTION_SECS {
        return Err(invalid(
            "record_cfg.retention_secs",
            format!(
                "must be 0 (the daemon's) or 1..={MAX_RETENTION_SECS}, got {}",
                cfg.retention_secs
            ),
        ));
    }
    if cfg.retention_secs > 0 {
        spec.retention = Some(std::time::Duration::from_secs(cfg.retention_secs));
    }
    if cfg.webhook_urls.len() > MAX_WEBHOOK_URLS {
        return Err(invalid(
            "record_cfg.webhook_urls",
            format!("at most {MAX_WEBHOOK_URLS}, got {}", cfg.webhook_urls.len()),
        ));
    }
    for (i, u) in cfg.webhook_urls.iter().enumerate() {
        let ok_scheme = u.starts_with("http://") || u.starts_with("https://");
        if !ok_scheme
            || u.len() > MAX_WEBHOOK_URL_LEN
            || u.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(invalid(
                field::index("record_cfg.webhook_urls", i),
                format!(
                    "must be an http:// or https:// URL without spaces, at most \
                     {MAX_WEBHOOK_URL_LEN} bytes"
                ),
            ));
        }
    }
    spec.webhook_urls = cfg.webhook_urls.clone();
    Ok(())
}

/// What the composite holds: audio only when video is not recorded or the Create has
/// sources and none of them has video (a pure-audio call; a Create without sources,
/// which Update fills later, is not one), video only when audio is not recorded.
pub fn mixed_media(r: &RecordSpec, sources: &[SourceSpec]) -> OutputMedia {
    let pure_audio = !sources.is_empty() && sources.iter().all(|s| s.video.is_none());
    if !r.record_video || pure_audio {
        OutputMedia::Audio
    } else if !r.record_audio {
        OutputMedia::Video
    } else {
        OutputMedia::Av
    }
}

/// The composite's (relative, absolute) path for `media`: an audio-only composite's
/// `.mp4` becomes `.m4a`.
pub fn mixed_path(media: OutputMedia, rel: String, abs: PathBuf) -> (String, PathBuf) {
    if media != OutputMedia::Audio {
        return (rel, abs);
    }
    let swap = |p: &str| format!("{}.m4a", &p[..p.len() - ".mp4".len()]);
    let rel2 = swap(&rel);
    let abs2 = PathBuf::from(swap(&abs.to_string_lossy()));
    (rel2, abs2)
}

/// A transcode dimension: 0 = `default`, else even and 2..=`max`.
fn size(v: u32, default: u32, max: u32, name: &str) -> Result<u32, FieldError> {
    if v == 0 {
        return Ok(default);
    }
    if !v.is_multiple_of(2) || !(2..=max).contains(&v) {
        return Err(invalid(
            format!("record_cfg.{name}"),
            format!("must be even and 2..={max}, got {v}"),
        ));
    }
    Ok(v)
}

/// Checks a per-participant path template (field `f`): relative, `/`-separated, no
/// empty, `.` or `..` component, not in the state directory, only the placeholders of
/// [`TEMPLATE_PLACEHOLDERS`], and `{camid}` and `{start_ms}` or `{span}` present in the
/// last component's directory chain or name so that two spans never share a path.
/// Components are checked with the placeholders expanded to their longest form.
pub fn template(t: &str, f: &str) -> Result<(), FieldError> {
    if t.len() > MAX_PATH_LEN / 2 {
        return Err(invalid(
            f,
            format!("at most {} bytes, got {}", MAX_PATH_LEN / 2, t.len()),
        ));
    }
    if t.chars().any(|c| c.is_control() || c == '\\') {
        return Err(invalid(f, format!("control characters or '\\' in {t:?}")));
    }
    if t.starts_with('/') {
        return Err(invalid(
            f,
            format!("must be relative to the recordings root, got {t:?}"),
        ));
    }
    let mut rest = t;
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .ok_or_else(|| invalid(f, format!("unclosed '{{' in {t:?}")))?;
        let name = &rest[open..open + close + 1];
        if !TEMPLATE_PLACEHOLDERS.contains(&name) {
            return Err(invalid(
                f,
                format!(
                    "unknown placeholder {name}; known: {}",
                    TEMPLATE_PLACEHOLDERS.join(" ")
                ),
            ));
        }
        rest = &rest[open + close + 1..];
    }
    if !t.contains("{camid}") || !(t.contains("{start_ms}") || t.contains("{span}")) {
        return Err(invalid(
            f,
            "must contain {camid} and {start_ms} or {span} (each participant's span needs its own file)",
        ));
    }
    for part in t.split('/') {
        if matches!(part, "" | "." | "..") {
            return Err(invalid(
                f,
                format!("{part:?} component not allowed in {t:?}"),
            ));
        }
        // Longest expansions: camid 128 bytes, mixer id 64, media 6, numbers 20.
        let longest = part
            .replace("{camid}", &"x".repeat(field::MAX_CAMID_LEN))
            .replace("{mixer_id}", &"x".repeat(64))
            .replace("{media}", "screen")
            .replace("{span}", &"9".repeat(10))
            .replace("{start_ms}", &"9".repeat(20));
        // Room for the extension (".webm").
        if longest.len() + 5 > MAX_PATH_COMPONENT_LEN {
            return Err(invalid(
                f,
                format!("component {part:?} may expand beyond {MAX_PATH_COMPONENT_LEN} bytes"),
            ));
        }
    }
    if t.split('/').next() == Some(STATE_DIR_NAME) {
        return Err(invalid(
            f,
            format!("{STATE_DIR_NAME:?} is the daemon's state directory"),
        ));
    }
    Ok(())
}

/// `camid` as a path component: letters, digits, '.', '-' and '_' kept, anything else
/// '_'; a result of only dots becomes underscores too.
pub fn path_safe(camid: &str) -> String {
    let s: String = camid
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    if s.chars().all(|c| c == '.') {
        "_".repeat(s.len())
    } else {
        s
    }
}

/// Expands a validated template; `ext` is appended (without its dot).
pub fn expand(
    t: &str,
    (mixer_id, camid, media): (&str, &str, &str),
    span: u32,
    start_ms: i64,
    ext: &str,
) -> String {
    let path = t
        .replace("{mixer_id}", mixer_id)
        .replace("{camid}", &path_safe(camid))
        .replace("{media}", media)
        .replace("{span}", &span.to_string())
        .replace("{start_ms}", &start_ms.to_string());
    format!("{path}.{ext}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::record::DEFAULT_SINGLE_PATH_TEMPLATE;

    #[test]
    fn the_default_template_is_valid_and_expands() {
        template(DEFAULT_SINGLE_PATH_TEMPLATE, "t").unwrap();
        assert_eq!(
            expand(
                DEFAULT_SINGLE_PATH_TEMPLATE,
                ("m1", "Usr1.-1", "av"),
                1,
                1700,
                "mp4"
            ),
            "m1/Usr1.-1-av-1700.mp4"
        );
        assert_eq!(path_safe("a/b c"), "a_b_c");
        assert_eq!(path_safe(".."), "__");
    }

    #[test]
    fn a_pure_audio_call_needs_sources_without_video() {
        let r = RecordSpec::default();
        let audio = SourceSpec {
            camid: "a".into(),
            ..SourceSpec::default()
        };
        let video = SourceSpec {
            video: Some(crate::model::RtpStreamSpec {
                codec: crate::model::VideoCodec::Vp8,
                payload_type: 96,
                ssrc: None,
            }),
            ..audio.clone()
        };
        assert_eq!(
            mixed_media(&r, std::slice::from_ref(&audio)),
            OutputMedia::Audio
        );
        assert_eq!(mixed_media(&r, &[audio, video.clone()]), OutputMedia::Av);
        assert_eq!(mixed_media(&r, &[]), OutputMedia::Av, "no sources yet");
        let no_video = RecordSpec {
            record_video: false,
            ..RecordSpec::default()
        };
        assert_eq!(
            mixed_media(&no_video, std::slice::from_ref(&video)),
            OutputMedia::Audio
        );
        let no_audio = RecordSpec {
            record_audio: false,
            ..RecordSpec::default()
        };
        assert_eq!(mixed_media(&no_audio, &[video]), OutputMedia::Video);
    }

    #[test]
    fn bad_templates_name_the_field_and_the_reason() {
        let e = |t: &str| {
            template(t, "record_cfg.single_path_template")
                .unwrap_err()
                .to_string()
        };
        assert!(e("/abs/{camid}-{span}").contains("relative"));
        assert!(e("{mixer_id}/../{camid}-{span}").contains("\"..\""));
        assert!(e("{mixer_id}/{who}-{span}").contains("unknown placeholder {who}"));
        assert!(e("{mixer_id}/{media}").contains("must contain {camid}"));
        assert!(e(".cloudmixer/{camid}-{span}").contains("state directory"));
        assert!(e("{mixer_id}/{camid}{camid}-{span}").contains("may expand beyond"));
        assert!(e("{mixer_id/{camid}-{span}").contains("unknown placeholder"));
    }

    #[test]
    fn job_retention_and_endpoints_are_checked_and_kept() {
        let run = |retention_secs: u64, urls: &[&str]| {
            let cfg = proto::RecordCfg {
                retention_secs,
                webhook_urls: urls.iter().map(|u| u.to_string()).collect(),
                ..Default::default()
            };
            let mut spec = RecordSpec::default();
            delivery(&cfg, &mut spec)
                .map(|()| spec)
                .map_err(|e| e.to_string())
        };
        let ok = run(60, &["https://hooks.example/a?k=1", "http://10.0.0.1:80/b"]).unwrap();
        assert_eq!(ok.retention, Some(std::time::Duration::from_secs(60)));
        assert_eq!(ok.webhook_urls.len(), 2);
        assert_eq!(run(0, &[]).unwrap().retention, None, "0: the daemon's");
        let e = run(MAX_RETENTION_SECS + 1, &[]).unwrap_err();
        assert!(e.contains("record_cfg.retention_secs"), "{e}");
        let e = run(0, &["http://a", "ftp://b"]).unwrap_err();
        assert!(e.contains("record_cfg.webhook_urls[1]"), "{e}");
        let e = run(0, &["http://a/\nb"]).unwrap_err();
        assert!(e.contains("record_cfg.webhook_urls[0]"), "{e}");
        let e = run(0, &["http://a"; MAX_WEBHOOK_URLS + 1]).unwrap_err();
        assert!(e.contains("at most 4"), "{e}");
    }
}
