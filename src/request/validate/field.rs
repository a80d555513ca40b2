//! Building [`FieldError`]s that name the offending request field (the API answers them
//! with `INVALID_ARGUMENT` and the same text).
//!
//! Every message reads `<field path>: <what is wrong>`, e.g.
//! `video_file_cfg.v_width: must be even, got 641` or `sources[1].camid: duplicate "Usr2.-1"`.

use std::fmt::Display;

use crate::model::FieldError;

/// The error of `field`, displayed as `"{field}: {message}"`.
pub fn invalid(field: impl Display, message: impl Display) -> FieldError {
    FieldError::new(field, message)
}

/// Joins a prefix and a field name with a dot; an empty prefix yields `name` alone.
pub fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

/// `prefix[index]`.
pub fn index(prefix: &str, index: usize) -> String {
    format!("{prefix}[{index}]")
}

/// Checks a camid-like identifier (a source or region camid): non-empty, at most
/// [`MAX_CAMID_LEN`] bytes, no control characters.
pub fn camid(field: &str, value: &str) -> Result<(), FieldError> {
    if value.is_empty() {
        return Err(invalid(field, "must not be empty"));
    }
    if value.len() > MAX_CAMID_LEN {
        return Err(invalid(
            field,
            format!("at most {MAX_CAMID_LEN} bytes, got {}", value.len()),
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(invalid(field, format!("control characters in {value:?}")));
    }
    Ok(())
}

/// Longest accepted camid, bytes.
pub const MAX_CAMID_LEN: usize = 128;
