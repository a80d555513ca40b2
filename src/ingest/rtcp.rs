//! RTCP for a receiver (RFC 3550 §6): reading sender reports, keeping reception
//! statistics, and building receiver reports and keyframe requests — PLI (RFC 4585
//! §6.3.1) and FIR (RFC 5104 §4.3.1). Packet encoding and decoding is the `rtcp` crate's;
//! the statistics and the decisions are ours. Sans-IO: times are passed in.

use std::time::Instant;

use bytes::Bytes;
use rtcp::payload_feedbacks::full_intra_request::{FirEntry, FullIntraRequest};
use rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtcp::receiver_report::ReceiverReport;
use rtcp::reception_report::ReceptionReport;
use rtcp::sender_report::SenderReport;
use webrtc_util::marshal::Marshal;

/// What a sender report says: RTP timestamp `rtp_time` was sampled at wall clock
/// `ntp_time` (NTP 64-bit fixed point, seconds since 1900 in the upper 32 bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SenderInfo {
    pub ssrc: u32,
    pub ntp_time: u64,
    pub rtp_time: u32,
    pub packet_count: u32,
    pub octet_count: u32,
}

impl SenderInfo {
    /// The NTP time in µs (since 1900).
    pub fn ntp_micros(&self) -> i64 {
        ntp_to_micros(self.ntp_time)
    }

    /// The middle 32 bits of the NTP timestamp (the LSR field of a reception report).
    pub fn lsr(&self) -> u32 {
        (self.ntp_time >> 16) as u32
    }
}

/// NTP 64-bit fixed point to µs.
pub fn ntp_to_micros(ntp: u64) -> i64 {
    let secs = (ntp >> 32) as i64;
    let frac = (ntp & 0xFFFF_FFFF) as i64;
    secs * 1_000_000 + ((frac * 1_000_000) >> 32)
}

/// The sender reports in a compound RTCP packet. Other packet types are skipped.
/// Errors: the bytes are not valid RTCP (the caller counts and drops them).
pub fn sender_reports(buf: &[u8]) -> Result<Vec<SenderInfo>, rtcp::Error> {
    check_feedback_lengths(buf)?;
    let mut b = Bytes::copy_from_slice(buf);
    let packets = rtcp::packet::unmarshal(&mut b)?;
    Ok(packets
        .iter()
        .filter_map(|p| p.as_any().downcast_ref::<SenderReport>())
        .map(|sr| SenderInfo {
            ssrc: sr.ssrc,
            ntp_time: sr.ntp_time,
            rtp_time: sr.rtp_time,
            packet_count: sr.packet_count,
            octet_count: sr.octet_count,
        })
        .collect())
}

/// Refuses feedback packets too short for their fixed fields before the `rtcp` crate
/// sees them: its unmarshal (0.17) reads past the packet and panics on an RTPFB/PSFB
/// (RFC 4585 §6.1) whose length field is under 2 words (no room for the two SSRCs, e.g.
/// a NACK or FIR of length 1), and on a FIR (RFC 5104 §4.3.1) whose FCI is not whole
/// 8-byte entries. Transport-wide congestion control feedback (RTPFB FMT 15) is refused
/// whole: its parser overflows a `u16` packet count (a panic with overflow checks), and
/// only a media receiver sends it, never a participant sending to us. Found by fuzzing
/// (docs/FUZZING.md, target `rtcp_packet`). Packets that overrun the datagram are left
/// to the crate, which refuses them.
fn check_feedback_lengths(buf: &[u8]) -> Result<(), rtcp::Error> {
    const RTPFB: u8 = 205;
    const PSFB: u8 = 206;
    const FMT_FIR: u8 = 4;
    const FMT_TCC: u8 = 15;
    let mut rest = buf;
    while let [b0, packet_type, hi, lo, ..] = *rest {
        let words = usize::from(u16::from_be_bytes([hi, lo]));
        let fmt = b0 & 0x1F;
        if matches!(packet_type, RTPFB | PSFB)
            && (words < 2
                || (packet_type == RTPFB && fmt == FMT_TCC)
                || (packet_type == PSFB && fmt == FMT_FIR && words % 2 != 0))
        {
            return Err(rtcp::Error::PacketTooShort);
        }
        let Some(next) = rest.get(4 * (words + 1)..) else {
            break;
        };
        rest = next;
    }
    Ok(())
}

