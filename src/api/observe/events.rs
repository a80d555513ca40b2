//! The event counters recorded where the event happens (into the global recorder that
//! [`super::collect::install`] sets up): recordings that ended. A leaf module: the
//! registry calls it when it releases a mixer, and it imports nothing of the service.

use metrics::counter;

use crate::events::{OutputInfo, OutputStatus};

/// Counter: recordings that ended, by `status` (`finalized`, `failed`).
pub const FILES_ENDED: &str = "cloudmixer_files_ended_total";
/// Counter: bytes of the recordings that ended (their final sizes).
pub const FILE_BYTES_ENDED: &str = "cloudmixer_file_bytes_ended_total";

/// Counts a recording that ended with `output` (called once per mixer, when the
/// registry releases it).
pub fn file_ended(output: &OutputInfo) {
    let status = match output.status {
        OutputStatus::Finalized => "finalized",
        OutputStatus::Failed => "failed",
        // A released mixer's output is final; kept apart should that ever change.
        OutputStatus::Recording => "recording",
    };
    counter!(FILES_ENDED, "status" => status).increment(1);
    counter!(FILE_BYTES_ENDED).increment(output.size_bytes);
}
