//! The daemon's mixers by id: reservation on Create, lookup, listing.
//!
//! A Create first *reserves* its id (and output path) under the registry lock, so two
//! concurrent Creates of the same id or file cannot both win, then starts the engine
//! outside the lock. A mixer whose start failed is removed again; a stopped mixer stays
//! listed until the daemon exits.
//!
//! The registry keeps no lifecycle of its own: an entry holds nothing (starting), the
//! engine handle, or the engine's final snapshot, and its state is the engine's
//! ([`Entry::state`], decided by [`crate::model::lifecycle`]).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;

use parking_lot::Mutex;
use tokio::sync::OwnedMutexGuard;
use tonic::Status;

use crate::api::convert::{self, InfoParts};
use crate::events::{MixerState, OutputInfo, OutputStatus};
use crate::layout::Layout;
use crate::mixer::{LiveMixer, MixerSnapshot, SourceStats};
use crate::model::{MixerSpec, OutputSpec, SourceSpec, OUTPUT_PATH_FIELD};
use crate::proto;

/// One mixer known to the daemon.
pub struct Entry {
    pub mixer_id: String,
    /// Who created it.
    pub oper_user_id: String,
    /// Unix ms.
    pub created_unix_ms: i64,
    /// ms.
    pub playout_delay_ms: u32,
    /// ms.
    pub stale_timeout_ms: u32,
    pub output: OutputSpec,
    /// Nothing yet, the engine handle, or the final snapshot (engine dropped).
    slot: Mutex<Slot>,
    /// The sources and layout as last requested (the engine's snapshot is authoritative
    /// for what is shown; this is what the next Update is validated against).
    current: Mutex<(Vec<SourceSpec>, Layout)>,
    /// Serializes Create (while starting), Update and Destroy of this mixer.
    control: Arc<tokio::sync::Mutex<()>>,
}

/// What an entry holds of its engine: which resources exist, not a second lifecycle.
enum Slot {
    /// Reserved by Create; `LiveMixer::start` is running and no engine exists yet. The
    /// mixer is Starting: the first step its engine's lifecycle takes.
    Reserved,
    /// The engine handle; its lifecycle is the mixer's state (Starting to Stopped or
    /// Error: a failed mixer keeps its handle, and its ports, until it is destroyed).
    Engine(Arc<LiveMixer>),
    /// Stopped by Destroy or shutdown: the last snapshot, in a final state (Stopped or
    /// Error). The engine handle is dropped, which releases the mixer's UDP ports.
    Released(Box<MixerSnapshot>),
}

impl Entry {
    /// The engine until it is released; None while starting and after [`Entry::release`].
    pub fn engine(&self) -> Option<Arc<LiveMixer>> {
        match &*self.slot.lock() {
            Slot::Engine(m) => Some(m.clone()),
            Slot::Reserved | Slot::Released(_) => None,
        }
    }

    /// The mixer's lifecycle state: Starting before the engine exists, then the
    /// engine's, then the final snapshot's.
    pub fn state(&self) -> MixerState {
        let engine = match &*self.slot.lock() {
            Slot::Reserved => return MixerState::Starting,
            Slot::Released(last) => return last.state,
            Slot::Engine(m) => m.clone(),
        };
        engine.state()
    }

    /// true once [`Entry::release`] was called: the engine is stopped and dropped.
    pub fn is_released(&self) -> bool {
        matches!(&*self.slot.lock(), Slot::Released(_))
    }

    /// Records the started engine.
    pub fn set_engine(&self, mixer: LiveMixer) {
        *self.slot.lock() = Slot::Engine(Arc::new(mixer));
    }

    /// After `stop()`: keeps the final snapshot (its state is final) and drops the
    /// engine handle (which releases its ports once no other clone of the handle
    /// remains).
    pub fn release(&self, last: MixerSnapshot) {
        debug_assert!(last.state.is_final(), "released in {:?}", last.state);
        *self.slot.lock() = Slot::Released(Box::new(last));
    }

    /// Waits for exclusive control (no concurrent start, update or stop).
    pub async fn lock(&self) -> OwnedMutexGuard<()> {
        self.control.clone().lock_owned().await
    }

    /// The sources as last requested.
    pub fn sources(&self) -> Vec<SourceSpec> {
        self.current.lock().0.clone()
    }

    /// Records the sources (and layout, if Some) after a successful update.
    pub fn set_current(&self, sources: Vec<SourceSpec>, layout: Option<Layout>) {
        let mut cur = self.current.lock();
        cur.0 = sources;
        if let Some(l) = layout {
            cur.1 = l;
        }
    }

