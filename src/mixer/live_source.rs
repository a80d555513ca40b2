//! The sources of a live mixer: per transport setup (UDP sockets, a WHIP endpoint, a
//! WHEP client) in front of one [`SourceWorker`] thread each.

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::bounded;
use tokio::sync::watch;

use crate::events::{EventBus, SourceConnectionState};
use crate::ingest::ports::{PortPool, RtpSocketPair};
use crate::ingest::udp::{spawn_receiver, Medium, INGEST_QUEUE_CAPACITY};
use crate::ingest::webrtc::whip::WhipRegistration;
use crate::ingest::webrtc::{http, whep, MediaSink, PeerLink, SourceEvents, SourceRtc};
use crate::ingest::Ingest;
use crate::mixer::slot::SourceSlot;
use crate::mixer::source_worker::SourceWorker;
use crate::mixer::stream_path::FeedbackSink;
use crate::mixer::{SourcePorts, SourceStats};
use crate::model::SourceCounters;
use crate::model::SourceTransport;
use crate::model::{MixerError, SourceSpec};
use crate::output::single::{SingleConfig, SingleOutputs, SingleRecorder};
use crate::receive::shared_clock::SharedClock;

/// One source of a live mixer: its sockets or peer connections, counters and worker.
pub(super) struct LiveSource {
    pub(super) spec: SourceSpec,
    pub(super) ports: SourcePorts,
    counters: Arc<SourceCounters>,
    stop: watch::Sender<bool>,
    worker: Option<JoinHandle<()>>,
    /// Connection (WebRTC) and failure events; the last one shows in Get.
    events: SourceEvents,
    // Held so the ports stay bound (the WHIP endpoint registered) until the source is
    // removed.
    _sockets: Vec<RtpSocketPair>,
    whip: Option<WhipRegistration>,
    /// What the core reads: the mix gain is set here, the level read here.
    slot: SourceSlot,
}

impl LiveSource {
    pub(super) fn stats(&self) -> SourceStats {
        let mut s = SourceStats::from_counters(
            &self.counters,
            &self.spec.camid,
            self.ports.clone(),
            self.spec.video.map(|v| v.codec),
            self.spec.audio.map(|a| a.codec),
        );
        s.transport = self.spec.transport.name().to_owned();
        s.connection = self.events.last();
        s.mix = self.spec.mix;
        s.audio_level_centi_dbfs = (self.slot.level_dbfs() * 100.0).round() as i32;
        s
    }

    /// Sets the source's gain and mute in the mix (from the next audio block).
    pub(super) fn set_mix(&mut self, mix: crate::model::MixGain) {
        self.spec.mix = mix;
        self.slot.set_gain(mix.linear());
    }

    pub(super) fn shutdown(&mut self) {
        let _ = self.stop.send(true);
        // Unregisters the endpoint and closes its peer connection.
        self.whip = None;
        if let Some(w) = self.worker.take() {
            let _ = w.join();
        }
    }
}

/// Refuses a WHIP source on a daemon without a WHIP server, and a WHEP URL whose host
/// resolves to no address the daemon's `--whep-allow` list allows (resolved here with
/// the system resolver: call on a blocking thread). `at`: the source's field.
pub(super) fn check_transport(s: &SourceSpec, ingest: &Ingest, at: &str) -> Result<(), MixerError> {
    if s.transport == SourceTransport::Whip && ingest.whip.is_none() {
        return Err(MixerError::invalid(
            format!("{at}.transport"),
            "this daemon serves no WHIP endpoint (start it with --whip-listen)",
        ));
    }
    if let SourceTransport::Whep { url, .. } = &s.transport {
        http::allowed_addrs_blocking(&ingest.policy.whep.allow, url)
            .map_err(|e| MixerError::invalid(format!("{at}.whep.url"), e))?;
    }
    Ok(())
}

/// Binds the RTP/RTCP pairs a source needs: video first, then audio (none for WebRTC).
pub(super) fn allocate(s: &SourceSpec, ports: &PortPool) -> Result<Vec<RtpSocketPair>, MixerError> {
    let mut v = Vec::new();
    if s.transport != SourceTransport::Rtp {
        return Ok(v);
    }
    if s.video.is_some() {
        v.push(ports.allocate()?);
    }
    if s.audio.is_some() {
        v.push(ports.allocate()?);
    }
    Ok(v)
}

/// What every source of one mixer shares when it starts.
pub(super) struct SourceCtx<'a> {
    pub(super) rt: &'a tokio::runtime::Handle,
    pub(super) epoch: Instant,
    /// The mixer's sources' sender clocks ([`SharedClock`]).
    pub(super) clock: &'a Arc<SharedClock>,
    pub(super) ingest: &'a Ingest,
    pub(super) bus: &'a EventBus,
    pub(super) mixer_id: &'a str,
    /// The mixer's stale timeout (see [`SourceSlot::new`]).
    pub(super) stale_after: Duration,
    /// Largest picture a source may send, pixels ([`crate::media::picture_size`]).
    pub(super) max_picture_pixels: u64,
    /// Per-participant files: the mixer's list of them and the settings every
    /// participant's recorder shares (camid and codecs filled in per source).
    pub(super) singles: (&'a Arc<SingleOutputs>, &'a SingleConfig),
    /// Whether the sources' video is decoded: false when no output shows pictures
    /// ([`SourceWorker::with_video_decode`]).
    pub(super) decode_video: bool,
}

