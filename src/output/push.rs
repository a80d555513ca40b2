//! A live push of the composite (issue 14: NetEase's `rtmpRecord`, ZEGO's CDN output):
//! a [`PacketSink`] fed by the same encode as the file, that sends FLV over RTMP/RTMPS,
//! or MPEG-TS over SRT (caller mode), to an ingest URL from a thread of its own.
//!
//! The mixer's tick thread never waits for the network: `write` hands each packet to
//! the push thread through a bounded queue ([`QUEUE_PACKETS`]) and drops it (counted)
//! when the queue is full, e.g. while a write hangs on a dead server; the push thread
//! drops (and counts) packets that waited more than [`MAX_QUEUED`], so a connection
//! that comes up after a hang starts with current media, not a burst of old. The push thread
//! connects, writes and reconnects as [`PushCore`] says (backoff, restart at a video
//! keyframe); a lost push never stops the file or the mixer, and it never returns an
//! error to the encoder. Its URL appears in logs only as [`redact`]ed (the stream key
//! is a secret).

use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{bounded, Receiver, RecvTimeoutError, Sender, TrySendError};
use ffmpeg_next::Packet;
use parking_lot::Mutex;

use crate::events::LiveOutputInfo;
use crate::media::mux::{Container, Mp4Muxer};
use crate::model::{Medium, MixerError};
use crate::output::push_state::{PushCore, PushState};
use crate::output::{MuxStreams, PacketSink, StreamInfo};

/// Packets the queue to the push thread holds (about 4 s of 15 fps video and AAC).
pub const QUEUE_PACKETS: usize = 256;
/// ffmpeg's read/write timeout of the connection, µs: a write to a dead server fails
/// after this instead of blocking.
pub const RW_TIMEOUT_US: u64 = 3_000_000;
/// A packet that waited longer than this in the queue (while a connect or write hung)
/// is dropped instead of sent: a live stream carries current media, not a backlog
/// burst (which an SRT receiver would drop as too late anyway).
pub const MAX_QUEUED: Duration = Duration::from_secs(1);
/// How long `finish` waits for the push thread to end the stream.
const FINISH_WAIT: Duration = Duration::from_secs(5);

/// Told every state change of a push (from its thread): the mixer turns it into a
/// `LiveOutputChanged` event and keeps it for Get.
pub type PushNotify = Arc<dyn Fn(&LiveOutputInfo) + Send + Sync>;

enum Msg {
    Start(Option<StreamInfo>, Option<StreamInfo>),
    /// A packet and when it was queued.
    Packet(Medium, Packet, Instant),
    Finish,
}

/// See the module docs.
pub struct RtmpPush {
    name: String,
    tx: Sender<Msg>,
    status: Arc<Mutex<LiveOutputInfo>>,
    thread: Option<(JoinHandle<()>, Receiver<()>)>,
}

impl RtmpPush {
    /// Push number `index` to `url` (`rtmp://` or `rtmps://`, validated by the request
    /// layer), starting its thread; it connects once the streams are known (`start`).
    /// `notify` hears every state change. Errors: `Output` if the thread cannot be
    /// spawned.
    pub fn new(index: u32, url: &str, notify: PushNotify) -> Result<Self, MixerError> {
        let name = redact(url);
        let (tx, rx) = bounded(QUEUE_PACKETS);
        let status = Arc::new(Mutex::new(initial(index, url)));
        let (done_tx, done_rx) = bounded(1);
        let (url, st) = (url.to_owned(), status.clone());
        let thread = std::thread::Builder::new()
            .name("live-push".into())
            .spawn(move || {
                run(&url, &rx, &st, &*notify);
                let _ = done_tx.send(());
            })
            .map_err(|e| MixerError::from_io(&name, &e))?;
        Ok(Self {
            name,
            tx,
            status,
            thread: Some((thread, done_rx)),
        })
    }
}

/// Push `index` to `url` before its first connect.
pub fn initial(index: u32, url: &str) -> LiveOutputInfo {
    LiveOutputInfo {
        index,
        url: redact(url),
        state: PushState::Connecting,
        reconnects: 0,
        bytes_sent: 0,
        packets_dropped: 0,
        last_error: String::new(),
    }
}

/// Every push of `urls` before its first connect, in order.
pub fn initial_all(urls: &[String]) -> Vec<LiveOutputInfo> {
    (0u32..).zip(urls).map(|(i, u)| initial(i, u)).collect()
}

impl PacketSink for RtmpPush {
    fn name(&self) -> &str {
        &self.name
    }

    fn needs_global_header(&self) -> bool {
        true
    }

    fn start(
        &mut self,
        video: Option<&StreamInfo>,
        audio: Option<&StreamInfo>,
    ) -> Result<(), MixerError> {
        let _ = self.tx.send(Msg::Start(video.cloned(), audio.cloned()));
        Ok(())
    }

