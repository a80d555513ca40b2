//! Symmetric RTP latching (RFC 7362 §4, "latching"): a plain-RTP stream takes media only
//! from the first address that sent it a valid packet, and sends its feedback only back
//! to that peer. Sans-IO: arrival times are passed in.
//!
//! **The rule** (also in docs/OPERATIONS.md, "Plain RTP ingress"):
//!
//! - The first RTP packet that parses and carries the stream's payload type (and its
//!   SSRC, when the source config pins one) latches the stream to its source address
//!   (IP and port) and SSRC.
//! - RTP from the latched address is accepted; a new SSRC from it is that sender
//!   restarting (the stream restarts, as before latching).
//! - RTP from any other address is *foreign*: counted in `drops_foreign_address` and
//!   dropped before the jitter buffer (never decoded), except:
//!   - **NAT rebinding**: a packet with the latched SSRC from a new address re-latches to
//!     that address once the latched one has been silent for
//!     [`LatchConfig::rebind_after`] (`--rtp-rebind-after-ms`, default
//!     [`DEFAULT_REBIND_AFTER`]);
//!   - **a new sender**: a packet with any SSRC (the pinned one, if pinned) from a new
//!     address re-latches once the latched one has been silent for
//!     [`LatchConfig::relatch_after`] (`--rtp-relatch-after-ms`, default
//!     [`DEFAULT_RELATCH_AFTER`]), i.e. a publisher that left and came back from another
//!     port. While the latched sender keeps sending, nobody else gets in.
//! - The RTCP port accepts datagrams (sender reports, Janus' latching packet) only from
//!   the latched peer's IP address (before the RTP latch: from anyone, provisionally);
//!   others are foreign. Feedback (receiver reports, PLI, FIR) goes to the last RTCP
//!   source address of that IP, else to the latched RTP address's port + 1
//!   (`receive::feedback`), never to another host.
//!
//! WebRTC sources do not latch: DTLS-SRTP authenticates their peer, and their datagrams
//! carry one synthetic address.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

pub use crate::ingest::policy::{LatchConfig, DEFAULT_REBIND_AFTER, DEFAULT_RELATCH_AFTER};

/// What the latch says about an RTP packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verdict {
    /// From the latched address (or the first one, which latched).
    Accept,
    /// From a new address that took over the stream by the rule above.
    Relatched,
    /// From another address: drop and count.
    Foreign,
}

/// The latch state of one stream.
#[derive(Debug)]
pub(super) struct Latch {
    config: LatchConfig,
    /// Latched address and SSRC, and the arrival of its latest accepted packet.
    peer: Option<(SocketAddr, u32, Instant)>,
}

impl Latch {
    pub(super) fn new(config: LatchConfig) -> Self {
        Self { config, peer: None }
    }

    /// An RTP packet of SSRC `ssrc` (already checked against the payload type and a
    /// pinned SSRC) from `from`, arrived at `arrival`.
    pub(super) fn on_rtp(&mut self, from: SocketAddr, ssrc: u32, arrival: Instant) -> Verdict {
        let Some((addr, latched_ssrc, last)) = self.peer else {
            self.peer = Some((from, ssrc, arrival));
            return Verdict::Accept;
        };
        if addr == from {
            self.peer = Some((addr, ssrc, last.max(arrival)));
            return Verdict::Accept;
        }
        let silent = arrival.saturating_duration_since(last);
        let rebinding = ssrc == latched_ssrc && silent >= self.config.rebind_after;
        if rebinding || silent >= self.config.relatch_after {
            tracing::info!(
                old = %addr,
                new = %from,
                silent_ms = silent.as_millis() as u64,
                same_ssrc = ssrc == latched_ssrc,
                "RTP stream re-latched to a new sender address"
            );
            self.peer = Some((from, ssrc, arrival));
            return Verdict::Relatched;
        }
        Verdict::Foreign
    }

    /// True if a datagram on the RTCP port from `from` is the latched peer's (same IP),
    /// or nothing is latched yet.
    pub(super) fn rtcp_allowed(&self, from: SocketAddr) -> bool {
        self.peer_ip().is_none_or(|ip| ip == from.ip())
    }

