//! The tick thread of a live mixer and the state it shares with the handle.
//!
//! The thread owns the [`MixCore`] and the mixer's [`EncodedOutput`]. Between ticks it applies control messages (layout
//! changes, added and removed sources, stop), so an update takes effect atomically at a
//! frame boundary. Output picture `n` is made at `epoch + delay + n / fps`; if the thread
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

use crate::events::{EventBus, EventKind, MixerState, OutputInfo, OutputStatus};
use crate::layout::Layout;
use crate::mixer::core::MixCore;
use crate::mixer::slot::SourceSlot;
use crate::model::MixerSpec;
use crate::output::EncodedOutput;
use crate::time::MixerTime;

/// A message to the tick thread.
pub enum Control {
    /// Apply at the next frame boundary, then signal `done`.
    Update {
        layout: Option<Layout>,
        add: Vec<SourceSlot>,
        remove: Vec<String>,
        done: Sender<()>,
    },
    /// Finish the file with the media due up to `at` (wall clock of the request).
    Stop { at: Instant },
}

/// State shared by the handle and the tick thread; every state change emits an event.
pub struct Shared {
    mixer_id: String,
    oper_user_id: Mutex<String>,
    bus: EventBus,
    state: Mutex<(MixerState, i32, String)>,
    output: Mutex<OutputInfo>,
    layout: Mutex<Layout>,
}

impl Shared {
    /// Idle, with the output not yet written.
    pub fn new(spec: &MixerSpec, bus: EventBus) -> Self {
        Self {
            mixer_id: spec.mixer_id.clone(),
            oper_user_id: Mutex::new(spec.oper_user_id.clone()),
            bus,
            state: Mutex::new((MixerState::Idle, 0, String::new())),
            output: Mutex::new(OutputInfo {
                path: spec.output.rel_path.clone(),
                abs_path: spec.output.abs_path.display().to_string(),
                duration_ms: 0,
                size_bytes: 0,
                status: OutputStatus::Recording,
                error_code: 0,
                error_message: String::new(),
            }),
            layout: Mutex::new(spec.layout.clone()),
        }
    }

    /// Moves to `state` and emits StateChanged.
    pub fn set_state(&self, state: MixerState, code: i32, message: String) {
        *self.state.lock() = (state, code, message.clone());
        self.bus.emit(
            &self.mixer_id,
            EventKind::StateChanged {
                state,
                error_code: code,
                error_message: message,
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
        self.state.lock().0
    }

    /// State, error code and message.
    pub fn state_full(&self) -> (MixerState, i32, String) {
        self.state.lock().clone()
    }

    /// The latest output info.
    pub fn output(&self) -> OutputInfo {
        self.output.lock().clone()
    }

    /// The layout in force.
    pub fn layout(&self) -> Layout {
        self.layout.lock().clone()
    }

    fn publish_output(&self, f: impl FnOnce(&mut OutputInfo)) {
        let info = {
            let mut o = self.output.lock();
            f(&mut o);
            o.clone()
        };
        self.bus
            .emit(&self.mixer_id, EventKind::OutputInfoChanged(info));
    }
}

/// Starts the tick thread.
pub fn spawn_tick_thread(
    mut core: MixCore,
    mut out: EncodedOutput,
    ctrl: Receiver<Control>,
    epoch: Instant,
    delay: Duration,
    fps: u32,
    shared: Arc<Shared>,
) -> std::io::Result<JoinHandle<()>> {
    std::thread::Builder::new()
        .name(format!("mix-{}", shared.mixer_id))
        .spawn(move || {
            let panic_at = crate::fault::tick_panic_at(&shared.mixer_id);
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                run(
                    &mut core, &mut out, &ctrl, epoch, delay, fps, &shared, panic_at,
                )
            }));
            let failure = match r {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some((e, false)),
                Err(p) => {
                    let what = p
                        .downcast_ref::<&str>()
                        .map(|s| s.to_string())
                        .or_else(|| p.downcast_ref::<String>().cloned())
                        .unwrap_or_default();
                    // The core may be mid-picture; completing the file only needs the
                    // encoders and the muxer, which a panic elsewhere leaves intact.
                    let done = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        core.finish(&mut out)
                    }));
                    let finished = matches!(done, Ok(Ok(())));
                    Some((format!("mixer thread panicked: {what}"), finished))
                }
            };
            match failure {
                None => shared.set_state(MixerState::Stopped, 0, String::new()),
                Some((msg, finished)) => {
                    tracing::error!(mixer = %shared.mixer_id, error = %msg, "mixer failed");
                    let (d, s) = (core.duration_ms(), out.size_bytes());
                    shared.publish_output(|o| {
                        o.duration_ms = d;
                        o.size_bytes = s;
                        // Finalized: the file is complete up to the failure.
                        o.status = if finished {
                            OutputStatus::Finalized
                        } else {
                            OutputStatus::Failed
                        };
                        o.error_code = 13;
                        o.error_message = msg.clone();
                    });
                    shared.set_state(MixerState::Error, 13, msg);
                }
            }
        })
}

#[allow(clippy::too_many_arguments)]
fn run(
    core: &mut MixCore,
    out: &mut EncodedOutput,
    ctrl: &Receiver<Control>,
    epoch: Instant,
    delay: Duration,
    fps: u32,
    shared: &Shared,
    panic_at: Option<u64>,
) -> Result<(), String> {
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
                        *shared.layout.lock() = l.clone();
                        core.set_layout(l);
                    }
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
        core.tick(out).map_err(|e| e.to_string())?;
        if core.frames_out().is_multiple_of(u64::from(fps)) {
            let (d, s) = (core.duration_ms(), out.size_bytes());
            shared.publish_output(|o| {
                o.duration_ms = d;
                o.size_bytes = s;
            });
        }
    }
    core.finish(out).map_err(|e| e.to_string())?;
    let (d, s) = (core.duration_ms(), out.size_bytes());
    shared.publish_output(|o| {
        o.duration_ms = d;
        o.size_bytes = s;
        o.status = OutputStatus::Finalized;
    });
    Ok(())
}
