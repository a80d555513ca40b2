//! ffmpeg's own log lines, without the secrets of the URLs in them.
//!
//! ffmpeg prints the URLs it opens (`Connection to srt://host:port?streamid=KEY
//! failed`), and a live push URL carries a stream key or an SRT passphrase. [`install`]
//! replaces ffmpeg's log callback by one that formats each line with ffmpeg's own
//! formatter (`av_log_format_line2`: the same `[component @ 0x...]` prefix), hides every
//! `rtmp://`, `rtmps://` and `srt://` URL in it ([`hide_urls`]) and writes it to stderr,
//! for the lines at or above the level `media::init` set, as ffmpeg's default callback
//! would.

use std::ffi::{c_char, c_int, c_void, CStr};
use std::io::Write;

use ffmpeg_next::ffi;
use parking_lot::Mutex;

/// Longest log line kept, bytes (ffmpeg's default callback uses 1024 too).
const LINE_BYTES: usize = 1024;

/// The URL schemes whose URLs may carry secrets.
const SCHEMES: [&str; 3] = ["rtmps://", "rtmp://", "srt://"];

/// ffmpeg's "print the prefix" state between lines (a line without a newline continues).
static PRINT_PREFIX: Mutex<c_int> = Mutex::new(1);

/// Installs the callback (once, from `media::init`).
pub fn install() {
    // SAFETY: `callback` has the signature ffmpeg expects and stays valid for the
    // process's lifetime.
    unsafe { ffi::av_log_set_callback(Some(callback)) }
}

unsafe extern "C" fn callback(
    avcl: *mut c_void,
    level: c_int,
    fmt: *const c_char,
    vl: *mut ffi::__va_list_tag,
) {
    // SAFETY: plain reads of ffmpeg's global level.
    if level > unsafe { ffi::av_log_get_level() } {
        return;
    }
    let mut buf = [0 as c_char; LINE_BYTES];
    let mut prefix = PRINT_PREFIX.lock();
    // SAFETY: ffmpeg hands us its own format string and argument list, which its
    // formatter consumes once; `buf` is LINE_BYTES long and NUL-terminated by it.
    let n = unsafe {
        ffi::av_log_format_line2(
            avcl,
            level,
            fmt,
            vl,
            buf.as_mut_ptr(),
            LINE_BYTES as c_int,
            &mut *prefix,
        )
    };
    if n < 0 {
        return;
    }
    // SAFETY: NUL-terminated by av_log_format_line2 (truncated lines included).
    let line = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy();
    let _ = std::io::stderr().write_all(hide_urls(&line).as_bytes());
}

/// `line` with every `rtmp://`, `rtmps://` and `srt://` URL (up to whitespace or a
/// quote) replaced by [`redact_url`]'s form.
pub fn hide_urls(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(at) = SCHEMES.iter().filter_map(|s| rest.find(s)).min() {
        out.push_str(&rest[..at]);
        let url_len = rest[at..]
            .find(|c: char| c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(rest.len() - at);
        out.push_str(&redact_url(&rest[at..at + url_len]));
        rest = &rest[at + url_len..];
    }
    out.push_str(rest);
    out
}

/// `url` as it may be shown: scheme, host and port, the first path segment (RTMP's
/// application), and `/***` for anything after them (a stream key, an SRT `streamid`
/// or `passphrase` query) and `***@` for user info.
/// `rtmp://cdn.example:1935/live/abc123` -> `rtmp://cdn.example:1935/live/***`,
/// `srt://h:9000?streamid=x` -> `srt://h:9000/***`.
pub fn redact_url(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host = match authority.rsplit_once('@') {
        Some((_, host)) => format!("***@{host}"),
        None => authority.to_owned(),
    };
    let (app, secret) = match tail.strip_prefix('/') {
        Some(path) => {
            let app_end = path.find(['/', '?']).unwrap_or(path.len());
            (format!("/{}", &path[..app_end]), app_end < path.len())
        }
        None => (String::new(), !tail.is_empty()),
    };
    format!("{scheme}://{host}{app}{}", if secret { "/***" } else { "" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_secrets_in_log_lines() {
        assert_eq!(
            hide_urls("[srt @ 0x1] Connection to srt://127.0.0.1:9000?streamid=KEY failed\n"),
            "[srt @ 0x1] Connection to srt://127.0.0.1:9000/*** failed\n"
        );
        assert_eq!(
            hide_urls("open 'rtmps://u:p@h/app/KEY' and rtmp://h:1935/live/KEY2."),
            "open 'rtmps://***@h/app/***' and rtmp://h:1935/live/***"
        );
        assert_eq!(hide_urls("no url here"), "no url here");
    }

    #[test]
    fn urls_are_shown_without_their_stream_key_or_user_info() {
        assert_eq!(
            redact_url("rtmp://cdn.example:1935/live/abc123"),
            "rtmp://cdn.example:1935/live/***"
        );
        assert_eq!(
            redact_url("rtmps://u:p@ingest.example/app/key?token=x"),
            "rtmps://***@ingest.example/app/***"
        );
        assert_eq!(redact_url("rtmp://h/live"), "rtmp://h/live");
        assert_eq!(redact_url("rtmp://h/live?k=secret"), "rtmp://h/live/***");
        assert_eq!(
            redact_url("srt://127.0.0.1:9000?streamid=s3cret&passphrase=0123456789"),
            "srt://127.0.0.1:9000/***"
        );
        assert_eq!(redact_url("srt://h:9000"), "srt://h:9000");
    }
}
