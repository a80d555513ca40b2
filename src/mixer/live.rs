//! A live mixer: RTP in over UDP, wall-clock ticks, fragmented MP4 out.
//!
//! Threads: one tokio task per RTP socket ([`crate::ingest::udp`]), one worker thread per
//! source ([`SourceWorker`]: jitter buffer, depacketize, decode), and one tick thread
//! ([`tick`](super::tick)) that composites, mixes and encodes. The mixer's time 0 (the
//! epoch) is when it enters Running; output picture `n` is made at wall time
//! `epoch + playout_delay + n / fps`, so every source has had the playout delay to
//! deliver what is due.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Sender};
use parking_lot::Mutex;
use tokio::sync::watch;

use crate::events::{EventBus, MixerState, OutputInfo};
use crate::ingest::ports::{PortPool, RtpSocketPair};
use crate::ingest::udp::{spawn_receiver, Medium, INGEST_QUEUE_CAPACITY};
use crate::mixer::core::{MixCore, SourceSlot};
use crate::mixer::source_worker::SourceWorker;
use crate::mixer::stats::SourceCounters;
use crate::mixer::tick::{spawn_tick_thread, Control, Shared};
use crate::mixer::{
    ContentUpdate, MixerError, MixerSnapshot, MixerSpec, SourcePorts, SourceSpec, SourceStats,
};

/// How long `update` waits for the tick thread to apply a change.
const UPDATE_TIMEOUT: Duration = Duration::from_secs(5);

/// One source of a live mixer: its sockets, counters and worker.
struct LiveSource {
    spec: SourceSpec,
    ports: SourcePorts,
    counters: Arc<SourceCounters>,
    stop: watch::Sender<bool>,
    worker: Option<JoinHandle<()>>,
    // Held so the ports stay bound until the source is removed.
    _sockets: Vec<RtpSocketPair>,
}

impl LiveSource {
    fn stats(&self) -> SourceStats {
        self.counters.snapshot(
            &self.spec.camid,
            self.ports,
            self.spec.video.map(|v| v.codec),
            self.spec.audio.map(|a| a.codec),
        )
    }

    fn shutdown(&mut self) {
        let _ = self.stop.send(true);
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

/// Handle to one running live mixer. Dropping it does not stop the mixer; call `stop`.
pub struct LiveMixer {
    shared: Arc<Shared>,
    ctrl: Sender<Control>,
    tick: Mutex<Option<JoinHandle<()>>>,
    sources: Mutex<Vec<LiveSource>>,
    /// Serializes `update` calls.
    update_lock: Mutex<()>,
    /// Per-source counters as they were when the mixer stopped.
    final_stats: Mutex<Option<Vec<SourceStats>>>,
    epoch: Instant,
    rt: tokio::runtime::Handle,
}

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
        crate::media::init();
        let rt = tokio::runtime::Handle::try_current()
            .map_err(|_| MixerError::Internal("LiveMixer::start outside a tokio runtime".into()))?;
        let shared = Arc::new(Shared::new(&spec, bus));
        shared.set_state(MixerState::Starting, 0, String::new());
        let fail = |shared: &Shared, e: MixerError| {
            shared.set_state(MixerState::Error, error_code(&e), e.to_string());
            e
        };
        // Ports first: running out of them must not leave an empty file behind.
        let mut sockets = Vec::new();
        for s in &spec.sources {
            match allocate(s, ports) {
                Ok(p) => sockets.push(p),
                Err(e) => return Err(fail(&shared, e)),
            }
        }
        let core = match MixCore::open(&spec.output, spec.layout.clone()) {
            Ok(c) => c,
            Err(e) => return Err(fail(&shared, e)),
        };
        let epoch = Instant::now();
        let mut live = Vec::new();
        let mut slots = Vec::new();
        for (s, pair) in spec.sources.iter().zip(sockets) {
            match spawn_source(&rt, s, pair, epoch) {
                Ok((src, slot)) => {
                    live.push(src);
                    slots.push(slot);
                }
                Err(e) => {
                    for mut l in live {
                        l.shutdown();
                    }
                    return Err(fail(&shared, e));
                }
            }
        }
        let out_ports = live.iter().map(|l| l.ports).collect();
        let (ctrl, ctrl_rx) = bounded(64);
        let delay = Duration::from_millis(u64::from(spec.playout_delay_ms));
        let tick = spawn_tick_thread(
            core,
            slots,
            ctrl_rx,
            epoch,
            delay,
            spec.output.fps,
            shared.clone(),
        )
        .map_err(|e| fail(&shared, MixerError::Internal(e.to_string())))?;
        shared.set_state(MixerState::Running, 0, String::new());
        Ok((
            LiveMixer {
                shared,
                ctrl,
                tick: Mutex::new(Some(tick)),
                sources: Mutex::new(live),
                update_lock: Mutex::new(()),
                final_stats: Mutex::new(None),
                epoch,
                rt,
            },
            out_ports,
        ))
    }

