//! The tick thread of a live mixer and the state it shares with the handle.
//!
//! The thread owns the [`MixCore`] and the mixer's [`EncodedOutput`] (none when the
//! record mode makes no composite: the thread then only keeps the pace, so stop and
//! drain behave the same, and publishes no output info). Between ticks it applies
//! control messages (layout changes, added and removed sources, stop), so an update
//! takes effect atomically at a frame boundary. Output picture `n` is made at `epoch + delay + n / fps`; if the thread
//! falls behind it catches up without skipping pictures (constant frame rate). It emits
//! OutputInfoChanged once per second of output and, at the end, the final one and
//! Stopped (or Error if the core failed or panicked). After a panic the thread still
//! tries to complete the file (flush the encoders, write the trailer); if that fails
//! too, the fragmented file stays playable up to its last fragment. Other mixers and the
//! daemon are not affected: each mixer has its own thread.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use parking_lot::Mutex;

use crate::events::{EventBus, EventKind, LiveOutputInfo, MixerState, OutputInfo, OutputStatus};
use crate::layout::Layout;
use crate::mixer::core::MixCore;
use crate::mixer::slot::SourceSlot;
use crate::model::{ErrorCode, Lifecycle, MixerError, MixerSpec};
use crate::output::{EncodedOutput, MediaSink, NoOutput};
use crate::time::MixerTime;

/// A message to the tick thread.
pub enum Control {
    /// Apply at the next frame boundary, then signal `done`.
    Update {
        layout: Option<Layout>,
        /// Whether the main tile follows the active speaker; None keeps the setting.
        follow_speaker: Option<bool>,
        add: Vec<SourceSlot>,
        remove: Vec<String>,
        done: Sender<()>,
    },
    /// Finish the file with the media due up to `at` (wall clock of the request).
    Stop { at: Instant },
}

/// State shared by the handle and the tick thread. The mixer's [`Lifecycle`] decides
/// every state change; each one emits StateChanged (under the lifecycle's lock, so
/// events are in transition order).
pub struct Shared {
    mixer_id: String,
    oper_user_id: Mutex<String>,
    bus: EventBus,
    lifecycle: Mutex<Lifecycle>,
    output: Mutex<OutputInfo>,
    layout: Mutex<Layout>,
    /// The live pushes' last reported state, in `live_push_urls` order.
    live: Mutex<Vec<LiveOutputInfo>>,
    progress: Mutex<TickProgress>,
    /// Run by the tick thread once its output is complete, before the final state is
    /// announced (the live mixer stops its sources there, so that the participants'
    /// own files are complete before Stopped).
    end_hook: Mutex<Option<Box<dyn FnOnce() + Send>>>,
}

/// How the tick thread keeps up, for health checks and metrics: a Running mixer whose
/// `last_tick` is old has a stuck tick thread.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TickProgress {
    /// When the thread last finished a picture (or, before the first, when the mixer
    /// was created).
    pub last_tick: Instant,
    /// How long after its due time (`epoch + delay + n / fps`) the last picture was
    /// finished (composited and encoded); zero when on time.
    pub lag: Duration,
    /// Pictures made so far.
    pub pictures: u64,
}

impl Shared {
    /// Idle, with the output not yet written.
    pub fn new(spec: &MixerSpec, bus: EventBus) -> Self {
        Self {
            mixer_id: spec.mixer_id.clone(),
            oper_user_id: Mutex::new(spec.oper_user_id.clone()),
            bus,
            lifecycle: Mutex::new(Lifecycle::new()),
            output: Mutex::new(OutputInfo::mixed(
                &spec.output.rel_path,
                &spec.output.abs_path.display().to_string(),
                spec.output.media,
                spec.output.container(),
            )),
            layout: Mutex::new(spec.layout.clone()),
            live: Mutex::new(crate::output::push::initial_all(
                &spec.output.live_push_urls,
            )),
            progress: Mutex::new(TickProgress {
                last_tick: Instant::now(),
                lag: Duration::ZERO,
                pictures: 0,
            }),
            end_hook: Mutex::new(None),
        }
    }

    /// A live push changed state (from its thread): kept for Get, emitted as
    /// LiveOutputChanged.
    pub fn live_changed(&self, info: &LiveOutputInfo) {
        if let Some(slot) = self.live.lock().get_mut(info.index as usize) {
            *slot = info.clone();
        }
        self.bus
            .emit(&self.mixer_id, EventKind::LiveOutputChanged(info.clone()));
    }

    /// The live pushes as last reported.
    pub fn live_outputs(&self) -> Vec<LiveOutputInfo> {
        self.live.lock().clone()
    }

    /// Sets the hook the tick thread runs before announcing the final state.
    pub fn on_end(&self, f: impl FnOnce() + Send + 'static) {
        *self.end_hook.lock() = Some(Box::new(f));
    }

    fn run_end_hook(&self) {
        let hook = self.end_hook.lock().take();
        if let Some(f) = hook {
            f();
        }
    }

