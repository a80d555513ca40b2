//! Offline mixing from media files on a virtual clock, as fast as the CPU allows.

use std::path::PathBuf;

use crate::events::OutputInfo;
use crate::layout::Layout;
use crate::mixer::{MixerError, OutputSpec};

/// One input file and the camid its picture and sound are known by in the layout.
#[derive(Debug, Clone)]
pub struct OfflineInput {
    pub camid: String,
    pub path: PathBuf,
}

/// A whole offline job.
#[derive(Debug, Clone)]
pub struct OfflineJob {
    pub inputs: Vec<OfflineInput>,
    pub layout: Layout,
    pub output: OutputSpec,
    /// Stop after this much output media, ms; None = until the longest input ends.
    pub max_duration_ms: Option<u64>,
}

/// Runs the job to completion on the calling thread; returns the final output info.
/// Errors: `InvalidArgument` (input cannot be opened: field `input[i]`), `Output`.
pub fn run(job: OfflineJob) -> Result<OutputInfo, MixerError> {
    let _ = job;
    todo!("lead")
}