    /// Applies a layout change and adds/removes sources at the next frame boundary.
    /// Returns the ports of `update.add_sources`, in order.
    /// Errors: `NotRunning`, `PortsExhausted`, `InvalidArgument` (duplicate/unknown camid).
    pub fn update(
        &self,
        update: ContentUpdate,
        ports: &PortPool,
    ) -> Result<Vec<SourcePorts>, MixerError> {
        if self.shared.state() != MixerState::Running {
            return Err(MixerError::NotRunning);
        }
        // One update at a time; the sources lock itself is only held briefly so that
        // snapshots never wait for an update.
        let _serial = self.update_lock.lock();
        let sources = self.sources.lock();
        for (i, c) in update.remove_camids.iter().enumerate() {
            if !sources.iter().any(|s| &s.spec.camid == c) {
                return Err(MixerError::invalid(
                    format!("remove_camids[{i}]"),
                    format!("no source {c:?}"),
                ));
            }
        }
        for (i, s) in update.add_sources.iter().enumerate() {
            let exists = sources
                .iter()
                .any(|x| x.spec.camid == s.camid && !update.remove_camids.contains(&s.camid));
            if exists {
                return Err(MixerError::invalid(
                    format!("add_sources[{i}].camid"),
                    format!("duplicate {:?}", s.camid),
                ));
            }
        }
        drop(sources);
        let mut pairs = Vec::new();
        for s in &update.add_sources {
            pairs.push(allocate(s, ports)?);
        }
        let mut added = Vec::new();
        let mut slots = Vec::new();
        for (s, pair) in update.add_sources.iter().zip(pairs) {
            let (src, slot) = spawn_source(&self.rt, s, pair, self.epoch)?;
            added.push(src);
            slots.push(slot);
        }
        let added_ports: Vec<SourcePorts> = added.iter().map(|a| a.ports).collect();
        let (done_tx, done_rx) = bounded(1);
        self.ctrl
            .send(Control::Update {
                layout: update.layout.clone(),
                add: slots,
                remove: update.remove_camids.clone(),
                done: done_tx,
            })
            .map_err(|_| MixerError::NotRunning)?;
        let _ = done_rx.recv_timeout(UPDATE_TIMEOUT);
        let removed: Vec<LiveSource> = {
            let mut sources = self.sources.lock();
            let (gone, kept) = std::mem::take(&mut *sources)
                .into_iter()
                .partition(|s| update.remove_camids.contains(&s.spec.camid));
            *sources = kept;
            sources.extend(added);
            gone
        };
        for mut r in removed {
            r.shutdown();
        }
        Ok(added_ports)
    }

    /// Stops and finalizes the file; blocks until done (call from a blocking thread).
    /// Media received until the call is kept (the tick thread drains the playout delay).
    /// Emits Stopping, the final OutputInfoChanged, then Stopped. Releases the UDP ports.
    /// Idempotent.
    pub fn stop(&self) -> OutputInfo {
        self.stop_by("")
    }

    /// [`stop`](Self::stop), with the Stopping/Stopped events naming `oper_user_id` as
    /// the user who asked (empty: the creator).
    pub fn stop_by(&self, oper_user_id: &str) -> OutputInfo {
        if !oper_user_id.is_empty() {
            self.shared.set_oper_user_id(oper_user_id);
        }
        if self.shared.state() == MixerState::Running {
            self.shared
                .set_state(MixerState::Stopping, 0, String::new());
            let _ = self.ctrl.send(Control::Stop { at: Instant::now() });
        }
        if let Some(t) = self.tick.lock().take() {
            let _ = t.join();
        }
        let mut sources = std::mem::take(&mut *self.sources.lock());
        for s in &mut sources {
            s.shutdown();
        }
        let stats = sources.iter().map(LiveSource::stats).collect();
        *self.final_stats.lock() = Some(stats);
        // Dropping the sources closes their sockets: the ports return to the pool.
        drop(sources);
        self.shared.output()
    }