/// Reception statistics of one SSRC (RFC 3550 §6.4.1, A.3 and A.8).
#[derive(Debug, Clone, Default)]
pub struct ReceptionStats {
    ssrc: u32,
    base_ext_seq: Option<u64>,
    max_ext_seq: u64,
    received: u64,
    expected_prior: u64,
    received_prior: u64,
    /// Interarrival jitter in RTP timestamp units, ×16 (A.8 keeps it scaled).
    jitter_q4: u64,
    last_transit: Option<i64>,
    last_sr: Option<(u32, Instant)>,
}

impl ReceptionStats {
    /// Statistics for `ssrc`.
    pub fn new(ssrc: u32) -> Self {
        Self {
            ssrc,
            ..Self::default()
        }
    }

    /// Counts a packet released by the jitter buffer: extended sequence number, RTP
    /// timestamp, and its arrival expressed in RTP clock ticks (`arrival_ticks`).
    pub fn on_packet(&mut self, ext_seq: u64, rtp_ts: u32, arrival_ticks: i64) {
        if self.base_ext_seq.is_none() {
            self.base_ext_seq = Some(ext_seq);
        }
        self.max_ext_seq = self.max_ext_seq.max(ext_seq);
        self.received += 1;
        let transit = arrival_ticks - i64::from(rtp_ts);
        if let Some(last) = self.last_transit {
            let d = (transit - last).unsigned_abs();
            // J += (|D| - J) / 16, kept ×16 (RFC 3550 A.8).
            self.jitter_q4 = self.jitter_q4 + d - ((self.jitter_q4 + 8) >> 4);
        }
        self.last_transit = Some(transit);
    }

    /// Remembers a sender report's LSR and when it arrived (for DLSR).
    pub fn on_sender_report(&mut self, sr: &SenderInfo, now: Instant) {
        self.last_sr = Some((sr.lsr(), now));
    }

    /// Packets expected but not received so far (may be negative with duplicates).
    pub fn cumulative_lost(&self) -> i64 {
        let Some(base) = self.base_ext_seq else {
            return 0;
        };
        (self.max_ext_seq - base + 1) as i64 - self.received as i64
    }

    /// A reception report block as of `now`; advances the "since last report" interval.
    pub fn report(&mut self, now: Instant) -> ReceptionReport {
        let expected = self.base_ext_seq.map_or(0, |b| self.max_ext_seq - b + 1);
        let expected_interval = expected.saturating_sub(self.expected_prior);
        let received_interval = self.received.saturating_sub(self.received_prior);
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval.saturating_sub(received_interval);
        let fraction_lost = (lost_interval << 8)
            .checked_div(expected_interval)
            .map_or(0, |f| f.min(255) as u8);
        let (lsr, dlsr) = match self.last_sr {
            Some((lsr, at)) => {
                // DLSR in units of 1/65536 s.
                let d = now.saturating_duration_since(at);
                (lsr, ((d.as_micros() as u64 * 65_536) / 1_000_000) as u32)
            }
            None => (0, 0),
        };
        ReceptionReport {
            ssrc: self.ssrc,
            fraction_lost,
            total_lost: self.cumulative_lost().clamp(0, 0x7F_FFFF) as u32,
            last_sequence_number: self.max_ext_seq as u32,
            jitter: (self.jitter_q4 >> 4) as u32,
            last_sender_report: lsr,
            delay: dlsr,
        }
    }
}

