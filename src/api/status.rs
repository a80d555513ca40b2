//! Engine errors -> gRPC statuses: the caller's mistakes get caller codes, ours `INTERNAL`.
//!
//! The code is [`MixerError::code`], the one map shared with the events'
//! `StateChanged.error_code` and `OutputInfo.error_code`; this module only adds the
//! message:
//!
//! | [`MixerError`] / cause                     | gRPC code            | message |
//! |--------------------------------------------|----------------------|---------|
//! | `InvalidArgument`, [`FieldError`] (validators) | `INVALID_ARGUMENT` | `"{field}: {message}"` |
//! | `PortsExhausted`                           | `RESOURCE_EXHAUSTED` | `no free UDP ports in ...` |
//! | `SystemResource` (EMFILE, ENFILE, ENOBUFS, ENOMEM) | `RESOURCE_EXHAUSTED` | `file descriptors exhausted while binding UDP port N: ...; raise ...` |
//! | `NotRunning`                               | `FAILED_PRECONDITION`| `mixer is not running` |
//! | `Output`, `StorageFull` (ENOSPC, EDQUOT, EFBIG) | `RESOURCE_EXHAUSTED` | `output {path}: {cause}` |
//! | `Output`, `PermissionDenied` (EACCES, EPERM, EROFS) | `PERMISSION_DENIED` | `output {path}: {cause}` |
//! | `Output`, `BadPath` (a parent is a file: ENOTDIR, EEXIST; EISDIR, ENAMETOOLONG) | `INVALID_ARGUMENT` | `video_file_cfg.svr_path_name: output {path}: {cause}` |
//! | `Output`, `Other`; `Internal`              | `INTERNAL`           | the error's text |
//!
//! A permission error is `PERMISSION_DENIED` rather than `FAILED_PRECONDITION`: a
//! control token grants every RPC or none (a bad token is `UNAUTHENTICATED`, in
//! [`crate::api::auth`]), so the code can only mean that the daemon's own file-system
//! rights refused the output, and it says so more directly (the operator fixes the
//! directory's permissions; the same request then succeeds).

use tonic::{Code, Status};

use crate::model::{ErrorCode, FieldError, MixerError, OutputCause, OUTPUT_PATH_FIELD};

/// The tonic form of an engine error code.
pub fn grpc_code(code: ErrorCode) -> Code {
    match code {
        ErrorCode::InvalidArgument => Code::InvalidArgument,
        ErrorCode::DeadlineExceeded => Code::DeadlineExceeded,
        ErrorCode::PermissionDenied => Code::PermissionDenied,
        ErrorCode::ResourceExhausted => Code::ResourceExhausted,
        ErrorCode::FailedPrecondition => Code::FailedPrecondition,
        ErrorCode::Internal => Code::Internal,
    }
}

impl From<MixerError> for Status {
    fn from(e: MixerError) -> Self {
        let code = grpc_code(e.code());
        let message = match &e {
            MixerError::InvalidArgument { field, message } => format!("{field}: {message}"),
            MixerError::Output {
                cause: OutputCause::BadPath,
                ..
            } => format!("{OUTPUT_PATH_FIELD}: {e}"),
            _ => e.to_string(),
        };
        Status::new(code, message)
    }
}

/// A validation error: `INVALID_ARGUMENT` with message `"{field}: {message}"`.
impl From<FieldError> for Status {
    fn from(e: FieldError) -> Self {
        MixerError::from(e).into()
    }
}

/// The canonical upper-case name of a gRPC code, e.g. `INVALID_ARGUMENT`.
pub fn code_name(code: Code) -> &'static str {
    use tonic::Code::*;
    match code {
        Ok => "OK",
        Cancelled => "CANCELLED",
        Unknown => "UNKNOWN",
        InvalidArgument => "INVALID_ARGUMENT",
        DeadlineExceeded => "DEADLINE_EXCEEDED",
        NotFound => "NOT_FOUND",
        AlreadyExists => "ALREADY_EXISTS",
        PermissionDenied => "PERMISSION_DENIED",
        ResourceExhausted => "RESOURCE_EXHAUSTED",
        FailedPrecondition => "FAILED_PRECONDITION",
        Aborted => "ABORTED",
        OutOfRange => "OUT_OF_RANGE",
        Unimplemented => "UNIMPLEMENTED",
        Internal => "INTERNAL",
        Unavailable => "UNAVAILABLE",
        DataLoss => "DATA_LOSS",
        Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_each_variant_to_its_code() {
        let s = Status::from(MixerError::invalid(
            "add_sources[0].camid",
            "duplicate \"a\"",
        ));
        assert_eq!(s.code(), Code::InvalidArgument);
        assert_eq!(s.message(), "add_sources[0].camid: duplicate \"a\"");
        let s = Status::from(MixerError::PortsExhausted {
            range: "40000-40999".into(),
        });
        assert_eq!(s.code(), Code::ResourceExhausted);
        assert!(s.message().contains("40000-40999"));
        assert_eq!(
            Status::from(MixerError::NotRunning).code(),
            Code::FailedPrecondition
        );
        let out = MixerError::output("a.mp4", OutputCause::Other, "muxer failed");
        assert_eq!(Status::from(out).code(), Code::Internal);
        let full = MixerError::from_io("a.mp4", &std::io::Error::from_raw_os_error(28));
        assert_eq!(Status::from(full).code(), Code::ResourceExhausted);
        let denied = MixerError::from_errno("a.mp4", Some(13), "create mp4: Permission denied");
        let s = Status::from(denied);
        assert_eq!(s.code(), Code::PermissionDenied);
        assert_eq!(s.message(), "output a.mp4: create mp4: Permission denied");
        assert_eq!(
            Status::from(MixerError::Internal("x".into())).code(),
            Code::Internal
        );
    }

    #[test]
    fn a_path_through_a_file_names_the_field() {
        let e = MixerError::from_io("x.mp4/y.mp4", &std::io::Error::from_raw_os_error(20));
        let s = Status::from(e);
        assert_eq!(s.code(), Code::InvalidArgument);
        assert!(
            s.message()
                .starts_with("video_file_cfg.svr_path_name: output x.mp4/y.mp4: "),
            "{}",
            s.message()
        );
    }

    #[test]
    fn field_errors_keep_their_message() {
        let s = Status::from(FieldError::new(
            "video_file_cfg.v_width",
            "must be even, got 641",
        ));
        assert_eq!(s.code(), Code::InvalidArgument);
        assert_eq!(s.message(), "video_file_cfg.v_width: must be even, got 641");
    }

    #[test]
    fn every_engine_code_has_its_grpc_number() {
        for c in [
            ErrorCode::InvalidArgument,
            ErrorCode::DeadlineExceeded,
            ErrorCode::PermissionDenied,
            ErrorCode::ResourceExhausted,
            ErrorCode::FailedPrecondition,
            ErrorCode::Internal,
        ] {
            assert_eq!(grpc_code(c) as i32, c.as_i32(), "{c:?}");
        }
    }

    #[test]
    fn names_codes() {
        assert_eq!(code_name(Code::NotFound), "NOT_FOUND");
        assert_eq!(code_name(Code::InvalidArgument), "INVALID_ARGUMENT");
    }
}
