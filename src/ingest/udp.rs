//! UDP receive shell: one tokio task per bound RTP socket, forwarding datagrams with
//! their arrival time to the source's worker thread.
//!
//! The hand-off is a bounded channel of [`INGEST_QUEUE_CAPACITY`] datagrams per source;
//! when it is full (the worker is behind) the newest datagram is dropped and counted in
//! `packets_dropped`, so a flood can never block the runtime or grow memory.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use crossbeam_channel::{Sender, TrySendError};
use tokio::sync::watch;

use crate::events::unix_ms_now;
pub use crate::model::Medium;
use crate::model::SourceCounters;

/// Datagrams queued per source between its sockets and its worker; full = drop newest.
pub const INGEST_QUEUE_CAPACITY: usize = 4096;

/// Largest datagram accepted, bytes (bigger ones are truncated by the kernel and then
/// fail to parse).
pub const MAX_DATAGRAM: usize = 2048;

/// One received datagram.
#[derive(Debug, Clone)]
pub struct Datagram {
    pub medium: Medium,
    /// Received on the RTCP port (RTP port + 1).
    pub rtcp: bool,
    pub data: Bytes,
    pub from: SocketAddr,
    pub arrival: Instant,
}

/// Spawns the receive task of an RTP (`rtcp` false) or RTCP socket on `rt`. The task ends when `stop` turns
/// true or is dropped, or when the worker is gone.
/// Errors: the socket cannot be registered with the runtime.
pub fn spawn_receiver(
    rt: &tokio::runtime::Handle,
    socket: std::net::UdpSocket,
    medium: Medium,
    rtcp: bool,
    tx: Sender<Datagram>,
    mut stop: watch::Receiver<bool>,
    counters: Arc<SourceCounters>,
) -> std::io::Result<tokio::task::JoinHandle<()>> {
    socket.set_nonblocking(true)?;
    let _guard = rt.enter();
    let socket = tokio::net::UdpSocket::from_std(socket)?;
    Ok(rt.spawn(async move {
        let mut buf = vec![0u8; MAX_DATAGRAM];
        loop {
            tokio::select! {
                changed = stop.changed() => {
                    if changed.is_err() || *stop.borrow() {
                        return;
                    }
                }
                r = socket.recv_from(&mut buf) => {
                    let Ok((n, from)) = r else { continue };
                    if rtcp {
                        counters.rtcp_packets.fetch_add(1, Ordering::Relaxed);
                    } else {
                        let (pk, by) = match medium {
                            Medium::Video => (&counters.video_packets, &counters.video_bytes),
                            Medium::Audio => (&counters.audio_packets, &counters.audio_bytes),
                        };
                        pk.fetch_add(1, Ordering::Relaxed);
                        by.fetch_add(n as u64, Ordering::Relaxed);
                        counters.last_packet_unix_ms.store(unix_ms_now(), Ordering::Relaxed);
                    }
                    let d = Datagram {
                        medium,
                        rtcp,
                        data: Bytes::copy_from_slice(&buf[..n]),
                        from,
                        arrival: Instant::now(),
                    };
                    match tx.try_send(d) {
                        Ok(()) => {}
                        Err(TrySendError::Full(_)) => {
                            counters.packets_dropped.fetch_add(1, Ordering::Relaxed);
                            counters.drops_queue_full.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(TrySendError::Disconnected(_)) => return,
                    }
                }
            }
        }
    }))
}
