//! A live mixer: RTP in over UDP or WebRTC (WHIP, WHEP), wall-clock ticks, fragmented
//! MP4 out.
//!
//! Threads: one tokio task per RTP socket ([`crate::ingest::udp`]) or per WebRTC track
//! ([`crate::ingest::webrtc`]), one worker thread per
//! source ([`SourceWorker`]: jitter buffer, depacketize, decode), and one tick thread
//! ([`tick`](super::tick)) that composites, mixes and encodes. The mixer's time 0 (the
//! epoch) is when it enters Running; output picture `n` is made at wall time
//! `epoch + playout_delay + n / fps`, so every source has had the playout delay to
//! deliver what is due. With record mode single only there is no composite: no file,
//! no encoder, nothing composited or mixed; the tick thread only keeps the pace.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Sender};
use parking_lot::Mutex;

use crate::events::{EventBus, MixerState, OutputInfo};
use crate::ingest::ports::PortPool;
pub use crate::ingest::Ingest;
use crate::media::encode::{Latency, VideoEncoderConfig};
use crate::mixer::core::{MixCore, Produce};
use crate::mixer::live_source::{allocate, check_transport, spawn_source, LiveSource, SourceCtx};
use crate::mixer::shared_clock::SharedClock;
use crate::mixer::tick::{spawn_tick_thread, Control, Shared, TickProgress};
use crate::mixer::{MixerSnapshot, SourcePorts, SourceStats};
use crate::model::{ContentUpdate, MixerError, MixerSpec};
use crate::output::push::PushNotify;
use crate::output::single::{SingleConfig, SingleOutputs};
use crate::output::{EncodedOutput, MediaSink};
use crate::time::SamplePos;

/// How long `update` waits for the tick thread to apply a change.
const UPDATE_TIMEOUT: Duration = Duration::from_secs(5);

