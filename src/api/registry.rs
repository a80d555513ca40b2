//! The daemon's mixers by id: reservation on Create, lookup, listing.
//!
//! A Create first *reserves* its id (and output path) under the registry lock, so two
//! concurrent Creates of the same id or file cannot both win, then starts the engine
//! outside the lock. A mixer whose start failed is removed again; a stopped (released)
//! mixer stays listed, holding only its final snapshot (no engine, no pictures), until
//! it is evicted by the [`Retention`] rule: older than `max_age` since it ended, or beyond
//! the `max_count` most recently ended. Its history belongs to the recording files and
//! the events, not to the daemon's memory.
//!
//! The registry keeps no lifecycle of its own: an entry holds nothing (starting), the
//! engine handle, or the engine's final snapshot, and its state is the engine's
//! ([`Entry::state`], decided by [`crate::model::lifecycle`]).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use tokio::sync::OwnedMutexGuard;
use tonic::Status;

use crate::api::admission;
use crate::api::convert::{self, InfoParts};
use crate::api::journal::{Marker, Record};
use crate::events::{MixerState, OutputInfo};
use crate::layout::Layout;
use crate::mixer::{LiveMixer, MixerSnapshot, SourceStats};
use crate::model::{LayoutFill, MixerSpec, OutputSpec, RecordSpec, SourceSpec, OUTPUT_PATH_FIELD};
use crate::proto;

/// One mixer known to the daemon.
pub struct Entry {
    pub mixer_id: String,
    /// The conference its recordings belong to (catalog key).
    pub conference_id: String,
    /// Who created it.
    pub oper_user_id: String,
    /// Unix ms.
    pub created_unix_ms: i64,
    /// ms.
    pub playout_delay_ms: u32,
    /// ms.
    pub stale_timeout_ms: u32,
    pub output: OutputSpec,
    /// What it records (composite, per participant).
    pub record: RecordSpec,
    /// Nothing yet, the engine handle, or the final snapshot (engine dropped).
    slot: Mutex<Slot>,
    /// The sources and layout as last requested, and how the layout follows joins and
    /// leaves (the engine's snapshot is authoritative for what is shown; this is what
    /// the next Update is validated against).
    current: Mutex<(Vec<SourceSpec>, Layout, LayoutFill)>,
    /// Serializes Create (while starting), Update and Destroy of this mixer.
    control: Arc<tokio::sync::Mutex<()>>,
    /// When [`Entry::release`] was called.
    ended_at: Mutex<Option<Instant>>,
    /// Estimated cost admitted for it, millicores ([`admission::estimate`]).
    pub cost_mc: u64,
    /// Its record in the recording journal while its file is open.
    journal: Mutex<Option<Marker>>,
    /// What was asked to be shown over time: Create, then each Update (the manifest's
    /// layout changes).
    history: Mutex<Vec<LayoutChange>>,
}

/// One requested change of what a mixer shows (Create, then each Update).
#[derive(Debug, Clone)]
pub struct LayoutChange {
    /// When it was applied, Unix ms.
    pub unix_ms: i64,
    /// The sources (camids) after it.
    pub camids: Vec<String>,
    /// The layout after it, without placeholder pictures; None when the update kept the
    /// layout.
    pub layout: Option<Layout>,
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
    /// remains). An ended mixer keeps no decoded picture: the placeholders of its
    /// layouts are dropped (Get never returned their bytes).
    pub fn release(&self, mut last: MixerSnapshot) {
        debug_assert!(last.state.is_final(), "released in {:?}", last.state);
        drop_placeholders(&mut last.layout);
        let mut cur = self.current.lock();
        drop_placeholders(&mut cur.1);
        cur.2 = LayoutFill::Fixed;
        drop(cur);
        if self.record.mode.mixed() {
            crate::api::observe::events::file_ended(&last.output);
        }
        *self.slot.lock() = Slot::Released(Box::new(last));
        *self.ended_at.lock() = Some(Instant::now());
    }

