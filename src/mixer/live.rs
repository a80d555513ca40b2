//! A live mixer: RTP in over UDP, wall-clock ticks, fragmented MP4 out.

use crate::events::{EventBus, OutputInfo};
use crate::ingest::ports::PortPool;
use crate::mixer::{ContentUpdate, MixerError, MixerSnapshot, MixerSpec, SourcePorts};

/// Handle to one running live mixer. Dropping it does not stop the mixer; call `stop`.
pub struct LiveMixer {}

impl LiveMixer {
    /// Allocates UDP ports for every source, opens the output, starts the threads and
    /// returns once the mixer is Running (emitting Starting then Running on `bus`).
    /// Must be called inside a tokio runtime (sockets run on it).
    /// Returned ports are in the order of `spec.sources`.
    /// Errors: `PortsExhausted`, `Output` (file cannot be created), `Internal`.
    pub fn start(
        spec: MixerSpec,
        ports: &PortPool,
        bus: EventBus,
    ) -> Result<(LiveMixer, Vec<SourcePorts>), MixerError> {
        let _ = (spec, ports, bus);
        todo!()
    }

    /// Applies a layout change and adds/removes sources at the next frame boundary.
    /// Returns the ports of `update.add_sources`, in order.
    /// Errors: `NotRunning`, `PortsExhausted`, `InvalidArgument` (duplicate/unknown camid).
    pub fn update(
        &self,
        update: ContentUpdate,
        ports: &PortPool,
    ) -> Result<Vec<SourcePorts>, MixerError> {
        let _ = (update, ports);
        todo!()
    }

    /// Stops and finalizes the file; blocks until done (call from a blocking thread).
    /// Emits Stopping, the final OutputInfoChanged, then Stopped. Idempotent.
    pub fn stop(&self) -> OutputInfo {
        todo!()
    }

    /// Current state, output info and per-source counters.
    pub fn snapshot(&self) -> MixerSnapshot {
        todo!()
    }
}