    /// The mixer's info now: the engine's snapshot, or a Starting placeholder.
    /// `rtp_host` is where the daemon binds RTP ports.
    pub fn info(&self, rtp_host: IpAddr) -> proto::MixerInfo {
        let live = match &*self.slot.lock() {
            Slot::Released(last) => return self.info_of(rtp_host, last),
            Slot::Engine(m) => Some(m.clone()),
            Slot::Reserved => None,
        };
        let snap = match live {
            Some(m) => m.snapshot(),
            None => self.starting_snapshot(),
        };
        self.info_of(rtp_host, &snap)
    }

    fn info_of(&self, rtp_host: IpAddr, snap: &MixerSnapshot) -> proto::MixerInfo {
        let parts = InfoParts {
            mixer_id: &self.mixer_id,
            oper_user_id: &self.oper_user_id,
            created_unix_ms: self.created_unix_ms,
            playout_delay_ms: self.playout_delay_ms,
            stale_timeout_ms: self.stale_timeout_ms,
            output: &self.output,
            rtp_host,
        };
        convert::mixer_info(parts, snap)
    }

    fn starting_snapshot(&self) -> MixerSnapshot {
        let cur = self.current.lock();
        MixerSnapshot {
            state: MixerState::Starting,
            error_code: 0,
            error_message: String::new(),
            output: OutputInfo {
                path: self.output.rel_path.clone(),
                abs_path: self.output.abs_path.display().to_string(),
                duration_ms: 0,
                size_bytes: 0,
                status: OutputStatus::Recording,
                error_code: 0,
                error_message: String::new(),
            },
            sources: cur
                .0
                .iter()
                .map(|s| SourceStats {
                    camid: s.camid.clone(),
                    video_codec: s.video.map(|v| v.codec),
                    audio_codec: s.audio.map(|a| a.codec),
                    ..Default::default()
                })
                .collect(),
            layout: cur.1.clone(),
        }
    }
}

/// Mixers by id, sorted.
#[derive(Default)]
pub struct Registry {
    map: Mutex<BTreeMap<String, Arc<Entry>>>,
}

impl Registry {
    /// Reserves `spec.mixer_id` and its output file; returns the entry with its control
    /// lock held (release it when the start has finished).
    /// Errors: ALREADY_EXISTS if the id is taken, another mixer writes the same file, or
    /// the file already exists on disk (recordings are never overwritten).
    pub fn reserve(
        &self,
        spec: &MixerSpec,
        created_unix_ms: i64,
    ) -> Result<(Arc<Entry>, OwnedMutexGuard<()>), Status> {
        let mut map = self.map.lock();
        if map.contains_key(&spec.mixer_id) {
            return Err(Status::already_exists(format!(
                "mixer_id: {:?} already exists",
                spec.mixer_id
            )));
        }
        let path_field = OUTPUT_PATH_FIELD;
        let rel = &spec.output.rel_path;
        if let Some(other) = map
            .values()
            .find(|e| e.output.abs_path == spec.output.abs_path)
        {
            return Err(Status::already_exists(format!(
                "{path_field}: {rel:?} is the output of mixer {:?}",
                other.mixer_id
            )));
        }
        if spec.output.abs_path.exists() {
            return Err(Status::already_exists(format!(
                "{path_field}: {rel:?} already exists; recordings are not overwritten"
            )));
        }
        let control = Arc::new(tokio::sync::Mutex::new(()));
        let guard = control
            .clone()
            .try_lock_owned()
            .map_err(|_| Status::internal("fresh mixer lock is held"))?;
        let entry = Arc::new(Entry {
            mixer_id: spec.mixer_id.clone(),
            oper_user_id: spec.oper_user_id.clone(),
            created_unix_ms,
            playout_delay_ms: spec.playout_delay.as_millis() as u32,
            stale_timeout_ms: spec.stale_timeout.as_millis() as u32,
            output: spec.output.clone(),
            slot: Mutex::new(Slot::Reserved),
            current: Mutex::new((spec.sources.clone(), spec.layout.clone())),
            control,
        });
        map.insert(spec.mixer_id.clone(), entry.clone());
        Ok((entry, guard))
    }

    /// Forgets a mixer (after its start failed).
    pub fn remove(&self, mixer_id: &str) {
        self.map.lock().remove(mixer_id);
    }

    /// The mixer `mixer_id`. Errors: NOT_FOUND.
    pub fn get(&self, mixer_id: &str) -> Result<Arc<Entry>, Status> {
        self.map
            .lock()
            .get(mixer_id)
            .cloned()
            .ok_or_else(|| Status::not_found(format!("mixer_id: no mixer {mixer_id:?}")))
    }

    /// Every mixer, sorted by id.
    pub fn all(&self) -> Vec<Arc<Entry>> {
        self.map.lock().values().cloned().collect()
    }
}
