//! Errors of the mixer engine, each saying whose fault it is, and the one map from an
//! error to its gRPC-style code ([`MixerError::code`]).
//!
//! The gRPC service (`api/status.rs`) answers with that code and
//! `StateChanged.error_code` / `OutputInfo.error_code` report it, so a failure reads the
//! same in an RPC's status and in the mixer's events.
//!
//! | error                                  | [`ErrorCode`]        |
//! |----------------------------------------|----------------------|
//! | `InvalidArgument`, [`FieldError`]      | `INVALID_ARGUMENT`   |
//! | `PortsExhausted`, `SystemResource`     | `RESOURCE_EXHAUSTED` |
//! | `NotRunning`                           | `FAILED_PRECONDITION`|
//! | `Output`, cause `StorageFull`          | `RESOURCE_EXHAUSTED` |
//! | `Output`, cause `PermissionDenied`     | `PERMISSION_DENIED`  |
//! | `Output`, cause `BadPath`              | `INVALID_ARGUMENT` ([`OUTPUT_PATH_FIELD`]) |
//! | `Output`, cause `Other`; `Internal`    | `INTERNAL`           |

use std::fmt;
use std::io;

/// The request field an output path comes from (named by `BadPath` output errors).
pub const OUTPUT_PATH_FIELD: &str = "video_file_cfg.svr_path_name";

/// A request field that fails validation: `field` is its path in the request (e.g.
/// `video_file_cfg.layout_config[0].width`), `message` what is wrong. Displayed as
/// `"{field}: {message}"`, which is also the `INVALID_ARGUMENT` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

impl FieldError {
    /// The error of `field`.
    pub fn new(field: impl fmt::Display, message: impl fmt::Display) -> Self {
        Self {
            field: field.to_string(),
            message: message.to_string(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// The gRPC status codes engine errors map to; the discriminant is gRPC's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum ErrorCode {
    /// 3: the request is wrong (names the field).
    InvalidArgument = 3,
    /// 4: the mixer did not confirm a change in time (overloaded tick thread).
    DeadlineExceeded = 4,
    /// 7: the daemon may not write the output (file system permissions, read-only).
    PermissionDenied = 7,
    /// 8: UDP ports or disk space used up.
    ResourceExhausted = 8,
    /// 9: the mixer is not in a state that allows the operation.
    FailedPrecondition = 9,
    /// 13: our fault, or an output failure of no known cause.
    Internal = 13,
}

impl ErrorCode {
    /// gRPC's number of the code (as in `StateChanged.error_code`).
    pub fn as_i32(self) -> i32 {
        self as i32
    }
}

/// Why an output could not be created or written, as far as the caller can act on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OutputCause {
    /// No space left, quota exceeded or file too large (ENOSPC, EDQUOT, EFBIG).
    StorageFull,
    /// The daemon may not write there (EACCES, EPERM, EROFS).
    PermissionDenied,
    /// The path cannot name a new file: a parent is an existing file (ENOTDIR, or
    /// EEXIST while creating the directories), it is a directory (EISDIR), or a name
    /// is too long (ENAMETOOLONG).
    BadPath,
    /// Anything else (encoder, muxer, I/O error of no known cause).
    Other,
}

impl OutputCause {
    /// The cause of an I/O error of kind `kind`.
    pub fn from_io_kind(kind: io::ErrorKind) -> Self {
        use io::ErrorKind as K;
        match kind {
            K::StorageFull | K::QuotaExceeded | K::FileTooLarge => Self::StorageFull,
            K::PermissionDenied | K::ReadOnlyFilesystem => Self::PermissionDenied,
            K::NotADirectory | K::AlreadyExists | K::IsADirectory | K::InvalidFilename => {
                Self::BadPath
            }
            _ => Self::Other,
        }
    }

    /// The cause of OS error number `errno` (positive, e.g. `ENOSPC`; ffmpeg's
    /// `AVERROR(e)` carries `e`).
    pub fn from_errno(errno: i32) -> Self {
        Self::from_io_kind(io::Error::from_raw_os_error(errno).kind())
    }

    /// The code of an output failure of this cause.
    pub fn code(self) -> ErrorCode {
        match self {
            Self::StorageFull => ErrorCode::ResourceExhausted,
            Self::PermissionDenied => ErrorCode::PermissionDenied,
            Self::BadPath => ErrorCode::InvalidArgument,
            Self::Other => ErrorCode::Internal,
        }
    }
}

/// Why a mixer operation failed.
#[derive(Debug, thiserror::Error)]
pub enum MixerError {
    /// The caller asked for something invalid; `field` is the request field path.
    #[error("invalid {field}: {message}")]
    InvalidArgument { field: String, message: String },
    /// No free UDP ports in the configured range.
    #[error("no free UDP ports in {range}")]
    PortsExhausted { range: String },
    /// The process or the kernel ran out of `resource` (file descriptors: EMFILE/ENFILE;
    /// kernel buffers: ENOBUFS/ENOMEM) while `doing`; `hint` says what to raise.
    #[error("{resource} exhausted while {doing}: {message}; {hint}")]
    SystemResource {
        resource: &'static str,
        doing: String,
        message: String,
        hint: &'static str,
    },
    /// The mixer has stopped or failed and cannot be changed.
    #[error("mixer is not running")]
    NotRunning,
    /// The output could not be created or written; `cause` classifies why.
    #[error("output {path}: {message}")]
    Output {
        path: String,
        cause: OutputCause,
        message: String,
    },
    /// The tick thread did not confirm an update within `waited_ms` (it is behind):
    /// the update stays queued and applies when the thread catches up.
    #[error("the mixer did not apply the update within {waited_ms} ms (its tick thread is behind); the update stays queued and applies when it catches up: check GetCloudMixer")]
    UpdatePending { waited_ms: u64 },
    /// Our fault.
    #[error("internal error: {0}")]
    Internal(String),
}

impl MixerError {
    /// An [`MixerError::InvalidArgument`] for `field`.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::InvalidArgument {
            field: field.into(),
            message: message.into(),
        }
    }

