//! `video_file_cfg.live_push_urls` and `hls_segment_secs`: live outputs of the
//! composite (issue 14).

use crate::model::{FieldError, HlsSpec, RecordSpec};

use super::field::{self, invalid};

/// Most live pushes per mixer.
pub const MAX_LIVE_PUSHES: usize = 4;
/// Longest live push URL, bytes.
pub const MAX_LIVE_PUSH_URL_LEN: usize = 2048;

/// The live push URLs of a composite recorded per `record`. Errors: INVALID_ARGUMENT
/// naming `video_file_cfg.live_push_urls` (too many; record mode SINGLE makes no
/// composite) or `video_file_cfg.live_push_urls[i]` (not rtmp://, rtmps:// or srt://
/// with a host, whitespace or control characters, too long). The message never repeats a URL
/// (it may hold a stream key).
pub fn live_push_urls(urls: &[String], record: &RecordSpec) -> Result<Vec<String>, FieldError> {
    const FIELD: &str = "video_file_cfg.live_push_urls";
    if urls.is_empty() {
        return Ok(Vec::new());
    }
    if urls.len() > MAX_LIVE_PUSHES {
        return Err(invalid(
            FIELD,
            format!("at most {MAX_LIVE_PUSHES}, got {}", urls.len()),
        ));
    }
    if !record.mode.mixed() {
        return Err(invalid(
            FIELD,
            "a live push sends the composite, and record_cfg.mode makes none",
        ));
    }
    for (i, u) in urls.iter().enumerate() {
        let rest = ["rtmp://", "rtmps://", "srt://"]
            .iter()
            .find_map(|s| u.strip_prefix(s));
        let host = rest.map(|r| r.split(['/', '?']).next().unwrap_or(""));
        let ok = host.is_some_and(|h| !h.is_empty())
            && u.len() <= MAX_LIVE_PUSH_URL_LEN
            && !u.chars().any(|c| c.is_whitespace() || c.is_control());
        if !ok {
            return Err(invalid(
                field::index(FIELD, i),
                format!(
                    "must be an rtmp://, rtmps:// or srt:// URL with a host, without spaces, \
                     at most {MAX_LIVE_PUSH_URL_LEN} bytes"
                ),
            ));
        }
    }
    Ok(urls.to_vec())
}

/// Accepted HLS target segment durations, seconds (0 in a request means no HLS).
pub const HLS_SEGMENT_S_RANGE: (u32, u32) = (1, 60);
/// What the HLS directory's name adds to the output path without its extension.
pub const HLS_DIR_SUFFIX: &str = "-hls";

/// The HLS output of a composite at `rel_path` recorded per `record`, with segments of
/// `segment_s` seconds (0 = none). Errors: INVALID_ARGUMENT naming
/// `video_file_cfg.hls_segment_secs` when out of range or when record mode SINGLE makes
/// no composite.
pub fn hls(
    segment_s: u32,
    rel_path: &str,
    record: &RecordSpec,
) -> Result<Option<HlsSpec>, FieldError> {
    const FIELD: &str = "video_file_cfg.hls_segment_secs";
    if segment_s == 0 {
        return Ok(None);
    }
    let (lo, hi) = HLS_SEGMENT_S_RANGE;
    if !(lo..=hi).contains(&segment_s) {
        return Err(invalid(
            FIELD,
            format!("must be 0 (none) or {lo}..={hi} seconds, got {segment_s}"),
        ));
    }
    if !record.mode.mixed() {
        return Err(invalid(
            FIELD,
            "HLS carries the composite, and record_cfg.mode makes none",
        ));
    }
    Ok(Some(HlsSpec {
        segment_s,
        rel_dir: format!("{}{HLS_DIR_SUFFIX}", super::snapshot::stem(rel_path)),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::RecordMode;

    #[test]
    fn push_urls_are_rtmp_with_a_host_and_need_a_composite() {
        let r = RecordSpec::default();
        let v = |urls: &[&str], r: &RecordSpec| {
            let urls: Vec<String> = urls.iter().map(|u| u.to_string()).collect();
            live_push_urls(&urls, r).map_err(|e| e.to_string())
        };
        assert_eq!(
            v(&["rtmp://h:1935/live/k", "srt://h:9000?streamid=s"], &r)
                .unwrap()
                .len(),
            2
        );
        assert!(v(&["srt://?streamid=s"], &r).is_err(), "no host");
        let e = v(&["rtmp://h/live/k", "http://h/x"], &r).unwrap_err();
        assert!(e.contains("live_push_urls[1]"), "{e}");
        assert!(!e.contains("http://h/x"), "no URL in the message: {e}");
        assert!(v(&["rtmp:///live"], &r).unwrap_err().contains("[0]"));
        assert!(v(&["rtmp://h/live/k ey"], &r).is_err());
        assert!(v(&["rtmp://h/a"; 5], &r).unwrap_err().contains("at most 4"));
        let single = RecordSpec {
            mode: RecordMode::Single,
            ..RecordSpec::default()
        };
        assert!(v(&["rtmp://h/a"], &single)
            .unwrap_err()
            .contains("record_cfg.mode"));
    }

    #[test]
    fn hls_sits_beside_the_file() {
        let r = RecordSpec::default();
        let h = hls(4, "a/b.mp4", &r).unwrap().unwrap();
        assert_eq!((h.segment_s, h.rel_dir.as_str()), (4, "a/b-hls"));
        assert_eq!(hls(0, "b.mp4", &r).unwrap(), None);
        let e = hls(61, "b.mp4", &r).unwrap_err().to_string();
        assert!(e.contains("video_file_cfg.hls_segment_secs"), "{e}");
    }
}