    /// The tick thread's progress now.
    pub fn progress(&self) -> TickProgress {
        *self.progress.lock()
    }

    /// Records a picture finished at `now` that was due at `due`.
    fn ticked(&self, now: Instant, due: Instant, pictures: u64) {
        *self.progress.lock() = TickProgress {
            last_tick: now,
            lag: now.saturating_duration_since(due),
            pictures,
        };
    }

    /// Idle -> Starting.
    pub fn start(&self) {
        self.change(Lifecycle::start);
    }

    /// Starting -> Running.
    pub fn running(&self) {
        self.change(Lifecycle::running);
    }

    /// Running -> Stopping if the mixer is Running; false (nothing changes) in any
    /// other state. Decided under the lifecycle's lock, so a concurrent failure cannot
    /// slip in between the check and the change.
    pub fn begin_stop(&self) -> bool {
        let mut l = self.lifecycle.lock();
        if !l.state().is_running() || l.stop().is_err() {
            return false;
        }
        self.emit_state(&l);
        true
    }

    /// -> Stopped. From Running (the handle went away without a stop: the tick thread
    /// stops on its own) it passes through Stopping.
    pub fn stopped(&self) {
        let mut l = self.lifecycle.lock();
        if l.state().is_running() && l.stop().is_ok() {
            self.emit_state(&l);
        }
        if l.stopped().is_ok() {
            self.emit_state(&l);
        }
    }

    /// Starting, Running or Stopping -> Error, with `code` and `message`.
    pub fn fail(&self, code: ErrorCode, message: String) {
        self.change(|l| l.fail(code, message));
    }

    /// [`Self::fail`] with the error's code and text.
    pub fn fail_with(&self, e: &MixerError) {
        self.fail(e.code(), e.to_string());
    }

    /// Applies a lifecycle step and emits StateChanged if the lifecycle took it.
    fn change<E>(&self, step: impl FnOnce(&mut Lifecycle) -> Result<(), E>) {
        let mut l = self.lifecycle.lock();
        if step(&mut l).is_ok() {
            self.emit_state(&l);
        }
    }

    fn emit_state(&self, l: &Lifecycle) {
        self.bus.emit(
            &self.mixer_id,
            EventKind::StateChanged {
                state: l.state(),
                error_code: l.error_code(),
                error_message: l.error_message().to_owned(),
                oper_user_id: self.oper_user_id.lock().clone(),
            },
        );
    }

    /// The user named in later StateChanged events.
    pub fn set_oper_user_id(&self, oper_user_id: &str) {
        *self.oper_user_id.lock() = oper_user_id.to_owned();
    }

    /// The current state.
    pub fn state(&self) -> MixerState {
        self.lifecycle.lock().state()
    }

    /// State, error code and message.
    pub fn state_full(&self) -> (MixerState, i32, String) {
        let l = self.lifecycle.lock();
        (l.state(), l.error_code(), l.error_message().to_owned())
    }

    /// The latest output info.
    pub fn output(&self) -> OutputInfo {
        self.output.lock().clone()
    }

    /// The layout in force.
    pub fn layout(&self) -> Layout {
        self.layout.lock().clone()
    }

    /// Updates the composite's info with `f` and emits OutputInfoChanged; nothing when
    /// there is no composite (`exists` false: its info stays the placeholder).
    fn publish_output(&self, exists: bool, f: impl FnOnce(&mut OutputInfo)) {
        if !exists {
            return;
        }
        let info = {
            let mut o = self.output.lock();
            f(&mut o);
            o.clone()
        };
        self.bus
            .emit(&self.mixer_id, EventKind::OutputInfoChanged(info));
    }

    /// Emits the core's active-speaker changes and takes the layout in force (a speaker
    /// layout may have promoted someone) as the one Get reports.
    fn publish_speakers(&self, core: &mut MixCore) {
        let changes = core.take_speaker_changes();
        if changes.is_empty() {
            return;
        }
        *self.layout.lock() = core.layout().clone();
        for c in changes {
            self.bus.emit(
                &self.mixer_id,
                EventKind::ActiveSpeakerChanged {
                    camid: c.camid,
                    previous_camid: c.previous.unwrap_or_default(),
                    level_centi_dbfs: (c.level_dbfs * 100.0).round() as i32,
                    output_ms: c.at.as_millis(),
                },
            );
        }
    }
}

/// The composite's sink, or [`NoOutput`] for a mixer that makes none.
fn sink<'a>(out: &'a mut Option<EncodedOutput>, none: &'a mut NoOutput) -> &'a mut dyn MediaSink {
    match out {
        Some(o) => o,
        None => none,
    }
}

