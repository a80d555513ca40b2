//! Engine -> proto forms that the gRPC service and `compose` both report: an output's
//! info and status. The rest of the service's conversions are in `api/convert.rs`.

use crate::events::{self, OutputStatus};
use crate::proto;

/// Proto form of an output file status.
pub fn output_status(s: OutputStatus) -> proto::OutputStatus {
    match s {
        OutputStatus::Recording => proto::OutputStatus::Recording,
        OutputStatus::Finalized => proto::OutputStatus::Finalized,
        OutputStatus::Failed => proto::OutputStatus::Failed,
    }
}

/// Proto form of [`events::OutputInfo`].
pub fn output_info(o: &events::OutputInfo) -> proto::OutputInfo {
    proto::OutputInfo {
        path: o.path.clone(),
        duration_ms: o.duration_ms,
        size_bytes: o.size_bytes,
        status: output_status(o.status) as i32,
        error_code: o.error_code,
        error_message: o.error_message.clone(),
        abs_path: o.abs_path.clone(),
    }
}
