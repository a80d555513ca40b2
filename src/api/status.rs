//! Engine errors -> gRPC statuses: the caller's mistakes get caller codes, ours `INTERNAL`.
//!
//! | [`MixerError`]      | gRPC code            |
//! |---------------------|----------------------|
//! | `InvalidArgument`   | `INVALID_ARGUMENT` (message `"{field}: {message}"`) |
//! | `PortsExhausted`    | `RESOURCE_EXHAUSTED` |
//! | `NotRunning`        | `FAILED_PRECONDITION`|
//! | `Output`, `Internal`| `INTERNAL`           |

use tonic::Status;

use crate::model::MixerError;

impl From<MixerError> for Status {
    fn from(e: MixerError) -> Self {
        match e {
            MixerError::InvalidArgument { field, message } => {
                Status::invalid_argument(format!("{field}: {message}"))
            }
            e @ MixerError::PortsExhausted { .. } => Status::resource_exhausted(e.to_string()),
            e @ MixerError::NotRunning => Status::failed_precondition(e.to_string()),
            e @ (MixerError::Output { .. } | MixerError::Internal(_)) => {
                Status::internal(e.to_string())
            }
        }
    }
}

/// The canonical upper-case name of a gRPC code, e.g. `INVALID_ARGUMENT`.
pub fn code_name(code: tonic::Code) -> &'static str {
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
    use tonic::Code;

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
        let out = MixerError::Output {
            path: "a.mp4".into(),
            message: "disk full".into(),
        };
        assert_eq!(Status::from(out).code(), Code::Internal);
        assert_eq!(
            Status::from(MixerError::Internal("x".into())).code(),
            Code::Internal
        );
    }

    #[test]
    fn names_codes() {
        assert_eq!(code_name(Code::NotFound), "NOT_FOUND");
        assert_eq!(code_name(Code::InvalidArgument), "INVALID_ARGUMENT");
    }
}