    /// An [`MixerError::Output`] of output `path` (relative to the recordings root).
    pub fn output(path: impl Into<String>, cause: OutputCause, message: impl Into<String>) -> Self {
        Self::Output {
            path: path.into(),
            cause,
            message: message.into(),
        }
    }

    /// A [`MixerError::SystemResource`] if `e` is a process or kernel resource running
    /// out (EMFILE, ENFILE: file descriptors; ENOBUFS, ENOMEM: kernel memory), else None.
    /// `doing` says what failed, e.g. "binding UDP port 40002".
    pub fn system_resource(doing: impl Into<String>, e: &io::Error) -> Option<Self> {
        Self::system_resource_errno(doing, e.raw_os_error()?, e.to_string())
    }

    /// [`MixerError::system_resource`] from an OS error number and its message.
    pub fn system_resource_errno(
        doing: impl Into<String>,
        errno: i32,
        message: impl Into<String>,
    ) -> Option<Self> {
        const EMFILE: i32 = 24;
        const ENFILE: i32 = 23;
        const ENOBUFS: i32 = 105;
        const ENOMEM: i32 = 12;
        let (resource, hint) = match errno {
            EMFILE => (
                "file descriptors",
                "raise the daemon's open-file limit (ulimit -n, systemd LimitNOFILE, docker --ulimit nofile) or run fewer mixers",
            ),
            ENFILE => (
                "file descriptors",
                "the system-wide file table is full (fs.file-max)",
            ),
            ENOBUFS | ENOMEM => ("kernel memory", "the machine is short of memory"),
            _ => return None,
        };
        Some(Self::SystemResource {
            resource,
            doing: doing.into(),
            message: message.into(),
            hint,
        })
    }

    /// Output `path` failed with I/O error `e`, classified by its kind (a process or
    /// kernel resource running out is a [`MixerError::SystemResource`]).
    pub fn from_io(path: &str, e: &io::Error) -> Self {
        if let Some(r) = Self::system_resource(format!("opening output {path}"), e) {
            return r;
        }
        Self::output(path, OutputCause::from_io_kind(e.kind()), e.to_string())
    }

    /// Output `path` failed with `message` and, if known, OS error number `errno`
    /// (e.g. from ffmpeg's `AVERROR(errno)`); without one the cause is `Other`.
    pub fn from_errno(path: &str, errno: Option<i32>, message: impl Into<String>) -> Self {
        let message = message.into();
        if let Some(r) = errno.and_then(|n| {
            Self::system_resource_errno(format!("writing output {path}"), n, message.clone())
        }) {
            return r;
        }
        let cause = errno.map_or(OutputCause::Other, OutputCause::from_errno);
        Self::output(path, cause, message)
    }

