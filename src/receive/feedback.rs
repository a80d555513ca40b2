//! The RTCP a stream sends, and when: receiver reports every
//! [`RECEIVER_REPORT_INTERVAL`] and keyframe requests at most every
//! [`KEYFRAME_REQUEST_INTERVAL`] (PLI, RFC 4585 §6.3.1; every third a FIR, RFC 5104
//! §4.3.1), to the destination learnt from the datagrams. Sans-IO: `now` is passed in.

use std::net::SocketAddr;
use std::time::Instant;

use crate::ingest::rtcp::{self, ReceptionStats};
use crate::model::Medium;
use crate::receive::{RtcpKind, Transmit, KEYFRAME_REQUEST_INTERVAL, RECEIVER_REPORT_INTERVAL};

/// Destination and timers of one stream's feedback.
#[derive(Debug)]
pub(super) struct Feedback {
    medium: Medium,
    our_ssrc: u32,
    send_receiver_reports: bool,
    rtcp_peer: Option<SocketAddr>,
    rtp_peer: Option<SocketAddr>,
    last_rr: Option<Instant>,
    last_keyframe_request: Option<Instant>,
    /// Requests since the assembler last had what it needed (every third is a FIR).
    keyframe_requests: u32,
    /// The mixer asked for a keyframe (consumed by the next [`Feedback::poll`]).
    force_keyframe: bool,
}

impl Feedback {
    pub(super) fn new(medium: Medium, our_ssrc: u32, send_receiver_reports: bool) -> Self {
        Self {
            medium,
            our_ssrc,
            send_receiver_reports,
            rtcp_peer: None,
            rtp_peer: None,
            last_rr: None,
            last_keyframe_request: None,
            keyframe_requests: 0,
            force_keyframe: false,
        }
    }

    /// An accepted RTP packet came from `from`.
    pub(super) fn on_rtp_from(&mut self, from: SocketAddr) {
        self.rtp_peer = Some(from);
    }

    /// A datagram came in on the RTCP port. Any version-2 datagram makes `from` the
    /// address feedback goes to, even if it is not RTCP: Janus' `rtp_forward` "latches"
    /// its RTCP socket with a 12-byte dummy RTP header (`80 00 00 00 ...`), and that
    /// socket is where Janus listens for our PLI/FIR.
    pub(super) fn on_rtcp_port(&mut self, buf: &[u8], from: SocketAddr) {
        if buf.len() >= 4 && buf[0] >> 6 == 2 {
            self.rtcp_peer = Some(from);
        }
    }

    /// The stream re-latched to another sender: its RTCP address is learnt anew.
    pub(super) fn forget_rtcp_peer(&mut self) {
        self.rtcp_peer = None;
    }

    /// The mixer wants a keyframe (a layout change made the source visible).
    pub(super) fn force_keyframe(&mut self) {
        self.force_keyframe = true;
    }

    /// Where feedback goes: the RTCP peer if it is the RTP sender's host (same IP
    /// address; a datagram on the RTCP port from another host never redirects
    /// feedback), else the RTP source's port + 1.
    pub(super) fn destination(&self) -> Option<SocketAddr> {
        let rtp_ip = self.rtp_peer.map(|a| a.ip());
        self.rtcp_peer
            .filter(|r| rtp_ip.is_none_or(|ip| ip == r.ip()))
            .or(self
                .rtp_peer
                .map(|a| SocketAddr::new(a.ip(), a.port().wrapping_add(1))))
    }

    /// What is due at `now` for media SSRC `ssrc`, in sending order. `needs_keyframe`:
    /// the video assembler discards frames until a keyframe (false for audio).
    pub(super) fn poll(
        &mut self,
        now: Instant,
        ssrc: u32,
        reception: &mut ReceptionStats,
        needs_keyframe: bool,
        out: &mut impl Extend<Transmit>,
    ) {
        let force = std::mem::take(&mut self.force_keyframe) && self.medium == Medium::Video;
        if self.rr_due(now) {
            self.last_rr = Some(now);
            let rr = rtcp::receiver_report(self.our_ssrc, vec![reception.report(now)]);
            out.extend([self.transmit(RtcpKind::ReceiverReport, rr)]);
        }
        if (force || needs_keyframe) && self.keyframe_due(now) {
            self.last_keyframe_request = Some(now);
            self.keyframe_requests = self.keyframe_requests.wrapping_add(1);
            let t = if self.keyframe_requests.is_multiple_of(3) {
                let seq = (self.keyframe_requests / 3) as u8;
                let fir = rtcp::fir(self.our_ssrc, ssrc, seq);
                self.transmit(RtcpKind::Fir, fir)
            } else {
                self.transmit(RtcpKind::Pli, rtcp::pli(self.our_ssrc, ssrc))
            };
            out.extend([t]);
        }
        if !needs_keyframe && !force {
            self.keyframe_requests = 0;
        }
    }

    /// When [`Feedback::poll`] next has something to send without new input; `now_hint`
    /// stands for "at once" (the latest time the stream has seen).
    pub(super) fn next_due(&self, needs_keyframe: bool, now_hint: Instant) -> Option<Instant> {
        let rr = self.send_receiver_reports.then(|| {
            self.last_rr
                .map_or(now_hint, |t| t + RECEIVER_REPORT_INTERVAL)
        });
        let wants = needs_keyframe || (self.force_keyframe && self.medium == Medium::Video);
        let kf = wants.then(|| {
            self.last_keyframe_request
                .map_or(now_hint, |t| t + KEYFRAME_REQUEST_INTERVAL)
        });
        rr.into_iter().chain(kf).min()
    }

    fn rr_due(&self, now: Instant) -> bool {
        self.send_receiver_reports
            && self
                .last_rr
                .is_none_or(|t| now.duration_since(t) >= RECEIVER_REPORT_INTERVAL)
    }

    fn keyframe_due(&self, now: Instant) -> bool {
        self.last_keyframe_request
            .is_none_or(|t| now.duration_since(t) >= KEYFRAME_REQUEST_INTERVAL)
    }

    fn transmit(&self, kind: RtcpKind, data: bytes::Bytes) -> Transmit {
        Transmit {
            medium: self.medium,
            kind,
            to: self.destination(),
            data,
        }
    }
}