    /// Whether this mixer's composite is (or was) the file at `abs_path`; a mixer in
    /// record mode single only has none and holds no path.
    pub fn writes_composite(&self, abs_path: &std::path::Path) -> bool {
        self.record.mode.mixed() && self.output.abs_path == abs_path
    }

    /// Keeps the journal record of its open file.
    pub fn set_journal(&self, marker: Marker) {
        *self.journal.lock() = Some(marker);
    }

    /// Takes the journal record (to end it once the file is final).
    pub fn take_journal(&self) -> Option<Marker> {
        self.journal.lock().take()
    }

    /// The mixer's last snapshot (engine's now, or the final one); None while starting.
    /// May wait for a lock an in-progress update holds: call from a blocking thread.
    pub fn snapshot(&self) -> Option<MixerSnapshot> {
        let engine = match &*self.slot.lock() {
            Slot::Reserved => return None,
            Slot::Released(last) => return Some((**last).clone()),
            Slot::Engine(m) => m.clone(),
        };
        Some(engine.snapshot())
    }

    /// Waits for exclusive control (no concurrent start, update or stop).
    pub async fn lock(&self) -> OwnedMutexGuard<()> {
        self.control.clone().lock_owned().await
    }

    /// The requested changes so far, oldest first.
    pub fn history(&self) -> Vec<LayoutChange> {
        self.history.lock().clone()
    }

    /// The sources as last requested.
    pub fn sources(&self) -> Vec<SourceSpec> {
        self.current.lock().0.clone()
    }

    /// How the current layout follows joins and leaves.
    pub fn layout_fill(&self) -> LayoutFill {
        self.current.lock().2.clone()
    }

    /// Records the sources (and the layout and its fill rule, each if Some) after a
    /// successful update.
    pub fn set_current(
        &self,
        sources: Vec<SourceSpec>,
        layout: Option<Layout>,
        fill: Option<LayoutFill>,
    ) {
        self.history.lock().push(LayoutChange {
            unix_ms: crate::events::unix_ms_now(),
            camids: sources.iter().map(|s| s.camid.clone()).collect(),
            layout: layout.as_ref().map(without_placeholders),
        });
        let mut cur = self.current.lock();
        cur.0 = sources;
        if let Some(l) = layout {
            cur.1 = l;
        }
        if let Some(f) = fill {
            cur.2 = f;
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
            conference_id: &self.conference_id,
            oper_user_id: &self.oper_user_id,
            created_unix_ms: self.created_unix_ms,
            playout_delay_ms: self.playout_delay_ms,
            stale_timeout_ms: self.stale_timeout_ms,
            output: &self.output,
            record: &self.record,
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
            output: OutputInfo::mixed(
                &self.output.rel_path,
                &self.output.abs_path.display().to_string(),
                self.output.media,
                self.output.container(),
            ),
            singles: Vec::new(),
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
            live_outputs: crate::output::push::initial_all(&self.output.live_push_urls),
        }
    }
}

/// How long the registry keeps ended (released) mixers: `serve
/// --ended-mixer-retention-secs` and `--max-ended-mixers`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// An ended mixer is forgotten this long after it ended.
    pub max_age: Duration,
    /// At most this many ended mixers are kept (the most recently ended).
    pub max_count: usize,
}

/// Default [`Retention::max_age`]: one hour.
pub const DEFAULT_ENDED_RETENTION: Duration = Duration::from_secs(3600);
/// Default [`Retention::max_count`].
pub const DEFAULT_MAX_ENDED_MIXERS: usize = 1000;

impl Default for Retention {
    fn default() -> Self {
        Self {
            max_age: DEFAULT_ENDED_RETENTION,
            max_count: DEFAULT_MAX_ENDED_MIXERS,
        }
    }
}

/// How many mixers the daemon runs at once: `serve --cpu-budget-millicores` and
/// `--max-mixers` ([`crate::api::admission`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Sum of the estimated costs of the mixers not yet ended, millicores.
    pub cpu_budget_mc: u64,
    /// Mixers not yet ended.
    pub max_mixers: usize,
}

/// Default [`Limits::max_mixers`].
pub const DEFAULT_MAX_MIXERS: usize = 64;