    /// The gRPC code of this error: the one map used by the service's statuses and by
    /// the events' `error_code` (module table).
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::InvalidArgument { .. } => ErrorCode::InvalidArgument,
            Self::PortsExhausted { .. } | Self::SystemResource { .. } => {
                ErrorCode::ResourceExhausted
            }
            Self::NotRunning => ErrorCode::FailedPrecondition,
            Self::UpdatePending { .. } => ErrorCode::DeadlineExceeded,
            Self::Output { cause, .. } => cause.code(),
            Self::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<FieldError> for MixerError {
    fn from(e: FieldError) -> Self {
        Self::InvalidArgument {
            field: e.field,
            message: e.message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Linux errno values (asm-generic/errno-base.h, errno.h).
    const EPERM: i32 = 1;
    const EIO: i32 = 5;
    const EACCES: i32 = 13;
    const EEXIST: i32 = 17;
    const ENOTDIR: i32 = 20;
    const EISDIR: i32 = 21;
    const EFBIG: i32 = 27;
    const ENOSPC: i32 = 28;
    const EROFS: i32 = 30;
    const ENAMETOOLONG: i32 = 36;
    const EDQUOT: i32 = 122;

    #[test]
    fn errnos_map_to_causes_and_codes() {
        let cases = [
            (
                ENOSPC,
                OutputCause::StorageFull,
                ErrorCode::ResourceExhausted,
            ),
            (
                EDQUOT,
                OutputCause::StorageFull,
                ErrorCode::ResourceExhausted,
            ),
            (
                EFBIG,
                OutputCause::StorageFull,
                ErrorCode::ResourceExhausted,
            ),
            (
                EACCES,
                OutputCause::PermissionDenied,
                ErrorCode::PermissionDenied,
            ),
            (
                EPERM,
                OutputCause::PermissionDenied,
                ErrorCode::PermissionDenied,
            ),
            (
                EROFS,
                OutputCause::PermissionDenied,
                ErrorCode::PermissionDenied,
            ),
            (ENOTDIR, OutputCause::BadPath, ErrorCode::InvalidArgument),
            (EEXIST, OutputCause::BadPath, ErrorCode::InvalidArgument),
            (EISDIR, OutputCause::BadPath, ErrorCode::InvalidArgument),
            (
                ENAMETOOLONG,
                OutputCause::BadPath,
                ErrorCode::InvalidArgument,
            ),
            (EIO, OutputCause::Other, ErrorCode::Internal),
        ];
        for (errno, cause, code) in cases {
            assert_eq!(OutputCause::from_errno(errno), cause, "errno {errno}");
            let e = MixerError::from_errno("a.mp4", Some(errno), "write mp4 packet: x");
            assert_eq!(e.code(), code, "errno {errno}");
        }
    }

    #[test]
    fn a_full_disk_is_resource_exhausted() {
        let io = io::Error::from_raw_os_error(ENOSPC);
        let e = MixerError::from_io("2021/a.mp4", &io);
        assert_eq!(e.code(), ErrorCode::ResourceExhausted);
        assert_eq!(e.code().as_i32(), 8);
        assert!(e.to_string().starts_with("output 2021/a.mp4: "), "{e}");
    }

    #[test]
    fn io_kinds_without_errno_are_classified_too() {
        let denied = io::Error::new(io::ErrorKind::PermissionDenied, "no");
        assert_eq!(
            MixerError::from_io("a.mp4", &denied).code(),
            ErrorCode::PermissionDenied
        );
        let other = io::Error::other("broken");
        assert_eq!(
            MixerError::from_io("a.mp4", &other).code(),
            ErrorCode::Internal
        );
        let unknown = MixerError::from_errno("a.mp4", None, "packet before the header");
        assert_eq!(unknown.code(), ErrorCode::Internal);
    }

    #[test]
    fn each_variant_has_its_code() {
        assert_eq!(
            MixerError::invalid("f", "m").code(),
            ErrorCode::InvalidArgument
        );
        let ports = MixerError::PortsExhausted {
            range: "1-2".into(),
        };
        assert_eq!(ports.code(), ErrorCode::ResourceExhausted);
        assert_eq!(MixerError::NotRunning.code(), ErrorCode::FailedPrecondition);
        assert_eq!(MixerError::Internal("x".into()).code(), ErrorCode::Internal);
        assert_eq!(ErrorCode::Internal.as_i32(), 13);
        assert_eq!(ErrorCode::FailedPrecondition.as_i32(), 9);
        assert_eq!(ErrorCode::InvalidArgument.as_i32(), 3);
        assert_eq!(ErrorCode::PermissionDenied.as_i32(), 7);
    }

    #[test]
    fn a_field_error_reads_field_colon_message() {
        let f = FieldError::new("sources[1].camid", "duplicate \"a\"");
        assert_eq!(f.to_string(), "sources[1].camid: duplicate \"a\"");
        let e = MixerError::from(f);
        assert_eq!(e.code(), ErrorCode::InvalidArgument);
        assert!(
            matches!(e, MixerError::InvalidArgument { ref field, .. } if field == "sources[1].camid")
        );
    }
}