    fn write(&mut self, medium: Medium, packet: Packet) -> Result<(), MixerError> {
        let msg = Msg::Packet(medium, packet, Instant::now());
        if let Err(TrySendError::Full(_)) = self.tx.try_send(msg) {
            self.status.lock().packets_dropped += 1;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), MixerError> {
        let Some((thread, done)) = self.thread.take() else {
            return Ok(());
        };
        // The queue may be full of packets a dead server will not take: the thread sees
        // Finish after them, or the channel closing.
        let _ = self.tx.send_timeout(Msg::Finish, FINISH_WAIT);
        if done.recv_timeout(FINISH_WAIT).is_ok() {
            let _ = thread.join();
        } else {
            tracing::warn!(push = %self.name, "live push did not end in time; left to finish");
        }
        Ok(())
    }

    fn size_bytes(&self) -> u64 {
        self.status.lock().bytes_sent
    }
}

/// A connected push: the muxer and its stream handles.
struct Connection {
    mux: Mp4Muxer,
    streams: MuxStreams,
}

fn connect(
    url: &str,
    video: Option<&StreamInfo>,
    audio: Option<&StreamInfo>,
) -> Result<Connection, String> {
    let mut mux =
        Mp4Muxer::connect(url, container_of(url), RW_TIMEOUT_US).map_err(|e| e.to_string())?;
    let streams = MuxStreams::start(&mut mux, video, audio).map_err(|e| e.to_string())?;
    Ok(Connection { mux, streams })
}

/// The push thread: connects, writes, reconnects (see [`PushCore`]) until Finish.
fn run(
    url: &str,
    rx: &Receiver<Msg>,
    status: &Mutex<LiveOutputInfo>,
    notify: &(dyn Fn(&LiveOutputInfo) + Send + Sync),
) {
    let name = redact(url);
    let mut streams: Option<(Option<StreamInfo>, Option<StreamInfo>)> = None;
    let mut conn: Option<Connection> = None;
    let mut core = PushCore::new(true);
    // Only state changes are told (a dead server's every failed attempt is not).
    let publish = |core: &PushCore, error: Option<&str>| {
        let (changed, info) = {
            let mut s = status.lock();
            let changed = s.state != core.state();
            s.state = core.state();
            s.reconnects = core.reconnects();
            if let Some(e) = error {
                s.last_error = e.to_owned();
            }
            (changed, s.clone())
        };
        if changed {
            notify(&info);
        }
    };
    loop {
        let now = Instant::now();
        if let (None, Some((v, a))) = (&conn, &streams) {
            if core.connect_due(now) {
                match connect(url, v.as_ref(), a.as_ref()) {
                    Ok(c) => {
                        conn = Some(c);
                        core.connected();
                        tracing::info!(push = %name, reconnects = core.reconnects(), "live push connected");
                        publish(&core, None);
                    }
                    Err(e) => {
                        core.failed(Instant::now());
                        tracing::warn!(push = %name, error = %e, state = core.state().as_str(), "live push cannot connect; retrying");
                        publish(&core, Some(&e));
                    }
                }
            }
        }
        let wait = match (&streams, &conn) {
            (Some(_), None) => core.until_attempt(Instant::now()).unwrap_or(FINISH_WAIT),
            _ => FINISH_WAIT,
        };
        match rx.recv_timeout(wait) {
            Ok(Msg::Start(v, a)) => {
                core = PushCore::new(v.is_some());
                streams = Some((v, a));
            }
            Ok(Msg::Packet(medium, packet, queued)) => {
                let Some(c) = &mut conn else { continue };
                if queued.elapsed() > MAX_QUEUED {
                    status.lock().packets_dropped += 1;
                    continue;
                }
                if !core.admit(medium, packet.is_key()) {
                    continue;
                }
                let Some(handle) = c.streams.of(medium) else {
                    continue;
                };
                let size = packet.size() as u64;
                match c.mux.write(handle, packet) {
                    Ok(()) => status.lock().bytes_sent += size,
                    Err(e) => {
                        conn = None;
                        core.failed(Instant::now());
                        let e = e.to_string();
                        tracing::warn!(push = %name, error = %e, "live push lost; reconnecting");
                        publish(&core, Some(&e));
                    }
                }
            }
            Ok(Msg::Finish) | Err(RecvTimeoutError::Disconnected) => break,
            Err(RecvTimeoutError::Timeout) => {}
        }
    }
    if let Some(mut c) = conn {
        if let Err(e) = c.mux.finish() {
            tracing::debug!(push = %name, error = %e, "live push trailer not written");
        }
    }
    core.stopped();
    publish(&core, None);
    tracing::info!(push = %name, "live push stopped");
}

pub use crate::media::log::redact_url as redact;

/// The container a push to `url` sends: MPEG-TS over SRT, FLV over RTMP(S).
pub fn container_of(url: &str) -> Container {
    if url.starts_with("srt://") {
        Container::MpegTs
    } else {
        Container::Flv
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srt_goes_as_mpeg_ts_and_rtmp_as_flv() {
        assert_eq!(container_of("srt://h:9000"), Container::MpegTs);
        assert_eq!(container_of("rtmps://h/a/k"), Container::Flv);
    }
}
