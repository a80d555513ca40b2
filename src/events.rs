//! The event bus: every mixer's [`MixerEvent`]s, in order, for any number of watchers.
//!
//! Mixer threads emit with [`EventBus::emit`] (non-blocking, callable from any thread);
//! the gRPC `WatchEvents` stream and tests subscribe. The bus is a
//! `tokio::sync::broadcast` channel of [`EVENT_BUS_CAPACITY`] events, stored once for all
//! watchers: a watcher that falls further behind than that loses the oldest events and is
//! told how many it lost (`RecvError::Lagged`; `WatchEvents` then ends the stream with
//! that status); emitters never block. `seq` is assigned and the event sent under one
//! lock, so every watcher sees `seq` strictly increasing.

use std::sync::Arc;

use parking_lot::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::broadcast;

use crate::model::{OutputKind, OutputMedia};

/// Events buffered per watcher before the slowest one starts losing the oldest.
pub const EVENT_BUS_CAPACITY: usize = 4096;

/// The lifecycle of one mixer (Cloudroom MIXER_STATE); transitions are decided in
/// [`crate::model::lifecycle`].
pub use crate::model::MixerState;

/// State of the output file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputStatus {
    /// Being written; playable up to its last complete fragment.
    Recording,
    /// Complete.
    Finalized,
    /// Writing failed; see `error_message`.
    Failed,
}

/// Cloudroom outputInfo: where the file is and how much it holds, and which of the
/// mixer's outputs it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputInfo {
    /// Unique within the mixer: [`MIXED_OUTPUT_ID`] or `<camid>/<media>/<span>`.
    pub output_id: String,
    pub kind: OutputKind,
    /// Single outputs: the participant's camid; empty for the composite.
    pub camid: String,
    pub media: OutputMedia,
    /// "mp4", "m4a", "aac", "webm" or "ogg".
    pub container: String,
    /// Unix ms of the first media written; 0 = none yet.
    pub start_unix_ms: i64,
    /// Unix ms of the last media written once the output ended; 0 = not ended.
    pub end_unix_ms: i64,
    /// Single outputs: the participant's presence span (1, 2, ...); 0 for the composite.
    pub span: u32,
    /// Path relative to the recordings root.
    pub path: String,
    /// Absolute path on this machine.
    pub abs_path: String,
    /// Media written, in ms (output video frames * 1000 / fps).
    pub duration_ms: u64,
    /// File size in bytes.
    pub size_bytes: u64,
    /// Recording, finalized or failed.
    pub status: OutputStatus,
    /// 0 = no error.
    pub error_code: i32,
    /// Empty when no error.
    pub error_message: String,
}

/// Where an output's upload stands ([`EventKind::UploadChanged`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UploadState {
    Pending,
    Uploading,
    Uploaded,
    Failed,
}

/// An output's copy in object storage (`catalog::upload`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadInfo {
    pub state: UploadState,
    /// The object (`s3://bucket/key`, `file:///dir/key`); empty until uploaded.
    pub location: String,
    /// Bytes sent so far in this attempt.
    pub uploaded_bytes: u64,
    /// Attempts made so far.
    pub attempts: u32,
    /// The last attempt's error; empty on success.
    pub error_message: String,
}

/// The output id of the composite.
pub const MIXED_OUTPUT_ID: &str = "mixed";

impl OutputInfo {
    /// The composite's info before anything is written: Recording, empty.
    pub fn mixed(path: &str, abs_path: &str, media: OutputMedia, container: &str) -> Self {
        Self {
            output_id: MIXED_OUTPUT_ID.to_owned(),
            kind: OutputKind::Mixed,
            camid: String::new(),
            media,
            container: container.to_owned(),
            start_unix_ms: 0,
            end_unix_ms: 0,
            span: 0,
            path: path.to_owned(),
            abs_path: abs_path.to_owned(),
            duration_ms: 0,
            size_bytes: 0,
            status: OutputStatus::Recording,
            error_code: 0,
            error_message: String::new(),
        }
    }
}