    /// Current state, output info and per-source counters.
    pub fn snapshot(&self) -> MixerSnapshot {
        let (state, error_code, error_message) = self.shared.state_full();
        let sources = match &*self.final_stats.lock() {
            Some(stats) => stats.clone(),
            None => self.sources.lock().iter().map(LiveSource::stats).collect(),
        };
        MixerSnapshot {
            state,
            error_code,
            error_message,
            output: self.shared.output(),
            sources,
            layout: self.shared.layout(),
        }
    }
}

/// gRPC-style numeric code of an error, for StateChanged.error_code.
fn error_code(e: &MixerError) -> i32 {
    match e {
        MixerError::InvalidArgument { .. } => 3,
        MixerError::PortsExhausted { .. } => 8,
        MixerError::NotRunning => 9,
        MixerError::Output { .. } | MixerError::Internal(_) => 13,
    }
}

/// Binds the RTP/RTCP pairs a source needs: video first, then audio.
fn allocate(s: &SourceSpec, ports: &PortPool) -> Result<Vec<RtpSocketPair>, MixerError> {
    let mut v = Vec::new();
    if s.video.is_some() {
        v.push(ports.allocate()?);
    }
    if s.audio.is_some() {
        v.push(ports.allocate()?);
    }
    Ok(v)
}

/// Starts the receive tasks and the worker thread of a source.
fn spawn_source(
    rt: &tokio::runtime::Handle,
    spec: &SourceSpec,
    sockets: Vec<RtpSocketPair>,
    epoch: Instant,
) -> Result<(LiveSource, SourceSlot), MixerError> {
    let internal = |e: &dyn std::fmt::Display| MixerError::Internal(format!("{}: {e}", spec.camid));
    let counters = Arc::new(SourceCounters::default());
    let slot = SourceSlot::new(&spec.camid);
    let (tx, rx) = bounded(INGEST_QUEUE_CAPACITY);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut ports = SourcePorts::default();
    let media: Vec<Medium> = [
        spec.video.is_some().then_some(Medium::Video),
        spec.audio.is_some().then_some(Medium::Audio),
    ]
    .into_iter()
    .flatten()
    .collect();
    let mut rtcp_out = (None, None);
    for (pair, medium) in sockets.iter().zip(media) {
        for (sock, rtcp) in [(&pair.rtp, false), (&pair.rtcp, true)] {
            let sock = sock.try_clone().map_err(|e| internal(&e))?;
            let (tx, stop_rx, counters) = (tx.clone(), stop_rx.clone(), counters.clone());
            spawn_receiver(rt, sock, medium, rtcp, tx, stop_rx, counters)
                .map_err(|e| internal(&e))?;
        }
        let out = Some(pair.rtcp.try_clone().map_err(|e| internal(&e))?);
        match medium {
            Medium::Video => {
                rtcp_out.0 = out;
                ports.video_rtp = pair.rtp_port;
                ports.video_rtcp = pair.rtp_port + 1;
            }
            Medium::Audio => {
                rtcp_out.1 = out;
                ports.audio_rtp = pair.rtp_port;
                ports.audio_rtcp = pair.rtp_port + 1;
            }
        }
    }
    drop(tx);
    let worker = SourceWorker::new(spec, rx, counters.clone(), slot.clone(), epoch, rtcp_out)
        .map_err(|e| internal(&e))?;
    let camid = spec.camid.clone();
    let handle = std::thread::Builder::new()
        .name(format!("src-{}", spec.camid))
        .spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| worker.run()));
            if r.is_err() {
                tracing::error!(%camid, "source worker panicked; the source shows its placeholder");
            }
        })
        .map_err(|e| internal(&e))?;
    Ok((
        LiveSource {
            spec: spec.clone(),
            ports,
            counters,
            stop: stop_tx,
            worker: Some(handle),
            _sockets: sockets,
        },
        slot,
    ))
}
