//! Harnesses for the bytes that arrive on RTP and RTCP ports: RTP parsing, the jitter
//! buffer with access-unit assembly, RTCP.

use super::*;

/// One UDP datagram on an RTP port through [`rtp_packet::parse`] and
/// [`rtp_packet::parse_bytes`]: both agree, and an accepted packet is version 2 with its
/// payload inside the datagram after the fixed header and CSRC list.
pub fn rtp_packet(data: &[u8]) -> bool {
    let copied = rtp_packet::parse(data);
    let shared = rtp_packet::parse_bytes(Bytes::copy_from_slice(data));
    match (copied, shared) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b, "parse and parse_bytes disagree");
            assert_eq!(a.header.version, 2);
            let header_len = FIXED_HEADER_LEN + 4 * a.header.csrc.len();
            assert!(
                a.payload.len() + header_len <= data.len(),
                "payload of {} bytes does not fit a {}-byte datagram",
                a.payload.len(),
                data.len()
            );
            true
        }
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "parse and parse_bytes disagree");
            false
        }
        (a, b) => panic!("parse and parse_bytes disagree: {a:?} vs {b:?}"),
    }
}

/// Jitter buffer wait used when the input's wait byte is 255: the daemon's value
/// (`receive::REORDER_WAIT`).
const PRODUCTION_WAIT: Duration = Duration::from_millis(60);
/// Capacity used when the input's capacity byte is 255: the daemon's value
/// (`receive::JITTER_CAPACITY`).
const PRODUCTION_CAPACITY: usize = 1024;

/// Input layout of [`jitter_and_assemble`], built by [`encode_stream`]:
///
/// - byte 0: jitter buffer capacity in packets, `1 + b % 64` (255: the daemon's 1024);
/// - byte 1: jitter buffer wait in ms, `b` (255: the daemon's 60 ms);
/// - then records `{u8 dt_ms, u16 len (big-endian), len bytes}`: `dt_ms` after the
///   previous record a datagram of `len` bytes arrives; `len == 0` is a timer tick (the
///   worker waking up without input). A truncated last record is cut to what is there.
///
/// Every datagram goes through [`rtp_packet::parse_bytes`] (unparsable ones are skipped,
/// as the daemon does), then, like the daemon's source worker, an SSRC change resets
/// the stream, the packet is pushed into a [`JitterBuffer`] and everything due is popped
/// into a [`FrameAssembler`] with the loss flag. The same input runs once per
/// [`PayloadFormat`]. At the end the clock moves 10 s on and the buffer is drained.
///
/// Checks: released extended sequence numbers strictly increase (between resets), match
/// the packet's 16-bit number and add up with `lost_before`; after draining no deadline
/// is in the past; access units are non-empty and at most [`MAX_ACCESS_UNIT_BYTES`].
///
/// Returns whether any access unit was assembled.
pub fn jitter_and_assemble(data: &[u8]) -> bool {
    let mut emitted = false;
    for format in [PayloadFormat::Vp8, PayloadFormat::H264, PayloadFormat::Opus] {
        emitted |= run_stream(data, format);
    }
    emitted
}

/// One format's pipeline state in [`jitter_and_assemble`].
struct Stream {
    jitter: JitterBuffer,
    assembler: FrameAssembler,
    ssrc: Option<u32>,
    prev_ext: Option<u64>,
    /// Access units assembled.
    emitted: u64,
}

impl Stream {
    /// Pops everything due at `now` into the assembler, checking the invariants.
    fn drain(&mut self, now: Instant) {
        while let Some(rel) = self.jitter.pop(now) {
            if let Some(prev) = self.prev_ext {
                assert!(rel.ext_seq > prev, "ext_seq {} after {prev}", rel.ext_seq);
                if !rel.discontinuity {
                    assert_eq!(
                        rel.ext_seq,
                        prev + 1 + rel.lost_before,
                        "lost_before does not add up"
                    );
                }
            }
            assert_eq!(rel.ext_seq as u16, rel.packet.header.sequence_number);
            self.prev_ext = Some(rel.ext_seq);
            if let Ok(Some(au)) = self.assembler.push(&rel.packet, !rel.contiguous()) {
                assert!(!au.data.is_empty(), "empty access unit");
                assert!(au.data.len() <= MAX_ACCESS_UNIT_BYTES, "oversized AU");
                assert_eq!(au.rtp_timestamp, rel.packet.header.timestamp);
                self.emitted += 1;
            }
        }
        if let Some(deadline) = self.jitter.next_deadline() {
            assert!(deadline > now, "deadline in the past after draining");
        }
    }
}