/// Connection state of one WebRTC source (WHIP or WHEP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SourceConnectionState {
    /// ICE and DTLS are up; media can flow.
    Connected,
    /// The session ended or broke (DELETE, ICE failure, server gone).
    Disconnected,
    /// WHEP: trying again after a failure, with backoff.
    Reconnecting,
    /// Any source (RTP too): its worker thread ended on a bug (a panic, caught): the
    /// source is no longer received or decoded and shows its placeholder; the other
    /// sources and the mixer go on. Final: no later state replaces it.
    Failed,
}

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A WebRTC source connected, disconnected or is reconnecting; `reason` says why
    /// (e.g. "WHIP DELETE", "ICE failed", "WHEP POST: connection refused").
    SourceStateChanged {
        camid: String,
        state: SourceConnectionState,
        reason: String,
    },
    /// Cloudroom CloudMixerStateChanged.
    StateChanged {
        state: MixerState,
        error_code: i32,
        error_message: String,
        oper_user_id: String,
    },
    /// Cloudroom CloudMixerOutputInfoChanged.
    OutputInfoChanged(OutputInfo),
    /// An output's copy in object storage progressed, completed or failed (sent as
    /// Cloudroom CloudMixerOutputInfoChanged with its upload set).
    UploadChanged {
        output: OutputInfo,
        upload: UploadInfo,
    },
    /// A live push of the composite connected, was lost, reconnected or stopped.
    LiveOutputChanged(LiveOutputInfo),
    /// The mix's active speaker changed ([`crate::audio::speaker`]).
    ActiveSpeakerChanged {
        camid: String,
        /// Empty for the first.
        previous_camid: String,
        /// The new speaker's block level, hundredths of a dB (dBFS x 100).
        level_centi_dbfs: i32,
        /// Output time of the decision, ms.
        output_ms: i64,
    },
}

/// Where a live push of the composite stands (`output/push_state.rs` decides).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LivePushState {
    /// The first connection is being made.
    Connecting,
    /// Connected; packets flow.
    Live,
    /// The connection failed or was lost; retrying with backoff.
    Reconnecting,
    /// The mixer stopped; the stream was ended.
    Stopped,
}

impl LivePushState {
    /// Lower-case name for logs.
    pub fn as_str(self) -> &'static str {
        match self {
            LivePushState::Connecting => "connecting",
            LivePushState::Live => "live",
            LivePushState::Reconnecting => "reconnecting",
            LivePushState::Stopped => "stopped",
        }
    }
}

/// One live push of a mixer, as events and Get report it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveOutputInfo {
    /// Its position in `video_file_cfg.live_push_urls`.
    pub index: u32,
    /// The URL without its stream key (`rtmp://host/app/***`).
    pub url: String,
    pub state: LivePushState,
    /// Successful connects after the first.
    pub reconnects: u32,
    /// Bytes of the packets sent, over all connections.
    pub bytes_sent: u64,
    /// Packets dropped because the push could not keep up (queue full).
    pub packets_dropped: u64,
    /// The last connect or write error (never the URL); empty if none.
    pub last_error: String,
}

/// One event of one mixer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixerEvent {
    /// Daemon-wide sequence number, +1 per event.
    pub seq: u64,
    /// Wall clock at emission, Unix ms.
    pub unix_ms: i64,
    pub mixer_id: String,
    pub kind: EventKind,
}

/// Cloneable handle to the daemon-wide event channel.
#[derive(Clone)]
pub struct EventBus {
    tx: broadcast::Sender<MixerEvent>,
    /// The last `seq` sent; held while sending so that sends happen in `seq` order.
    seq: Arc<Mutex<u64>>,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::new()
    }
}

impl EventBus {
    /// A bus holding [`EVENT_BUS_CAPACITY`] events per watcher.
    pub fn new() -> Self {
        let (tx, _) = broadcast::channel(EVENT_BUS_CAPACITY);
        Self {
            tx,
            seq: Arc::new(Mutex::new(0)),
        }
    }

    /// Emits an event with the next `seq`; never waits for watchers (the lock is held
    /// only to number and enqueue). With no watcher the event is dropped.
    pub fn emit(&self, mixer_id: &str, kind: EventKind) {
        let mut seq = self.seq.lock();
        *seq += 1;
        let _ = self.tx.send(MixerEvent {
            seq: *seq,
            unix_ms: unix_ms_now(),
            mixer_id: mixer_id.to_owned(),
            kind,
        });
    }

    /// A receiver of every event emitted from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<MixerEvent> {
        self.tx.subscribe()
    }
}

/// Wall clock now, Unix milliseconds.
pub fn unix_ms_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