impl Default for Limits {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self {
            cpu_budget_mc: admission::default_budget(cores),
            max_mixers: DEFAULT_MAX_MIXERS,
        }
    }
}

/// What admission has taken: mixers not yet ended and the sum of their costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    /// Mixers not yet ended (reserved, starting, running, stopping, or failed but not
    /// destroyed).
    pub mixers: usize,
    /// Sum of their estimated costs, millicores.
    pub admitted_mc: u64,
    /// The budget, millicores.
    pub budget_mc: u64,
    /// The most mixers not yet ended ([`Limits::max_mixers`]).
    pub max_mixers: usize,
}

impl Load {
    /// Budget not yet admitted, millicores (0 when over budget).
    pub fn available_mc(&self) -> u64 {
        self.budget_mc.saturating_sub(self.admitted_mc)
    }
}

/// Mixers by id, sorted.
#[derive(Default)]
pub struct Registry {
    map: Mutex<BTreeMap<String, Arc<Entry>>>,
    retention: Retention,
    limits: Limits,
}

impl Registry {
    /// An empty registry that admits by `limits` and keeps ended mixers by `retention`.
    pub fn new(retention: Retention, limits: Limits) -> Self {
        Self {
            map: Mutex::default(),
            retention,
            limits,
        }
    }

    /// The admitted load now.
    pub fn load(&self) -> Load {
        let map = self.map.lock();
        load_of(&map, self.limits)
    }

    /// Forgets the ended mixers the retention rule no longer keeps, at `now`; returns how
    /// many. Called by [`Registry::reserve`] and [`Registry::all`].
    pub fn evict(&self, now: Instant) -> usize {
        let mut map = self.map.lock();
        let mut ended: Vec<(Instant, String)> = map
            .values()
            .filter_map(|e| Some(((*e.ended_at.lock())?, e.mixer_id.clone())))
            .collect();
        ended.sort();
        let excess = ended.len().saturating_sub(self.retention.max_count);
        let mut n = 0;
        for (i, (at, id)) in ended.iter().enumerate() {
            if i < excess || now.saturating_duration_since(*at) > self.retention.max_age {
                map.remove(id);
                n += 1;
            }
        }
        if n > 0 {
            tracing::debug!(evicted = n, "forgot ended mixers");
        }
        n
    }