    /// The latched peer's IP address.
    pub(super) fn peer_ip(&self) -> Option<IpAddr> {
        self.peer.map(|(a, _, _)| a.ip())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn a(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn latches_to_the_first_sender_and_refuses_others_while_it_sends() {
        let t0 = Instant::now();
        let mut l = Latch::new(LatchConfig::default());
        let (real, stranger) = (a("10.0.0.1:5000"), a("10.0.0.2:5000"));
        assert_eq!(l.on_rtp(real, 1, t0), Verdict::Accept);
        for k in 1..100u32 {
            let t = t0 + 20 * MS * k;
            assert_eq!(l.on_rtp(real, 1, t), Verdict::Accept);
            // The stranger, with a different or even the same SSRC, between the packets.
            assert_eq!(l.on_rtp(stranger, 2, t + MS), Verdict::Foreign);
            assert_eq!(l.on_rtp(stranger, 1, t + MS), Verdict::Foreign);
        }
        // Another port of the same host is another address.
        assert_eq!(
            l.on_rtp(a("10.0.0.1:5002"), 1, t0 + 2000 * MS + MS),
            Verdict::Foreign
        );
        assert!(l.rtcp_allowed(a("10.0.0.1:5001")));
        assert!(!l.rtcp_allowed(a("10.0.0.2:5001")));
    }

    #[test]
    fn nat_rebinding_keeps_the_ssrc_after_the_rebind_silence() {
        let t0 = Instant::now();
        let cfg = LatchConfig::default();
        let mut l = Latch::new(cfg);
        let (old, new) = (a("192.0.2.1:40000"), a("192.0.2.1:41234"));
        assert_eq!(l.on_rtp(old, 7, t0), Verdict::Accept);
        // The new binding's packets inside the window are dropped...
        let just_before = t0 + cfg.rebind_after - MS;
        assert_eq!(l.on_rtp(new, 7, just_before), Verdict::Foreign);
        // ... and the first one after it takes over; the old address is foreign then.
        let at = t0 + cfg.rebind_after;
        assert_eq!(l.on_rtp(new, 7, at), Verdict::Relatched);
        assert_eq!(l.on_rtp(new, 7, at + MS), Verdict::Accept);
        assert_eq!(l.on_rtp(old, 7, at + 2 * MS), Verdict::Foreign);
    }

    #[test]
    fn another_ssrc_from_a_new_address_needs_the_longer_silence() {
        let t0 = Instant::now();
        let cfg = LatchConfig {
            rebind_after: 100 * MS,
            relatch_after: 1000 * MS,
        };
        let mut l = Latch::new(cfg);
        let (old, new) = (a("[2001:db8::1]:5000"), a("[2001:db8::2]:6000"));
        assert_eq!(l.on_rtp(old, 7, t0), Verdict::Accept);
        // Silent long enough for a rebinding, but the SSRC differs: not yet.
        assert_eq!(l.on_rtp(new, 8, t0 + 500 * MS), Verdict::Foreign);
        assert_eq!(l.on_rtp(new, 8, t0 + 999 * MS), Verdict::Foreign);
        assert_eq!(l.on_rtp(new, 8, t0 + 1000 * MS), Verdict::Relatched);
        assert!(!l.rtcp_allowed(old));
        assert!(l.rtcp_allowed(a("[2001:db8::2]:6001")));
    }

    #[test]
    fn a_new_ssrc_from_the_latched_address_is_a_restart() {
        let t0 = Instant::now();
        let mut l = Latch::new(LatchConfig::default());
        let p = a("127.0.0.1:5000");
        assert_eq!(l.on_rtp(p, 1, t0), Verdict::Accept);
        assert_eq!(l.on_rtp(p, 2, t0 + MS), Verdict::Accept);
        // The rebinding rule now follows SSRC 2.
        let at = t0 + MS + DEFAULT_REBIND_AFTER;
        assert_eq!(l.on_rtp(a("127.0.0.1:5008"), 1, at), Verdict::Foreign);
        assert_eq!(l.on_rtp(a("127.0.0.1:5008"), 2, at), Verdict::Relatched);
    }

    #[test]
    fn rtcp_before_the_rtp_latch_is_allowed_provisionally() {
        let l = Latch::new(LatchConfig::default());
        assert!(l.rtcp_allowed(a("203.0.113.9:7")));
        assert_eq!(l.peer_ip(), None);
    }
}
