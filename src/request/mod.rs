//! Requests as the gRPC service (`api/`) and the offline `compose` share them,
//! without the gRPC layer: validation of proto requests into engine types ([`validate`];
//! errors are [`crate::model::FieldError`]s naming the field), the output settings every
//! mixer inherits ([`OutputDefaults`]), and the proto form of an output's info that both
//! report ([`convert`]).

pub mod convert;
pub mod validate;

use crate::model::RecordingsRoot;

/// Settings every mixer's output inherits from the daemon (or, for `compose`, from its
/// flags).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputDefaults {
    /// Absolute directory all `svr_path_name`s are relative to, held open: outputs are
    /// created through its handle (it dereferences to its path).
    pub recordings_root: RecordingsRoot,
    /// libx264 preset, e.g. "veryfast".
    pub x264_preset: String,
    /// libx264 threads per mixer; 0 = let x264 choose.
    pub encoder_threads: u32,
    /// Largest picture a source may send, pixels (`serve --max-picture-pixels`).
    pub max_picture_pixels: u64,
    /// Template of per-participant paths when a request gives none
    /// (`serve --single-path-template`; [`crate::model::record::DEFAULT_SINGLE_PATH_TEMPLATE`]).
    pub single_path_template: String,
}