/// The participant's recorder of its own files, if the recording writes any.
fn recorder(ctx: &SourceCtx<'_>, spec: &SourceSpec) -> Option<SingleRecorder> {
    let (outputs, base) = ctx.singles;
    let cfg = SingleConfig {
        camid: spec.camid.clone(),
        content: spec.content,
        video: spec.video.map(|v| v.codec),
        audio: spec.audio.is_some(),
        ..base.clone()
    };
    SingleRecorder::new(cfg, outputs.clone())
}

/// Starts the receive tasks (UDP sockets, WHIP endpoint or WHEP client) and the worker
/// thread of a source.
pub(super) fn spawn_source(
    ctx: &SourceCtx<'_>,
    spec: &SourceSpec,
    sockets: Vec<RtpSocketPair>,
) -> Result<(LiveSource, SourceSlot), MixerError> {
    let rt = ctx.rt;
    let internal = |e: &dyn std::fmt::Display| MixerError::Internal(format!("{}: {e}", spec.camid));
    let counters = Arc::new(SourceCounters::default());
    let slot = SourceSlot::new(&spec.camid, ctx.stale_after).with_label(&spec.display_name);
    slot.set_gain(spec.mix.linear());
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
    let mut sinks = (FeedbackSink::None, FeedbackSink::None);
    for (pair, medium) in sockets.iter().zip(media) {
        for (sock, rtcp) in [(&pair.rtp, false), (&pair.rtcp, true)] {
            let sock = sock.try_clone().map_err(|e| internal(&e))?;
            let (tx, stop_rx, counters) = (tx.clone(), stop_rx.clone(), counters.clone());
            spawn_receiver(rt, sock, medium, rtcp, tx, stop_rx, counters)
                .map_err(|e| internal(&e))?;
        }
        let out = FeedbackSink::Udp(pair.rtcp.try_clone().map_err(|e| internal(&e))?);
        match medium {
            Medium::Video => {
                sinks.0 = out;
                ports.video_rtp = pair.rtp_port;
                ports.video_rtcp = pair.rtp_port + 1;
            }
            Medium::Audio => {
                sinks.1 = out;
                ports.audio_rtp = pair.rtp_port;
                ports.audio_rtcp = pair.rtp_port + 1;
            }
        }
    }
    let events = SourceEvents::new(ctx.bus.clone(), ctx.mixer_id, &spec.camid);
    let mut whip = None;
    if spec.transport != SourceTransport::Rtp {
        let link = PeerLink::new(rt.clone());
        let ev = events.clone();
        let rtc = SourceRtc {
            spec: spec.clone(),
            sink: MediaSink {
                tx: tx.clone(),
                counters: counters.clone(),
                stop: stop_rx.clone(),
            },
            events: ev.clone(),
            link: link.clone(),
            settings: ctx.ingest.rtc,
        };
        sinks = (FeedbackSink::Peer(link.clone()), FeedbackSink::Peer(link));
        match &spec.transport {
            SourceTransport::Rtp => {}
            SourceTransport::Whip => {
                let server = ctx.ingest.whip.as_ref().ok_or_else(|| {
                    MixerError::invalid("transport", "this daemon serves no WHIP endpoint")
                })?;
                let (info, reg) = server.register(rtc);
                ports.whip_url = info.url;
                ports.whip_token = info.token;
                whip = Some(reg);
            }
            SourceTransport::Whep { url, bearer_token } => {
                let client = ctx.ingest.policy.whep.clone();
                let target = (url.clone(), bearer_token.clone());
                whep::spawn(rtc, client, target, stop_rx.clone());
            }
        }
    }
    drop(tx);
    let limits = (ctx.epoch, ctx.max_picture_pixels, ctx.ingest.policy.latch);
    let worker = SourceWorker::new(spec, rx, counters.clone(), slot.clone(), limits, sinks)
        .map(|w| w.with_clock(ctx.clock.join()))
        .map_err(|e| internal(&e))?
        .with_stop(stop_rx)
        .with_recorder(recorder(ctx, spec))
        .with_video_decode(ctx.decode_video);
    let camid = spec.camid.clone();
    let failed = events.clone();
    let handle = std::thread::Builder::new()
        .name(format!("src-{}", spec.camid))
        .spawn(move || {
            let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| worker.run()));
            if let Err(payload) = r {
                let what = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".to_owned());
                tracing::error!(%camid, panic = %what.escape_debug(), "source worker panicked; the source shows its placeholder");
                failed.emit(
                    SourceConnectionState::Failed,
                    format!("source worker failed: {what}"),
                );
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
            events,
            _sockets: sockets,
            whip,
            slot: slot.clone(),
        },
        slot,
    ))
}
