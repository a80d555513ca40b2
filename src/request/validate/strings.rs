//! String fields: every string a request carries has a length and a charset limit,
//! checked here with `INVALID_ARGUMENT` naming the field, and no error message echoes
//! an unbounded value or a raw control character ([`shown`]).
//!
//! Lengths are in bytes (UTF-8). The limits, and which field each applies to, are listed
//! in docs/API.md ("Validation rules"); ids (`mixer_id`) and camids have their own
//! validators ([`super::output::mixer_id`], [`super::field::camid`]).

use crate::model::FieldError;

use super::field::invalid;

/// Longest `oper_user_id` (Create, Update, Destroy), bytes. It is kept with the mixer
/// and returned by Get, List and events: unbounded, one request could make `List`
/// answers exceed the client's message limit for as long as the mixer is listed.
pub const MAX_OPER_USER_ID_LEN: usize = 128;
/// Longest `layout_preset.name`, bytes.
pub const MAX_PRESET_NAME_LEN: usize = 64;
/// Longest `background_color`, bytes (`#RRGGBB`).
pub const MAX_COLOR_LEN: usize = 7;
/// Longest WHEP source URL (`sources[i].whep.url`), bytes.
pub const MAX_WHEP_URL_LEN: usize = 2048;
/// Longest WHEP bearer token (`sources[i].whep.bearer_token`), bytes.
pub const MAX_BEARER_TOKEN_LEN: usize = 4096;
/// Longest component (directory or file name) of `svr_path_name`, bytes: Linux's
/// `NAME_MAX`.
pub const MAX_PATH_COMPONENT_LEN: usize = 255;
/// Longest prefix of a value quoted in an error message, characters; a longer value is
/// cut and its length given.
pub const MAX_SHOWN_CHARS: usize = 64;

/// `value` as error messages and logs quote it: Rust-escaped (`"a\nb"`: no raw control
/// character), cut after [`MAX_SHOWN_CHARS`] characters with its byte length appended.
pub fn shown(value: &str) -> String {
    match value.char_indices().nth(MAX_SHOWN_CHARS) {
        None => format!("{value:?}"),
        Some((cut, _)) => format!("{:?}... ({} bytes)", &value[..cut], value.len()),
    }
}

/// A free-text field `f`: at most `max` bytes, no control characters (Unicode `Cc`:
/// C0, DEL, C1). Empty is accepted (the caller decides whether it means a default).
/// Errors: a [`FieldError`] naming `f`.
pub fn text(f: &str, value: &str, max: usize) -> Result<(), FieldError> {
    if value.len() > max {
        return Err(invalid(
            f,
            format!("at most {max} bytes, got {}", value.len()),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(
            f,
            format!("control characters in {}", shown(value)),
        ));
    }
    Ok(())
}

/// `oper_user_id` of Create, Update or Destroy: [`text`] of at most
/// [`MAX_OPER_USER_ID_LEN`] bytes (empty allowed: anonymous).
/// Longest `conference_id`, bytes.
pub const MAX_CONFERENCE_ID_LEN: usize = 128;

pub fn oper_user_id(value: &str) -> Result<(), FieldError> {
    text("oper_user_id", value, MAX_OPER_USER_ID_LEN)
}

/// A WHEP URL (field `f`): [`text`] of at most [`MAX_WHEP_URL_LEN`] bytes without
/// whitespace (RFC 3986 §2: a URI has none). The scheme and host are checked by the
/// caller.
pub fn url(f: &str, value: &str) -> Result<(), FieldError> {
    text(f, value, MAX_WHEP_URL_LEN)?;
    if value.chars().any(char::is_whitespace) {
        return Err(invalid(f, format!("whitespace in {}", shown(value))));
    }
    Ok(())
}

/// A bearer token (field `f`, never echoed): empty (none), or at most
/// [`MAX_BEARER_TOKEN_LEN`] bytes of RFC 6750 §2.1 `b64token` = 1*( ALPHA / DIGIT /
/// "-" / "." / "_" / "~" / "+" / "/" ) *"=" (JWTs and opaque API keys fit).
pub fn bearer_token(f: &str, value: &str) -> Result<(), FieldError> {
    if value.len() > MAX_BEARER_TOKEN_LEN {
        return Err(invalid(
            f,
            format!("at most {MAX_BEARER_TOKEN_LEN} bytes, got {}", value.len()),
        ));
    }
    let body = value.trim_end_matches('=');
    let ok = body
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
    if !value.is_empty() && (body.is_empty() || !ok) {
        return Err(invalid(
            f,
            "must be an RFC 6750 b64token (letters, digits, \"-._~+/\", then \"=\" padding)",
        ));
    }
    Ok(())
}
