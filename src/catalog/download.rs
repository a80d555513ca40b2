//! `GET /files/{id}?expires=..&sig=..`: a catalogued file through its signed URL
//! ([`super::signed`]), with single byte ranges (RFC 9110 §14).
//!
//! The file is opened through the recordings root's handle (never outside it). Answers:
//! 200 with the whole file; 206 with `Content-Range` for one satisfiable range
//! (`bytes=a-b`, `bytes=a-`, `bytes=-n`); 416 with `Content-Range: bytes */len` for an
//! unsatisfiable one; a header with several ranges or another unit is ignored (200,
//! which RFC 9110 §14.2 allows). 403 for an expired or tampered URL, 404 for an id the
//! catalog does not list or whose file is gone.

use axum::body::Body;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// What a `Range` header asks of a file of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RangeAnswer {
    /// No usable range: the whole file.
    Full,
    /// Bytes `start..=end`.
    Partial { start: u64, end: u64 },
    /// A single range past the end.
    Unsatisfiable,
}

/// Reads a `Range` header value for a file of `len` bytes.
pub fn parse_range(value: Option<&str>, len: u64) -> RangeAnswer {
    let Some(spec) = value.and_then(|v| v.trim().strip_prefix("bytes=")) else {
        return RangeAnswer::Full;
    };
    if spec.contains(',') {
        return RangeAnswer::Full;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return RangeAnswer::Full;
    };
    let num = |s: &str| s.trim().parse::<u64>().ok();
    let (start, end) = match (a.trim().is_empty(), b.trim().is_empty()) {
        // bytes=-n: the last n bytes.
        (true, false) => match num(b) {
            Some(0) => return RangeAnswer::Unsatisfiable,
            Some(n) => (len.saturating_sub(n), len.saturating_sub(1)),
            None => return RangeAnswer::Full,
        },
        (false, true) => match num(a) {
            Some(s) => (s, len.saturating_sub(1)),
            None => return RangeAnswer::Full,
        },
        (false, false) => match (num(a), num(b)) {
            (Some(s), Some(e)) if s <= e => (s, e.min(len.saturating_sub(1))),
            _ => return RangeAnswer::Full,
        },
        (true, true) => return RangeAnswer::Full,
    };
    if len == 0 || start >= len {
        return RangeAnswer::Unsatisfiable;
    }
    RangeAnswer::Partial { start, end }
}

/// The response for `file` (`len` bytes, served as `name`) and the request's `Range`.
pub async fn respond(
    mut file: tokio::fs::File,
    len: u64,
    name: &str,
    range: Option<&str>,
) -> Response {
    let disposition = format!(
        "attachment; filename=\"{}\"",
        name.replace(['"', '\\'], "_")
    );
    let (status, start, count) = match parse_range(range, len) {
        RangeAnswer::Full => (StatusCode::OK, 0, len),
        RangeAnswer::Partial { start, end } => {
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        RangeAnswer::Unsatisfiable => {
            return (
                StatusCode::RANGE_NOT_SATISFIABLE,
                [(header::CONTENT_RANGE, format!("bytes */{len}"))],
            )
                .into_response();
        }
    };
    if start > 0 {
        if let Err(e) = file.seek(std::io::SeekFrom::Start(start)).await {
            tracing::error!(error = %e, "seek in a download");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    }
    let body = Body::from_stream(tokio_util::io::ReaderStream::new(file.take(count)));
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let h = r.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k, v: String| {
        if let Ok(v) = v.parse() {
            h.insert(k, v);
        }
    };
    set(h, header::CONTENT_LENGTH, count.to_string());
    set(h, header::ACCEPT_RANGES, "bytes".into());
    set(h, header::CONTENT_TYPE, "application/octet-stream".into());
    set(h, header::CONTENT_DISPOSITION, disposition);
    if status == StatusCode::PARTIAL_CONTENT {
        set(
            h,
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{len}", start + count - 1),
        );
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use RangeAnswer::*;

    #[test]
    fn ranges_as_rfc_9110_reads_them() {
        let p = |v: &str| parse_range(Some(v), 1000);
        assert_eq!(parse_range(None, 1000), Full);
        assert_eq!(p("bytes=0-99"), Partial { start: 0, end: 99 });
        assert_eq!(
            p("bytes=900-"),
            Partial {
                start: 900,
                end: 999
            }
        );
        assert_eq!(
            p("bytes=-100"),
            Partial {
                start: 900,
                end: 999
            }
        );
        assert_eq!(p("bytes=-5000"), Partial { start: 0, end: 999 });
        assert_eq!(
            p("bytes=990-2000"),
            Partial {
                start: 990,
                end: 999
            }
        );
        assert_eq!(p("bytes=1000-"), Unsatisfiable);
        assert_eq!(p("bytes=-0"), Unsatisfiable);
        for ignored in [
            "bytes=0-1,5-9",
            "items=0-1",
            "bytes=9-1",
            "bytes=x-1",
            "bytes=-",
        ] {
            assert_eq!(p(ignored), Full, "{ignored}");
        }
        assert_eq!(parse_range(Some("bytes=0-"), 0), Unsatisfiable);
    }
}