    /// Reserves `spec.mixer_id` and its output file for a mixer of estimated `cost_mc`
    /// millicores; returns the entry with its control lock held (release it when the
    /// start has finished).
    /// Errors: ALREADY_EXISTS if the id is taken, another mixer writes the same file, or
    /// something already is at the file's path, looked up through the recordings root's
    /// handle (a friendly early answer: the exclusive create at start is what never
    /// overwrites);
    /// RESOURCE_EXHAUSTED if admission refuses it (budget or mixer count, named).
    pub fn reserve(
        &self,
        spec: &MixerSpec,
        created_unix_ms: i64,
        cost_mc: u64,
    ) -> Result<(Arc<Entry>, OwnedMutexGuard<()>), Status> {
        self.evict(Instant::now());
        let mut map = self.map.lock();
        let load = load_of(&map, self.limits);
        admission::admit(
            cost_mc,
            load.admitted_mc,
            load.mixers,
            self.limits.cpu_budget_mc,
            self.limits.max_mixers,
        )
        .map_err(|r| Status::resource_exhausted(r.to_string()))?;
        if map.contains_key(&spec.mixer_id) {
            return Err(Status::already_exists(format!(
                "mixer_id: {:?} already exists",
                spec.mixer_id
            )));
        }
        // A mixer without a composite (record mode single only) neither takes nor
        // needs its svr_path_name.
        let path_field = OUTPUT_PATH_FIELD;
        let rel = &spec.output.rel_path;
        let composite = spec.record.mode.mixed();
        if let Some(other) = map
            .values()
            .find(|e| composite && e.writes_composite(&spec.output.abs_path))
        {
            return Err(Status::already_exists(format!(
                "{path_field}: {rel:?} is the output of mixer {:?}",
                other.mixer_id
            )));
        }
        if composite && spec.output.root.holds(&spec.output.abs_path) {
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
            conference_id: spec.conference_id.clone(),
            oper_user_id: spec.oper_user_id.clone(),
            created_unix_ms,
            playout_delay_ms: spec.playout_delay.as_millis() as u32,
            stale_timeout_ms: spec.stale_timeout.as_millis() as u32,
            output: spec.output.clone(),
            record: spec.record.clone(),
            slot: Mutex::new(Slot::Reserved),
            current: Mutex::new((
                spec.sources.clone(),
                spec.layout.clone(),
                spec.layout_fill.clone(),
            )),
            control,
            ended_at: Mutex::new(None),
            cost_mc,
            journal: Mutex::new(None),
            history: Mutex::new(vec![LayoutChange {
                unix_ms: created_unix_ms,
                camids: spec.sources.iter().map(|s| s.camid.clone()).collect(),
                layout: Some(without_placeholders(&spec.layout)),
            }]),
        });
        map.insert(spec.mixer_id.clone(), entry.clone());
        Ok((entry, guard))
    }

    /// Lists a recording an earlier daemon process left unfinished (found in the
    /// recording journal at startup): ended, in `last.state` (Interrupted), with no
    /// engine and no sources. Its output path stays taken. A mixer of the same id
    /// already listed wins (the older recording is only logged). Its record spec keeps
    /// the job's own retention and webhook endpoints from `record`.
    pub fn insert_ended(&self, record: &Record, output: OutputSpec, last: MixerSnapshot) -> bool {
        let mixer_id = record.mixer_id.as_str();
        let conference_id = if record.conference_id.is_empty() {
            mixer_id
        } else {
            &record.conference_id
        };
        let (oper_user_id, created_unix_ms) = (&record.oper_user_id, record.created_unix_ms);
        let mut map = self.map.lock();
        if map.contains_key(mixer_id) {
            return false;
        }
        let entry = Arc::new(Entry {
            mixer_id: mixer_id.to_owned(),
            conference_id: conference_id.to_owned(),
            oper_user_id: oper_user_id.to_owned(),
            created_unix_ms,
            playout_delay_ms: 0,
            stale_timeout_ms: 0,
            output,
            record: RecordSpec {
                retention: record.retention_secs.map(Duration::from_secs),
                webhook_urls: record.webhook_urls.clone(),
                ..RecordSpec::default()
            },
            slot: Mutex::new(Slot::Released(Box::new(last))),
            current: Mutex::new((Vec::new(), Layout::default(), LayoutFill::Fixed)),
            control: Arc::new(tokio::sync::Mutex::new(())),
            ended_at: Mutex::new(Some(Instant::now())),
            cost_mc: 0,
            journal: Mutex::new(None),
            history: Mutex::new(Vec::new()),
        });
        map.insert(mixer_id.to_owned(), entry);
        true
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

    /// Every mixer, sorted by id (after evicting what the retention rule drops).
    pub fn all(&self) -> Vec<Arc<Entry>> {
        self.evict(Instant::now());
        self.map.lock().values().cloned().collect()
    }
}

/// Mixers not yet released in `map` and the sum of their costs.
fn load_of(map: &BTreeMap<String, Arc<Entry>>, limits: Limits) -> Load {
    let live = map.values().filter(|e| !e.is_released());
    let (mixers, admitted_mc) = live.fold((0, 0), |(n, c), e| (n + 1, c + e.cost_mc));
    Load {
        mixers,
        admitted_mc,
        budget_mc: limits.cpu_budget_mc,
        max_mixers: limits.max_mixers,
    }
}

/// Forgets the placeholder pictures of `layout`'s regions.
/// `layout` without its placeholder pictures (up to 4 MiB each): what the history of
/// an ended mixer may keep.
fn without_placeholders(layout: &Layout) -> Layout {
    let mut l = layout.clone();
    drop_placeholders(&mut l);
    l
}

fn drop_placeholders(layout: &mut Layout) {
    for r in &mut layout.regions {
        r.placeholder = None;
    }
}