/// One format's run of [`jitter_and_assemble`]; true if an access unit was assembled.
fn run_stream(data: &[u8], format: PayloadFormat) -> bool {
    let (config, mut rest) = data.split_at(data.len().min(2));
    let capacity = match config.first() {
        Some(255) | None => PRODUCTION_CAPACITY,
        Some(&b) => 1 + usize::from(b % 64),
    };
    let max_wait = match config.get(1) {
        Some(255) | None => PRODUCTION_WAIT,
        Some(&b) => Duration::from_millis(u64::from(b)),
    };
    let base = Instant::now();
    let mut now = base;
    let mut s = Stream {
        jitter: JitterBuffer::new(max_wait, capacity),
        assembler: FrameAssembler::new(format),
        ssrc: None,
        prev_ext: None,
        emitted: 0,
    };
    while let Some((&dt, tail)) = rest.split_first() {
        let len = match tail {
            [hi, lo, ..] => usize::from(u16::from_be_bytes([*hi, *lo])),
            _ => 0,
        };
        let body = tail.get(2..).unwrap_or_default();
        let (datagram, after) = body.split_at(len.min(body.len()));
        rest = after;
        now += Duration::from_millis(u64::from(dt));
        if !datagram.is_empty() {
            push_datagram(&mut s, datagram, now);
        }
        s.drain(now);
    }
    s.drain(now + Duration::from_secs(10));
    assert!(s.jitter.is_empty(), "packets left after the final drain");
    s.emitted > 0
}

fn push_datagram(s: &mut Stream, datagram: &[u8], now: Instant) {
    let Ok(packet) = rtp_packet::parse_bytes(Bytes::copy_from_slice(datagram)) else {
        return;
    };
    let ssrc = packet.header.ssrc;
    if s.ssrc.is_some_and(|old| old != ssrc) {
        s.jitter.reset();
        s.assembler.reset();
        s.prev_ext = None;
    }
    s.ssrc = Some(ssrc);
    let before = s.jitter.len();
    let outcome = s.jitter.push(packet, now);
    let grew = s.jitter.len() > before;
    match outcome {
        PushOutcome::Queued | PushOutcome::Overflow => assert!(grew, "{outcome:?} but not queued"),
        // A confirmed jump queues two packets; a held one queues none.
        PushOutcome::Jump => {}
        PushOutcome::Duplicate | PushOutcome::Late => assert!(!grew, "{outcome:?} but queued"),
    }
}

/// Input of [`jitter_and_assemble`] from a capacity byte, a wait byte and datagrams with
/// their arrival offsets in ms (e.g. the records of an rtpdump file). Datagrams longer
/// than 65535 bytes are cut; gaps over 254 ms are split into ticks.
pub fn encode_stream(capacity: u8, wait_ms: u8, packets: &[(u32, &[u8])]) -> Vec<u8> {
    let mut out = vec![capacity, wait_ms];
    let mut last_ms = packets.first().map_or(0, |p| p.0);
    for &(offset_ms, datagram) in packets {
        let mut dt = offset_ms.saturating_sub(last_ms);
        last_ms = offset_ms.max(last_ms);
        while dt > 254 {
            out.extend_from_slice(&[254, 0, 0]);
            dt -= 254;
        }
        let len = datagram.len().min(usize::from(u16::MAX));
        out.push(dt as u8);
        out.extend_from_slice(&(len as u16).to_be_bytes());
        out.extend_from_slice(&datagram[..len]);
    }
    out
}

pub use crate::ingest::rtpdump::records as rtpdump_records;

/// A datagram on an RTCP port (or RTCP multiplexed on the RTP port, RFC 5761) through
/// [`rtcp_in::sender_reports`] (the `rtcp` crate's compound-packet unmarshal). Each
/// sender report found is fed to [`ReceptionStats`] as the daemon does, and a receiver
/// report is built from it; the report's DLSR/LSR must come from that sender report.
/// Returns whether the datagram was valid RTCP.
pub fn rtcp_packet(data: &[u8]) -> bool {
    let Ok(reports) = rtcp_in::sender_reports(data) else {
        return false;
    };
    let now = Instant::now();
    let mut stats = ReceptionStats::new(1);
    stats.on_packet(70_000, 3000, 90_000);
    for sr in &reports {
        let _ = sr.ntp_micros();
        stats.on_sender_report(sr, now);
        let block = stats.report(now + Duration::from_millis(500));
        assert_eq!(block.last_sender_report, sr.lsr());
        assert_eq!(block.delay, 32_768, "DLSR of 0.5 s in 1/65536 s");
        let rr = rtcp_in::receiver_report(2, vec![block]);
        assert!(!rr.is_empty(), "receiver report did not encode");
    }
    // RTCP on the RTP port is told apart and refused by the RTP parser (RFC 5761 §4).
    if data.len() >= FIXED_HEADER_LEN && data[0] >> 6 == 2 && (200..=204).contains(&data[1]) {
        assert!(rtp_packet::parse(data).is_err(), "RTCP accepted as RTP");
    }
    true
}
