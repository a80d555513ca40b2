//! A UDP relay that impairs RTP like a bad network, between a sender and the mixer:
//! drops a share of the datagrams, delays each by a uniform random time (jitter), which
//! also reorders them. Seeded per relayed port, so every run draws the same decisions
//! for the same sequence of datagrams. RTCP (the port above each RTP port) is relayed
//! unimpaired, as is anything the mixer sends back (to the sender's last address).

use std::collections::BinaryHeap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// What the relay does to RTP.
#[derive(Debug, Clone, Copy)]
pub struct Impairment {
    /// Share of datagrams dropped, 0..1.
    pub loss: f64,
    /// Each datagram is held a uniform random time in `[0, jitter]`.
    pub jitter: Duration,
    pub seed: u64,
}

/// Counters of one relay.
#[derive(Debug, Default)]
pub struct RelayCounts {
    pub received: AtomicU64,
    pub dropped: AtomicU64,
    /// Datagrams sent after one that had arrived later than them.
    pub reordered: AtomicU64,
    /// Every impaired datagram in arrival order.
    pub log: Mutex<Vec<Logged>>,
    /// When the first RTCP datagram from the sender passed (relayed at once): from then
    /// on the mixer knows where the sender's RTCP comes from and can reach it with PLI.
    pub first_rtcp: Mutex<Option<Instant>>,
}

/// One impaired datagram as the relay received it.
#[derive(Debug, Clone)]
pub struct Logged {
    pub at: Instant,
    /// Its first [`LOGGED_BYTES`] bytes: the RTP header and payload header.
    pub head: Vec<u8>,
    pub dropped: bool,
}

/// Bytes of each impaired datagram kept in [`RelayCounts::log`]: an RTP header with a
/// few CSRCs or an extension, and the payload's descriptor and first bytes.
pub const LOGGED_BYTES: usize = 64;

/// Relays `127.0.0.1:<port>` (RTP, impaired) and `<port>+1` (RTCP) to `to` and `to+1`.
pub struct LossyRelay {
    pub port: u16,
    pub counts: Arc<RelayCounts>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Due(std::cmp::Reverse<(Instant, u64)>, Vec<u8>);

impl LossyRelay {
    /// Starts relaying to the mixer's RTP port `to` (RTCP on `to + 1`).
    pub fn start(to: SocketAddr, imp: Impairment) -> LossyRelay {
        let (rtp, rtcp) = bind_pair();
        let port = rtp.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let counts = Arc::new(RelayCounts::default());
        let rtcp_to = SocketAddr::new(to.ip(), to.port() + 1);
        let threads = vec![
            spawn_leg(rtp, to, Some(imp), counts.clone(), stop.clone()),
            spawn_leg(rtcp, rtcp_to, None, counts.clone(), stop.clone()),
        ];
        LossyRelay {
            port,
            counts,
            stop,
            threads,
        }
    }
}

impl Drop for LossyRelay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Two sockets on consecutive ports (RTP even, RTCP odd), as RTP senders expect.
fn bind_pair() -> (UdpSocket, UdpSocket) {
    for _ in 0..200 {
        let a = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let p = a.local_addr().unwrap().port();
        if !p.is_multiple_of(2) || p == u16::MAX {
            continue;
        }
        if let Ok(b) = UdpSocket::bind(("127.0.0.1", p + 1)) {
            return (a, b);
        }
    }
    panic!("no consecutive UDP port pair free");
}

fn spawn_leg(
    sock: UdpSocket,
    to: SocketAddr,
    imp: Option<Impairment>,
    counts: Arc<RelayCounts>,
    stop: Arc<AtomicBool>,
) -> JoinHandle<()> {
    std::thread::spawn(move || {
        sock.set_read_timeout(Some(Duration::from_millis(1)))
            .unwrap();
        let back = UdpSocket::bind("127.0.0.1:0").expect("bind");
        back.set_nonblocking(true).unwrap();
        let mut rng = StdRng::seed_from_u64(imp.map_or(0, |i| i.seed));
        let mut queue: BinaryHeap<Due> = BinaryHeap::new();
        let mut buf = [0u8; 2048];
        let mut n_in = 0u64;
        let mut last_sent = 0u64;
        let mut sender: Option<SocketAddr> = None;
        while !stop.load(Ordering::Relaxed) {
            if let Ok((n, from)) = sock.recv_from(&mut buf) {
                sender = Some(from);
                if imp.is_none() {
                    counts
                        .first_rtcp
                        .lock()
                        .unwrap()
                        .get_or_insert(Instant::now());
                } else {
                    counts.received.fetch_add(1, Ordering::Relaxed);
                }
                n_in += 1;
                let (drop, hold) = match imp {
                    Some(i) => (
                        rng.gen_bool(i.loss),
                        i.jitter.mul_f64(rng.gen_range(0.0..=1.0)),
                    ),
                    None => (false, Duration::ZERO),
                };
                if imp.is_some() {
                    let head = buf[..n.min(LOGGED_BYTES)].to_vec();
                    counts.log.lock().unwrap().push(Logged {
                        at: Instant::now(),
                        head,
                        dropped: drop,
                    });
                }
                if drop {
                    counts.dropped.fetch_add(1, Ordering::Relaxed);
                } else {
                    queue.push(Due(
                        std::cmp::Reverse((Instant::now() + hold, n_in)),
                        buf[..n].to_vec(),
                    ));
                }
            }
            while queue.peek().is_some_and(|d| d.0 .0 .0 <= Instant::now()) {
                let Due(std::cmp::Reverse((_, seq)), data) = queue.pop().unwrap();
                if seq < last_sent {
                    counts.reordered.fetch_add(1, Ordering::Relaxed);
                }
                last_sent = last_sent.max(seq);
                let _ = back.send_to(&data, to);
            }
            // Feedback from the mixer (RR, PLI) back to the sender.
            if let (Ok((n, _)), Some(s)) = (back.recv_from(&mut buf), sender) {
                let _ = sock.send_to(&buf[..n], s);
            }
        }
    })
}
