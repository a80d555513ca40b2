//! The per-participant outputs of one mixer, as the API lists them: every file's
//! [`OutputInfo`], in the order the files were opened, and each participant's span
//! count (a participant who leaves and rejoins gets span 2, 3, ...; the count lives
//! here, with the mixer, so that a source removed and added again continues it).
//!
//! Source workers update their files' entries; `GetCloudMixer` reads a copy. Every
//! change a user should see is also emitted as `OutputInfoChanged` on the bus.

use std::collections::HashMap;

use parking_lot::Mutex;

use crate::events::{EventBus, EventKind, OutputInfo};

/// See the module docs.
pub struct SingleOutputs {
    mixer_id: String,
    bus: EventBus,
    infos: Mutex<Vec<OutputInfo>>,
    spans: Mutex<HashMap<String, u32>>,
}

/// Index of one output in [`SingleOutputs`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputSlot(usize);

impl SingleOutputs {
    /// No outputs yet.
    pub fn new(mixer_id: &str, bus: EventBus) -> Self {
        Self {
            mixer_id: mixer_id.to_owned(),
            bus,
            infos: Mutex::new(Vec::new()),
            spans: Mutex::new(HashMap::new()),
        }
    }

    /// The next presence span of `camid`: 1 for its first, then 2, 3, ...
    pub fn next_span(&self, camid: &str) -> u32 {
        let mut spans = self.spans.lock();
        let n = spans.entry(camid.to_owned()).or_insert(0);
        *n += 1;
        *n
    }

    /// Lists a new output and emits its first `OutputInfoChanged`.
    pub fn add(&self, info: OutputInfo) -> OutputSlot {
        let slot = {
            let mut infos = self.infos.lock();
            infos.push(info.clone());
            OutputSlot(infos.len() - 1)
        };
        self.emit(info);
        slot
    }

    /// Changes an output's entry; emits `OutputInfoChanged` when `emit`.
    pub fn update(&self, slot: OutputSlot, emit: bool, f: impl FnOnce(&mut OutputInfo)) {
        let info = {
            let mut infos = self.infos.lock();
            let Some(i) = infos.get_mut(slot.0) else {
                return;
            };
            f(i);
            i.clone()
        };
        if emit {
            self.emit(info);
        }
    }

    /// Every output so far, in the order they were opened.
    pub fn list(&self) -> Vec<OutputInfo> {
        self.infos.lock().clone()
    }

    fn emit(&self, info: OutputInfo) {
        self.bus
            .emit(&self.mixer_id, EventKind::OutputInfoChanged(info));
    }
}