/// Handle to one running live mixer. Dropping it does not stop the mixer; call `stop`.
pub struct LiveMixer {
    shared: Arc<Shared>,
    ctrl: Sender<Control>,
    tick: Mutex<Option<JoinHandle<()>>>,
    sources: Arc<Mutex<Vec<LiveSource>>>,
    /// Serializes `update` calls.
    update_lock: Mutex<()>,
    /// The layout is the `speaker` preset filled from the sources (its main tile follows
    /// the active speaker unless a source is the host).
    speaker_fill: Mutex<bool>,
    /// Per-source counters as they were when the mixer stopped.
    final_stats: Arc<Mutex<Option<Vec<SourceStats>>>>,
    epoch: Instant,
    clock: Arc<SharedClock>,
    rt: tokio::runtime::Handle,
    bus: EventBus,
    mixer_id: String,
    /// The stale timeout of every source (`MixerSpec::stale_timeout`).
    stale_after: Duration,
    max_picture_pixels: u64,
    /// The per-participant files and their recorders' shared settings.
    singles: Arc<SingleOutputs>,
    single_base: SingleConfig,
    /// Whether sources decode video (the composite shows pictures).
    decode_video: bool,
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
        Self::start_with(spec, &Ingest::rtp_only(ports), bus)
    }

    /// [`start`](Self::start) with WebRTC sources: WHIP endpoints are registered on
    /// `ingest.whip`, WHEP clients start pulling. Errors also: `InvalidArgument` for a
    /// WHIP source when the daemon has no WHIP server.
    pub fn start_with(
        spec: MixerSpec,
        ingest: &Ingest,
        bus: EventBus,
    ) -> Result<(LiveMixer, Vec<SourcePorts>), MixerError> {
        crate::media::init();
        let ports = &ingest.ports;
        let rt = tokio::runtime::Handle::try_current()
            .map_err(|_| MixerError::Internal("LiveMixer::start outside a tokio runtime".into()))?;
        let shared = Arc::new(Shared::new(&spec, bus.clone()));
        shared.start();
        let fail = |shared: &Shared, e: MixerError| {
            shared.fail_with(&e);
            e
        };
        // Ports first: running out of them must not leave an empty file behind.
        let mut sockets = Vec::new();
        for (i, s) in spec.sources.iter().enumerate() {
            if let Err(e) = check_transport(s, ingest, &format!("sources[{i}]")) {
                return Err(fail(&shared, e));
            }
            match allocate(s, ports) {
                Ok(p) => sockets.push(p),
                Err(e) => return Err(fail(&shared, e)),
            }
        }
        // The composite, unless the record mode makes none (single only): then no file,
        // no encoder, and a core that composites and mixes nothing.
        let composite = spec.record.mode.mixed().then_some(spec.output.media);
        let out = match composite
            .map(|_| {
                let to = shared.clone();
                let notify: PushNotify = Arc::new(move |info| to.live_changed(info));
                EncodedOutput::mp4_file(&spec.output, Latency::Low, Some(notify))
            })
            .transpose()
        {
            Ok(o) => o,
            Err(e) => return Err(fail(&shared, e)),
        };
        let audio_start = out.as_ref().map_or(SamplePos::ZERO, MediaSink::audio_start);
        let mut core = MixCore::producing(
            &spec.output.encoding,
            spec.layout.clone(),
            audio_start,
            Produce::of(composite),
        );
        core.set_follow_speaker(
            spec.layout_fill.is_speaker() && !spec.sources.iter().any(|s| s.host),
        );
        let epoch = Instant::now();
        let singles = Arc::new(SingleOutputs::new(&spec.mixer_id, bus.clone()));
        let single_base = SingleConfig {
            mixer_id: spec.mixer_id.clone(),
            camid: String::new(),
            content: Default::default(),
            video: None,
            audio: false,
            record: spec.record.clone(),
            root: spec.output.root.clone(),
            epoch,
            epoch_unix_ms: crate::events::unix_ms_now(),
            playout_delay: spec.playout_delay,
            presence_timeout: spec.record.presence_timeout,
            audio_bps: spec.output.encoding.audio_bps,
            transcode: transcode_settings(&spec),
        };
        let clock = Arc::new(SharedClock::default());
        let mut live = Vec::new();
        let mut slots = Vec::new();
        let stale_after = spec.stale_timeout;
        let max_picture_pixels = spec.max_picture_pixels;
        // Pictures are decoded for the composite and for transcoded participant files.
        let r = &spec.record;
        let transcodes = r.mode.single()
            && r.record_video
            && r.single_av
            && matches!(r.single_video, crate::model::SingleVideo::Transcode { .. });
        let decode_video = core.produce().video || transcodes;
        let ctx = SourceCtx {
            rt: &rt,
            epoch,
            clock: &clock,
            ingest,
            bus: &bus,
            mixer_id: &spec.mixer_id,
            stale_after,
            max_picture_pixels,
            singles: (&singles, &single_base),
            decode_video,
        };
        for (s, pair) in spec.sources.iter().zip(sockets) {
            match spawn_source(&ctx, s, pair) {
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
        let out_ports = live.iter().map(|l| l.ports.clone()).collect();
        let (ctrl, ctrl_rx) = bounded(64);
        let delay = spec.playout_delay;
        for s in slots {
            core.add_slot(s);
        }
        // Running before the tick thread exists: its end (Stopped or Error) always
        // follows Running.
        shared.running();
        let sources = Arc::new(Mutex::new(live));
        let final_stats = Arc::new(Mutex::new(None));
        {
            let (sources, final_stats) = (sources.clone(), final_stats.clone());
            shared.on_end(move || stop_sources(&sources, &final_stats));
        }
        let tick = spawn_tick_thread(core, out, ctrl_rx, epoch, delay, shared.clone())
            .map_err(|e| fail(&shared, MixerError::Internal(e.to_string())))?;
        Ok((
            LiveMixer {
                shared,
                ctrl,
                tick: Mutex::new(Some(tick)),
                sources,
                update_lock: Mutex::new(()),
                speaker_fill: Mutex::new(spec.layout_fill.is_speaker()),
                final_stats,
                epoch,
                clock,
                rt,
                mixer_id: spec.mixer_id.clone(),
                bus,
                stale_after,
                max_picture_pixels,
                singles,
                single_base,
                decode_video,
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
        self.update_with(update, &Ingest::rtp_only(ports))
    }

    /// [`update`](Self::update) that may add WebRTC sources (see [`Self::start_with`]).
    pub fn update_with(
        &self,
        update: ContentUpdate,
        ingest: &Ingest,
    ) -> Result<Vec<SourcePorts>, MixerError> {
        let ports = &ingest.ports;
        // One update at a time, and none while a stop begins (`stop_by` takes the lock
        // too): an update either completes before the mixer leaves Running or sees it
        // gone. The sources lock itself is only held briefly so that snapshots never wait
        // for an update.
        let _serial = self.update_lock.lock();
        if !self.shared.state().is_running() {
            return Err(MixerError::NotRunning);
        }
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
        for (i, s) in update.add_sources.iter().enumerate() {
            check_transport(s, ingest, &format!("add_sources[{i}]"))?;
            pairs.push(allocate(s, ports)?);
        }
        let ctx = SourceCtx {
            rt: &self.rt,
            epoch: self.epoch,
            clock: &self.clock,
            ingest,
            bus: &self.bus,
            mixer_id: &self.mixer_id,
            stale_after: self.stale_after,
            max_picture_pixels: self.max_picture_pixels,
            singles: (&self.singles, &self.single_base),
            decode_video: self.decode_video,
        };
        let mut added = Vec::new();
        let mut slots = Vec::new();
        for (s, pair) in update.add_sources.iter().zip(pairs) {
            let (src, slot) = spawn_source(&ctx, s, pair)?;
            added.push(src);
            slots.push(slot);
        }
        let added_ports: Vec<SourcePorts> = added.iter().map(|a| a.ports.clone()).collect();
        let speaker_fill = {
            let mut f = self.speaker_fill.lock();
            if let Some(fill) = &update.layout_fill {
                *f = fill.is_speaker();
            }
            *f
        };
        let host = update.add_sources.iter().any(|s| s.host)
            || self
                .sources
                .lock()
                .iter()
                .any(|s| s.spec.host && !update.remove_camids.contains(&s.spec.camid));
        let (done_tx, done_rx) = bounded(1);
        self.ctrl
            .send(Control::Update {
                layout: update.layout.clone(),
                follow_speaker: Some(speaker_fill && !host),
                add: slots,
                remove: update.remove_camids.clone(),
                done: done_tx,
            })
            .map_err(|_| MixerError::NotRunning)?;
        let confirmed = match done_rx.recv_timeout(UPDATE_TIMEOUT) {
            Ok(()) => true,
            Err(crossbeam_channel::RecvTimeoutError::Timeout) => false,
            Err(crossbeam_channel::RecvTimeoutError::Disconnected) => {
                // The tick thread ended without applying it: nothing changed.
                for mut a in added {
                    a.shutdown();
                }
                return Err(MixerError::NotRunning);
            }
        };
        // Applied, or queued behind a late tick thread that applies it when it catches
        // up: either way the sources change as asked.
        let removed: Vec<LiveSource> = {
            let mut sources = self.sources.lock();
            let (gone, kept) = std::mem::take(&mut *sources)
                .into_iter()
                .partition(|s| update.remove_camids.contains(&s.spec.camid));
            *sources = kept;
            sources.extend(added);
            for (camid, mix) in &update.source_mix {
                if let Some(s) = sources.iter_mut().find(|s| &s.spec.camid == camid) {
                    s.set_mix(*mix);
                }
            }
            gone
        };
        for mut r in removed {
            r.shutdown();
        }
        if !confirmed {
            tracing::warn!(
                mixer_id = %self.mixer_id,
                waited_ms = UPDATE_TIMEOUT.as_millis() as u64,
                "update not confirmed by the tick thread in time; it stays queued"
            );
            return Err(MixerError::UpdatePending {
                waited_ms: UPDATE_TIMEOUT.as_millis() as u64,
            });
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
        {
            // Waits for an update in progress, so that its sources are shut down below.
            let _serial = self.update_lock.lock();
            if self.shared.begin_stop() {
                let _ = self.ctrl.send(Control::Stop { at: Instant::now() });
            }
        }
        if let Some(t) = self.tick.lock().take() {
            let _ = t.join();
        }
        // The tick thread stopped them before it ended; sources an update added after
        // that (a failed mixer) are stopped here.
        stop_sources(&self.sources, &self.final_stats);
        self.shared.output()
    }

    /// How the tick thread keeps up: when it last made a picture and how late it was.
    pub fn progress(&self) -> TickProgress {
        self.shared.progress()
    }

    /// The mixer's lifecycle state now.
    pub fn state(&self) -> MixerState {
        self.shared.state()
    }

    /// The per-participant outputs so far, in the order they were opened.
    fn singles(&self) -> Vec<crate::events::OutputInfo> {
        self.singles.list()
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
            singles: self.singles(),
            sources,
            layout: self.shared.layout(),
            live_outputs: self.shared.live_outputs(),
        }
    }
}

/// Stops every source (their workers complete the participants' own files), keeping
/// their final counters (the first call's; a later call only adds sources added since).
/// Dropping the sources closes their sockets: the ports return to the pool.
fn stop_sources(sources: &Mutex<Vec<LiveSource>>, final_stats: &Mutex<Option<Vec<SourceStats>>>) {
    let mut taken = std::mem::take(&mut *sources.lock());
    for s in &mut taken {
        s.shutdown();
    }
    let stats: Vec<SourceStats> = taken.iter().map(LiveSource::stats).collect();
    final_stats
        .lock()
        .get_or_insert_with(Vec::new)
        .extend(stats);
}

/// The picture of a mixer's transcoded participant files: the size the recording asks
/// for, the composite's frame rate, the composite's bit rate scaled by area (at least
/// 200 kbit/s), the daemon's x264 preset, one thread per participant, low latency, headers
/// out of band (MP4).
fn transcode_settings(spec: &MixerSpec) -> VideoEncoderConfig {
    let e = &spec.output.encoding;
    let (width, height) = match spec.record.single_video {
        crate::model::SingleVideo::Transcode { width, height } => (width, height),
        crate::model::SingleVideo::Passthrough => (e.width, e.height),
    };
    let area = u64::from(width) * u64::from(height);
    let canvas = (u64::from(e.width) * u64::from(e.height)).max(1);
    let bit_rate = (u64::from(e.video_bps) * area / canvas).max(200_000);
    VideoEncoderConfig {
        width,
        height,
        fps: e.fps,
        bit_rate: u32::try_from(bit_rate).unwrap_or(u32::MAX),
        preset: spec.output.x264_preset.clone(),
        threads: 1,
        global_header: true,
        latency: Latency::Low,
    }
}
