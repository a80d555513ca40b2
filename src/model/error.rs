//! Errors of the mixer engine, each saying whose fault it is.

/// Why a mixer operation failed.
#[derive(Debug, thiserror::Error)]
pub enum MixerError {
    /// The caller asked for something invalid; `field` is the request field path.
    #[error("invalid {field}: {message}")]
    InvalidArgument { field: String, message: String },
    /// No free UDP ports in the configured range.
    #[error("no free UDP ports in {range}")]
    PortsExhausted { range: String },
    /// The mixer has stopped or failed and cannot be changed.
    #[error("mixer is not running")]
    NotRunning,
    /// The output could not be created or written.
    #[error("output {path}: {message}")]
    Output { path: String, message: String },
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
}