/// Starts the tick thread; `out` is the composite (None: the mixer makes none).
pub fn spawn_tick_thread(
    mut core: MixCore,
    mut out: Option<EncodedOutput>,
    ctrl: Receiver<Control>,
    epoch: Instant,
    delay: Duration,
    shared: Arc<Shared>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("mix-{}", shared.mixer_id))
        .spawn(move || {
            let panic_at = crate::fault::tick_panic_at(&shared.mixer_id);
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run(&mut core, &mut out, &ctrl, epoch, delay, &shared, panic_at)
            }));
            let failure = match r {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some((e.code(), e.to_string(), false)),
                Err(p) => {
                    let what = p
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| p.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    // The core may be mid-picture; completing the file only needs the
                    // encoders and the muxer, which a panic elsewhere leaves intact.
                    let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        core.finish(sink(&mut out, &mut NoOutput))
                    }));
                    let finished = matches!(done, Ok(Ok(())));
                    let msg = format!("mixer thread panicked: {what}");
                    Some((ErrorCode::Internal, msg, finished))
                }
            };
            shared.run_end_hook();
            match failure {
                None => shared.stopped(),
                Some((code, msg, finished)) => {
                    tracing::error!(mixer = %shared.mixer_id, error = %msg, "mixer failed");
                    let (d, s) = (core.duration_ms(), size_of(&out));
                    shared.publish_output(out.is_some(), |o| {
                        stamp(o, d, true);
                        o.size_bytes = s;
                        // Finalized: the file is complete up to the failure.
                        o.status = if finished {
                            OutputStatus::Finalized
                        } else {
                            OutputStatus::Failed
                        };
                        o.error_code = code.as_i32();
                        o.error_message = msg.clone();
                    });
                    shared.fail(code, msg);
                }
            }
        })
}

fn run(
    core: &mut MixCore,
    out: &mut Option<EncodedOutput>,
    ctrl: &Receiver<Control>,
    epoch: Instant,
    delay: Duration,
    shared: &Shared,
    panic_at: Option<u64>,
) -> Result<(), MixerError> {
    let mut stop_at: Option<MixerTime> = None;
    loop {
        let n = core.frames_out();
        let t = core.picture_time(n);
        if stop_at.is_some_and(|end| t >= end) {
            break;
        }
        let due = epoch + delay + Duration::from_micros(t.as_micros().max(0) as u64);
        // Wait for the picture's due time, applying control messages meanwhile.
        loop {
            let now = Instant::now();
            let msg = if now >= due {
                match ctrl.try_recv() {
                    Ok(m) => m,
                    Err(_) => break,
                }
            } else {
                match ctrl.recv_timeout(due - now) {
                    Ok(m) => m,
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => {
                        stop_at.get_or_insert(MixerTime::since(epoch, Instant::now()));
                        break;
                    }
                }
            };
            match msg {
                Control::Update {
                    layout,
                    follow_speaker,
                    add,
                    remove,
                    done,
                } => {
                    for c in &remove {
                        core.remove_slot(c);
                    }
                    for s in add {
                        core.add_slot(s);
                    }
                    if let Some(l) = layout {
                        core.set_layout(l);
                    }
                    if let Some(f) = follow_speaker {
                        core.set_follow_speaker(f);
                    }
                    *shared.layout.lock() = core.layout().clone();
                    let _ = done.send(());
                }
                Control::Stop { at } => {
                    stop_at.get_or_insert(MixerTime::since(epoch, at));
                }
            }
        }
        if stop_at.is_some_and(|end| t >= end) {
            break;
        }
        if panic_at == Some(n) {
            panic!(
                "injected fault at picture {n} ({})",
                crate::fault::FAULT_ENV
            );
        }
        core.tick(sink(out, &mut NoOutput))?;
        shared.publish_speakers(core);
        shared.ticked(Instant::now(), due, core.frames_out());
        if core.frames_out().is_multiple_of(u64::from(core.fps())) {
            let (d, s) = (core.duration_ms(), size_of(out));
            shared.publish_output(out.is_some(), |o| {
                stamp(o, d, false);
                o.size_bytes = s;
            });
        }
    }
    core.finish(sink(out, &mut NoOutput))?;
    let (d, s) = (core.duration_ms(), size_of(out));
    shared.publish_output(out.is_some(), |o| {
        stamp(o, d, true);
        o.size_bytes = s;
        o.status = OutputStatus::Finalized;
    });
    Ok(())
}

/// Sets the composite's duration to `duration_ms` and its wall-clock span: the start
/// (Unix ms) is taken once, as now minus the media written so far (the output clock
/// runs in real time, one picture per tick); with `ended`, the end is start plus the
/// duration.
fn stamp(o: &mut OutputInfo, duration_ms: u64, ended: bool) {
    o.duration_ms = duration_ms;
    let d = i64::try_from(duration_ms).unwrap_or(i64::MAX);
    if o.start_unix_ms == 0 && d > 0 {
        o.start_unix_ms = crate::events::unix_ms_now().saturating_sub(d);
    }
    if ended {
        o.end_unix_ms = if o.start_unix_ms > 0 {
            o.start_unix_ms.saturating_add(d)
        } else {
            crate::events::unix_ms_now()
        };
    }
}

/// Bytes of the composite so far (0 without one).
fn size_of(out: &Option<EncodedOutput>) -> u64 {
    out.as_ref().map_or(0, EncodedOutput::size_bytes)
}
