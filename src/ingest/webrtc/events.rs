//! Per-source connection events of WebRTC sources, onto the mixer's event bus.

use parking_lot::Mutex;
use std::sync::Arc;

use crate::events::{EventBus, EventKind, SourceConnectionState};

pub use crate::events::SourceConnectionState as ConnectionState;

/// Emits [`EventKind::SourceStateChanged`] for one source; repeated identical states
/// are emitted once. Cheap to clone.
#[derive(Clone)]
pub struct SourceEvents {
    bus: EventBus,
    mixer_id: Arc<str>,
    camid: Arc<str>,
    last: Arc<Mutex<Option<SourceConnectionState>>>,
}

impl SourceEvents {
    /// Events of source `camid` of mixer `mixer_id`.
    pub fn new(bus: EventBus, mixer_id: &str, camid: &str) -> Self {
        Self {
            bus,
            mixer_id: mixer_id.into(),
            camid: camid.into(),
            last: Arc::new(Mutex::new(None)),
        }
    }

    /// Emits `state` with `reason` unless it is the state last emitted, or the source
    /// has failed ([`SourceConnectionState::Failed`] is final).
    pub fn emit(&self, state: SourceConnectionState, reason: impl Into<String>) {
        {
            let mut last = self.last.lock();
            if *last == Some(state) || *last == Some(SourceConnectionState::Failed) {
                return;
            }
            *last = Some(state);
        }
        let reason = reason.into();
        tracing::info!(mixer_id = %self.mixer_id, camid = %self.camid, ?state, %reason, "source connection");
        self.bus.emit(
            &self.mixer_id,
            EventKind::SourceStateChanged {
                camid: self.camid.to_string(),
                state,
                reason,
            },
        );
    }

    /// The state last emitted, if any.
    pub fn last(&self) -> Option<SourceConnectionState> {
        *self.last.lock()
    }
}