/// A receiver report from `our_ssrc` with the given blocks, encoded.
pub fn receiver_report(our_ssrc: u32, reports: Vec<ReceptionReport>) -> Bytes {
    let rr = ReceiverReport {
        ssrc: our_ssrc,
        reports,
        ..Default::default()
    };
    rr.marshal().unwrap_or_default()
}

/// A Picture Loss Indication for `media_ssrc` (RFC 4585 §6.3.1), encoded. Sent as a
/// compound with an empty receiver report first (RFC 4585 §3.1: compound packets start
/// with SR or RR).
pub fn pli(our_ssrc: u32, media_ssrc: u32) -> Bytes {
    let rr = ReceiverReport {
        ssrc: our_ssrc,
        ..Default::default()
    };
    let pli = PictureLossIndication {
        sender_ssrc: our_ssrc,
        media_ssrc,
    };
    compound(&[&rr, &pli])
}

/// A Full Intra Request for `media_ssrc` with command sequence number `seq`
/// (RFC 5104 §4.3.1), encoded as a compound after an empty receiver report.
pub fn fir(our_ssrc: u32, media_ssrc: u32, seq: u8) -> Bytes {
    let rr = ReceiverReport {
        ssrc: our_ssrc,
        ..Default::default()
    };
    let fir = FullIntraRequest {
        sender_ssrc: our_ssrc,
        media_ssrc: 0,
        fir: vec![FirEntry {
            ssrc: media_ssrc,
            sequence_number: seq,
        }],
    };
    compound(&[&rr, &fir])
}

fn compound(parts: &[&dyn Marshal]) -> Bytes {
    let mut out = Vec::new();
    for p in parts {
        if let Ok(b) = p.marshal() {
            out.extend_from_slice(&b);
        }
    }
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn reads_a_sender_report_from_a_compound() {
        let sr = SenderReport {
            ssrc: 7,
            ntp_time: (3_900_000_000u64 << 32) | 0x8000_0000,
            rtp_time: 90_000,
            packet_count: 10,
            octet_count: 1000,
            ..Default::default()
        };
        let buf = sr.marshal().unwrap();
        let got = sender_reports(&buf).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].rtp_time, 90_000);
        assert_eq!(got[0].ntp_micros(), 3_900_000_000 * 1_000_000 + 500_000);
        assert!(sender_reports(&[0x80, 0xC8, 0, 1]).is_err());
    }

    #[test]
    fn pli_and_fir_parse_back() {
        let mut b = pli(1, 2);
        let ps = rtcp::packet::unmarshal(&mut b).unwrap();
        let p = ps[1]
            .as_any()
            .downcast_ref::<PictureLossIndication>()
            .unwrap();
        assert_eq!((p.sender_ssrc, p.media_ssrc), (1, 2));
        let mut b = fir(1, 2, 5);
        let ps = rtcp::packet::unmarshal(&mut b).unwrap();
        let f = ps[1].as_any().downcast_ref::<FullIntraRequest>().unwrap();
        assert_eq!((f.fir[0].ssrc, f.fir[0].sequence_number), (2, 5));
    }

    #[test]
    fn loss_fraction_and_dlsr() {
        let t0 = Instant::now();
        let mut s = ReceptionStats::new(9);
        for seq in (100u64..200).filter(|s| s % 10 != 0) {
            s.on_packet(seq, (seq * 3000) as u32, (seq * 3000) as i64);
        }
        assert_eq!(s.cumulative_lost(), 9);
        s.on_sender_report(
            &SenderInfo {
                ssrc: 9,
                ntp_time: 0x0001_2345_6789_0000,
                rtp_time: 0,
                packet_count: 0,
                octet_count: 0,
            },
            t0,
        );
        let r = s.report(t0 + Duration::from_millis(500));
        // 9 lost of 99 expected (101..=199): 9*256/99 = 23.
        assert_eq!(r.fraction_lost, 23);
        assert_eq!(r.total_lost, 9);
        assert_eq!(r.last_sender_report, 0x2345_6789);
        assert_eq!(r.delay, 32_768);
        assert_eq!(r.jitter, 0);
    }
}
