//! Sans-IO reorder/jitter buffer for the RTP packets of one SSRC.
//!
//! The buffer never reads a clock: every call gets `now`. Usage: after each
//! [`JitterBuffer::push`] call [`JitterBuffer::pop`] until it returns `None`, and call
//! `pop` again at [`JitterBuffer::next_deadline`] (model: gst-plugins-rs rtpbin2
//! `jitterbuffer.rs`, str0m's `poll_output`).
//!
//! Rules:
//! - **Sequence extension** (RFC 3550 §A.1): each 16-bit sequence number is placed within
//!   ±2^15 of the highest one seen, giving a 64-bit extended number that survives the
//!   65535 → 0 wrap. The first packet is placed in cycle 1 (`ext = 65536 + seq`) so
//!   packets reordered before it stay representable.
//! - **Release**: packets leave strictly in extended-sequence order. The next expected
//!   packet leaves at once. A gap is waited for at most `max_wait`, counted from the
//!   arrival of the earliest packet still queued behind it (the moment the gap became
//!   known); then the missing numbers are declared lost and reported as
//!   [`Released::lost_before`].
//! - **Late / duplicate**: a packet whose number was already released (or skipped as lost)
//!   is [`PushOutcome::Late`]; one already queued is [`PushOutcome::Duplicate`]. The very
//!   first packet is released at once, so a packet reordered before it is late too.
//! - **Jumps** (RFC 3550 §A.1 `MAX_DROPOUT` / probation): a packet more than
//!   [`MAX_DROPOUT`] ahead of or behind the highest number is held as
//!   [`PushOutcome::Jump`]. If the next packet continues it (`seq + 1`) the stream is
//!   taken to have restarted: queued packets are flushed without waiting, and the held
//!   packet is released with [`Released::discontinuity`] set instead of declaring
//!   thousands of packets lost. Otherwise the held packet is dropped as stray.
//! - **Overflow**: when more than `capacity` packets are queued, [`JitterBuffer::pop`]
//!   releases the oldest at once without waiting for gaps ahead of them (the gaps
//!   count as lost). Nothing that was queued is dropped.

use std::collections::{BTreeMap, VecDeque};
use std::time::{Duration, Instant};

use rtp::packet::Packet;

/// Largest forward step (in sequence numbers) accepted as ordinary loss; a larger one,
/// or a step backwards of more than this, is a jump (RFC 3550 §A.1 uses 3000).
pub const MAX_DROPOUT: i64 = 3000;
/// Extended sequence number of the first packet's cycle (see module doc).
const FIRST_CYCLE: u64 = 1 << 16;

/// What [`JitterBuffer::push`] did with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushOutcome {
    /// Queued for release.
    Queued,
    /// Already queued; this copy was dropped.
    Duplicate,
    /// Its sequence number was already released or declared lost; dropped.
    Late,
    /// Queued, and the buffer now holds more than `capacity` packets: the oldest will be
    /// released on the next `pop` without waiting for the gaps ahead of them.
    Overflow,
    /// Far outside the sequence window; held as a possible stream restart (see module doc).
    Jump,
}

/// A packet leaving the buffer, in order.
#[derive(Debug, Clone)]
pub struct Released {
    pub packet: Packet,
    /// Extended sequence number (16-bit sequence number plus 65536 × cycles); strictly
    /// increasing across releases until [`JitterBuffer::reset`].
    pub ext_seq: u64,
    /// Number of sequence numbers declared lost between the previous release and this one.
    pub lost_before: u64,
    /// The sequence restarted right before this packet (a confirmed jump): an unknown
    /// amount of media is missing although `lost_before` is 0.
    pub discontinuity: bool,
}

impl Released {
    /// True if nothing is missing between the previous released packet and this one.
    pub fn contiguous(&self) -> bool {
        self.lost_before == 0 && !self.discontinuity
    }
}

/// Counters since [`JitterBuffer::new`] (kept across [`JitterBuffer::reset`]); all in packets.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JitterStats {
    /// Packets pushed.
    pub received: u64,
    /// Copies of an already queued packet.
    pub duplicates: u64,
    /// Packets arriving after their number was released or declared lost.
    pub late: u64,
    /// Sequence numbers declared lost (gaps skipped on release).
    pub lost: u64,
    /// Packets that arrived after a higher sequence number but in time.
    pub reordered: u64,
    /// Confirmed sequence jumps (restarts) that resynchronised the buffer.
    pub resyncs: u64,
    /// Held jump candidates that were not confirmed and were dropped.
    pub stray: u64,
}

#[derive(Debug)]
struct Entry {
    packet: Packet,
    discontinuity: bool,
}

/// Reorder/jitter buffer for one SSRC. See the module doc for the rules.
#[derive(Debug)]
pub struct JitterBuffer {
    max_wait: Duration,
    capacity: usize,
    /// Queued packets by extended sequence number.
    queue: BTreeMap<u64, Entry>,
    /// (arrival, ext) in push order; the front is the earliest-arrived queued packet.
    arrivals: VecDeque<(Instant, u64)>,
    /// Highest extended sequence number accepted.
    highest: Option<u64>,
    /// Extended sequence number expected to be released next.
    next_out: u64,
    /// Packets below this are flushed without waiting (set on a resync).
    flush_below: u64,
    /// Held jump candidate and its arrival.
    jump: Option<(Packet, Instant)>,
    /// Latest `now` seen, so time never goes backwards inside the buffer.
    last_now: Option<Instant>,
    stats: JitterStats,
}

impl JitterBuffer {
    /// `max_wait`: how long a gap is waited for before the missing packets are declared
    /// lost. `capacity`: packets queued before the oldest are forced out (min 1).
    pub fn new(max_wait: Duration, capacity: usize) -> Self {
        Self {
            max_wait,
            capacity: capacity.max(1),
            queue: BTreeMap::new(),
            arrivals: VecDeque::new(),
            highest: None,
            next_out: 0,
            flush_below: 0,
            jump: None,
            last_now: None,
            stats: JitterStats::default(),
        }
    }

    /// Offers one packet that arrived at `now`.
    pub fn push(&mut self, packet: Packet, now: Instant) -> PushOutcome {
        let now = self.clamp(now);
        self.stats.received += 1;
        let seq = packet.header.sequence_number;
        let Some(highest) = self.highest else {
            let ext = FIRST_CYCLE + u64::from(seq);
            self.highest = Some(ext);
            self.next_out = ext;
            return self.enqueue(ext, packet, now, false);
        };
        let delta = i64::from(seq.wrapping_sub(highest as u16) as i16);
        if delta.abs() > MAX_DROPOUT {
            return self.handle_jump(packet, now);
        }
        if self.jump.take().is_some() {
            // An ordinary packet: the held candidate was a stray.
            self.stats.stray += 1;
        }
        // `highest >= FIRST_CYCLE > MAX_DROPOUT`, so this cannot underflow.
        let ext = highest.saturating_add_signed(delta);
        if ext < self.next_out {
            self.stats.late += 1;
            return PushOutcome::Late;
        }
        if self.queue.contains_key(&ext) {
            self.stats.duplicates += 1;
            return PushOutcome::Duplicate;
        }
        if ext < highest {
            self.stats.reordered += 1;
        } else {
            self.highest = Some(ext);
        }
        self.enqueue(ext, packet, now, false)
    }

    /// Releases the next packet in order if it is due at `now`.
    pub fn pop(&mut self, now: Instant) -> Option<Released> {
        let now = self.clamp(now);
        let (&ext, entry) = self.queue.first_key_value()?;
        let gap = ext - self.next_out;
        let due = gap == 0
            || entry.discontinuity
            || ext < self.flush_below
            || self.queue.len() > self.capacity
            || self.gap_deadline().is_some_and(|d| now >= d);
        if !due {
            return None;
        }
        let entry = self.queue.remove(&ext)?;
        let lost_before = if entry.discontinuity { 0 } else { gap };
        self.stats.lost += lost_before;
        self.next_out = ext + 1;
        while let Some(&(_, front)) = self.arrivals.front() {
            if self.queue.contains_key(&front) {
                break;
            }
            self.arrivals.pop_front();
        }
        Some(Released {
            packet: entry.packet,
            ext_seq: ext,
            lost_before,
            discontinuity: entry.discontinuity,
        })
    }

    /// When `pop` may next return a packet without new input: `None` if the buffer is
    /// empty, an instant at or before the last `now` if a packet is due already.
    pub fn next_deadline(&self) -> Option<Instant> {
        let (&ext, entry) = self.queue.first_key_value()?;
        let ready = ext == self.next_out
            || entry.discontinuity
            || ext < self.flush_below
            || self.queue.len() > self.capacity;
        if ready {
            return self.last_now;
        }
        self.gap_deadline()
    }

    /// Forgets all packets and sequence state (e.g. on an SSRC change); stats are kept.
    /// Extended sequence numbers start again from the next packet.
    pub fn reset(&mut self) {
        self.queue.clear();
        self.arrivals.clear();
        self.highest = None;
        self.next_out = 0;
        self.flush_below = 0;
        self.jump = None;
    }

    /// Counters so far.
    pub fn stats(&self) -> JitterStats {
        self.stats
    }

    /// Number of packets queued (not counting a held jump candidate).
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// True if no packet is queued.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    fn clamp(&mut self, now: Instant) -> Instant {
        let now = self.last_now.map_or(now, |last| last.max(now));
        self.last_now = Some(now);
        now
    }

    /// Deadline of the gap at the head: earliest queued arrival + `max_wait`.
    fn gap_deadline(&self) -> Option<Instant> {
        let &(arrival, _) = self.arrivals.front()?;
        arrival.checked_add(self.max_wait)
    }

    fn enqueue(
        &mut self,
        ext: u64,
        packet: Packet,
        now: Instant,
        discontinuity: bool,
    ) -> PushOutcome {
        self.queue.insert(
            ext,
            Entry {
                packet,
                discontinuity,
            },
        );
        self.arrivals.push_back((now, ext));
        if self.queue.len() > self.capacity {
            PushOutcome::Overflow
        } else {
            PushOutcome::Queued
        }
    }

    /// A packet far from the window: hold it, or resync if it continues the held one.
    fn handle_jump(&mut self, packet: Packet, now: Instant) -> PushOutcome {
        let seq = packet.header.sequence_number;
        match self.jump.take() {
            Some((held, held_at)) if held.header.sequence_number.wrapping_add(1) == seq => {
                let highest = self.highest.unwrap_or(FIRST_CYCLE);
                // Start a new cycle at least one full cycle above everything queued, so
                // extended numbers keep increasing and no gap is counted across the jump.
                let first = (((highest >> 16) + 2) << 16) + u64::from(held.header.sequence_number);
                self.stats.resyncs += 1;
                self.flush_below = first;
                self.highest = Some(first + 1);
                self.enqueue(first, held, held_at, true);
                self.enqueue(first + 1, packet, now, false)
            }
            previous => {
                if previous.is_some() {
                    self.stats.stray += 1;
                }
                self.jump = Some((packet, now));
                PushOutcome::Jump
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, seq::SliceRandom, Rng, SeedableRng};

    fn pkt(seq: u16) -> Packet {
        let mut p = Packet::default();
        p.header.version = 2;
        p.header.sequence_number = seq;
        p.header.timestamp = u32::from(seq).wrapping_mul(3000);
        p
    }

    #[derive(Debug, Clone, Copy)]
    enum Ev {
        /// Push `seq` expecting the outcome, then drain.
        Push(u16, PushOutcome),
        /// Only drain.
        Tick,
    }
    use Ev::{Push, Tick};
    use PushOutcome::{Duplicate, Jump, Late, Overflow, Queued};

    struct Case {
        name: &'static str,
        max_wait_ms: u64,
        capacity: usize,
        events: Vec<(u64, Ev)>,
        /// (release time in ms, seq, lost_before, discontinuity)
        expect: Vec<(u64, u16, u64, bool)>,
    }

    /// Runs the events; checks outcomes, release order and ext_seq arithmetic.
    fn run(case: &Case) -> JitterBuffer {
        let base = Instant::now();
        let mut jb = JitterBuffer::new(Duration::from_millis(case.max_wait_ms), case.capacity);
        let mut out = Vec::new();
        let mut prev_ext: Option<u64> = None;
        for &(t, ev) in &case.events {
            let now = base + Duration::from_millis(t);
            if let Push(seq, expected) = ev {
                assert_eq!(
                    jb.push(pkt(seq), now),
                    expected,
                    "{}: push {seq}",
                    case.name
                );
            }
            while let Some(r) = jb.pop(now) {
                if let Some(prev) = prev_ext {
                    assert!(r.ext_seq > prev, "{}: ext not increasing", case.name);
                    if !r.discontinuity {
                        assert_eq!(r.ext_seq, prev + 1 + r.lost_before, "{}", case.name);
                    }
                }
                assert_eq!(r.ext_seq as u16, r.packet.header.sequence_number);
                prev_ext = Some(r.ext_seq);
                out.push((
                    t,
                    r.packet.header.sequence_number,
                    r.lost_before,
                    r.discontinuity,
                ));
            }
            if let Some(d) = jb.next_deadline() {
                assert!(
                    d > now,
                    "{}: deadline in the past after draining",
                    case.name
                );
            }
        }
        assert_eq!(out, case.expect, "{}", case.name);
        jb
    }

    #[test]
    fn table() {
        let cases = vec![
            Case {
                name: "in order",
                max_wait_ms: 50,
                capacity: 10,
                events: vec![
                    (0, Push(1, Queued)),
                    (10, Push(2, Queued)),
                    (20, Push(3, Queued)),
                ],
                expect: vec![(0, 1, 0, false), (10, 2, 0, false), (20, 3, 0, false)],
            },
            Case {
                name: "reorder within window",
                max_wait_ms: 50,
                capacity: 10,
                events: vec![
                    (0, Push(1, Queued)),
                    (10, Push(3, Queued)),
                    (20, Push(2, Queued)),
                ],
                expect: vec![(0, 1, 0, false), (20, 2, 0, false), (20, 3, 0, false)],
            },
            Case {
                name: "loss declared after max_wait",
                max_wait_ms: 50,
                capacity: 10,
                events: vec![
                    (0, Push(1, Queued)),
                    (10, Push(3, Queued)),
                    (30, Push(4, Queued)),
                    (59, Tick),
                    (60, Tick),
                ],
                expect: vec![(0, 1, 0, false), (60, 3, 1, false), (60, 4, 0, false)],
            },
            Case {
                name: "duplicates",
                max_wait_ms: 50,
                capacity: 10,
                events: vec![
                    (0, Push(1, Queued)),
                    (5, Push(3, Queued)),
                    (6, Push(3, Duplicate)),
                    (7, Push(2, Queued)),
                    (8, Push(2, Late)),
                ],
                expect: vec![(0, 1, 0, false), (7, 2, 0, false), (7, 3, 0, false)],
            },
            Case {
                name: "late after loss",
                max_wait_ms: 20,
                capacity: 10,
                events: vec![
                    (0, Push(1, Queued)),
                    (10, Push(3, Queued)),
                    (40, Tick),
                    (41, Push(2, Late)),
                    (42, Push(1, Late)),
                    (43, Push(4, Queued)),
                ],
                expect: vec![(0, 1, 0, false), (40, 3, 1, false), (43, 4, 0, false)],
            },
            Case {
                name: "wrap in order",
                max_wait_ms: 50,
                capacity: 10,
                events: vec![
                    (0, Push(65534, Queued)),
                    (1, Push(65535, Queued)),
                    (2, Push(0, Queued)),
                    (3, Push(1, Queued)),
                ],
                expect: vec![
                    (0, 65534, 0, false),
                    (1, 65535, 0, false),
                    (2, 0, 0, false),
                    (3, 1, 0, false),
                ],
            },
            Case {
                name: "wrap reordered",
                max_wait_ms: 50,
                capacity: 10,
                events: vec![
                    (0, Push(65534, Queued)),
                    (1, Push(0, Queued)),
                    (2, Push(1, Queued)),
                    (3, Push(65535, Queued)),
                ],
                expect: vec![
                    (0, 65534, 0, false),
                    (3, 65535, 0, false),
                    (3, 0, 0, false),
                    (3, 1, 0, false),
                ],
            },
            Case {
                name: "loss across wrap",
                max_wait_ms: 50,
                capacity: 10,
                events: vec![(0, Push(65534, Queued)), (10, Push(1, Queued)), (60, Tick)],
                expect: vec![(0, 65534, 0, false), (60, 1, 2, false)],
            },
            Case {
                name: "large jump resyncs without loss",
                max_wait_ms: 50,
                capacity: 10,
                events: vec![
                    (0, Push(100, Queued)),
                    (10, Push(102, Queued)),
                    (20, Push(20_000, Jump)),
                    (30, Push(20_001, Queued)),
                    (40, Push(20_002, Queued)),
                ],
                expect: vec![
                    (0, 100, 0, false),
                    (30, 102, 1, false),
                    (30, 20_000, 0, true),
                    (30, 20_001, 0, false),
                    (40, 20_002, 0, false),
                ],
            },
            Case {
                name: "restart backwards across the wrap",
                max_wait_ms: 50,
                capacity: 10,
                events: vec![
                    (0, Push(40_000, Queued)),
                    (10, Push(5, Jump)),
                    (20, Push(6, Queued)),
                    (30, Push(4, Late)),
                ],
                expect: vec![(0, 40_000, 0, false), (20, 5, 0, true), (20, 6, 0, false)],
            },
            Case {
                name: "stray jump is dropped",
                max_wait_ms: 50,
                capacity: 10,
                events: vec![
                    (0, Push(100, Queued)),
                    (10, Push(20_000, Jump)),
                    (20, Push(101, Queued)),
                    (30, Push(20_001, Jump)),
                    (40, Push(102, Queued)),
                ],
                expect: vec![(0, 100, 0, false), (20, 101, 0, false), (40, 102, 0, false)],
            },
            Case {
                name: "capacity overflow releases oldest",
                max_wait_ms: 1000,
                capacity: 3,
                events: vec![
                    (0, Push(1, Queued)),
                    (1, Push(3, Queued)),
                    (2, Push(4, Queued)),
                    (3, Push(5, Queued)),
                    (4, Push(7, Overflow)),
                    (5, Push(8, Queued)),
                ],
                expect: vec![
                    (0, 1, 0, false),
                    (4, 3, 1, false),
                    (4, 4, 0, false),
                    (4, 5, 0, false),
                ],
            },
        ];
        for case in &cases {
            run(case);
        }
    }

    #[test]
    fn stats_count_everything() {
        let case = Case {
            name: "stats",
            max_wait_ms: 20,
            capacity: 10,
            events: vec![
                (0, Push(1, Queued)),
                (1, Push(4, Queued)),
                (2, Push(3, Queued)),
                (3, Push(3, Duplicate)),
                (30, Tick),
                (31, Push(2, Late)),
            ],
            expect: vec![(0, 1, 0, false), (30, 3, 1, false), (30, 4, 0, false)],
        };
        let jb = run(&case);
        let s = jb.stats();
        assert_eq!(
            s,
            JitterStats {
                received: 5,
                duplicates: 1,
                late: 1,
                lost: 1,
                reordered: 1,
                resyncs: 0,
                stray: 0,
            }
        );
    }

    #[test]
    fn deadline_and_reset() {
        let base = Instant::now();
        let mut jb = JitterBuffer::new(Duration::from_millis(50), 10);
        assert_eq!(jb.next_deadline(), None);
        jb.push(pkt(10), base);
        assert_eq!(jb.next_deadline(), Some(base));
        assert!(jb.pop(base).is_some());
        let t = base + Duration::from_millis(5);
        jb.push(pkt(12), t);
        assert!(jb.pop(t).is_none());
        assert_eq!(jb.next_deadline(), Some(t + Duration::from_millis(50)));
        jb.reset();
        assert!(jb.is_empty());
        assert_eq!(jb.next_deadline(), None);
        // After a reset any sequence number starts a new stream.
        jb.push(pkt(9000), t);
        let r = jb.pop(t).unwrap();
        assert_eq!((r.packet.header.sequence_number, r.lost_before), (9000, 0));
    }

    /// Thousands of random streams: loss, duplication, jitter, wrap-around.
    #[test]
    fn randomized_streams_release_in_order_and_account_for_every_packet() {
        let mut rng = StdRng::seed_from_u64(0x0071_77E4);
        for case in 0..3000 {
            let n: usize = rng.gen_range(1..300);
            let start: u16 = rng.gen();
            let loss = rng.gen_range(0.0..0.2);
            let dup = rng.gen_range(0.0..0.1);
            let jitter_ms: u64 = rng.gen_range(0..100);
            let max_wait_ms: u64 = rng.gen_range(0..150);
            let capacity: usize = rng.gen_range(1..400);
            // (arrival ms, index)
            let mut arrivals: Vec<(u64, usize)> = Vec::new();
            for i in 0..n {
                if rng.gen_bool(loss) {
                    continue;
                }
                let copies = if rng.gen_bool(dup) { 2 } else { 1 };
                for _ in 0..copies {
                    arrivals.push((i as u64 * 10 + rng.gen_range(0..=jitter_ms), i));
                }
            }
            arrivals.shuffle(&mut rng);
            arrivals.sort_by_key(|a| a.0);
            let base = Instant::now();
            let mut jb = JitterBuffer::new(Duration::from_millis(max_wait_ms), capacity);
            let mut released: Vec<Released> = Vec::new();
            let mut outcomes = Vec::new();
            for &(t, i) in &arrivals {
                let now = base + Duration::from_millis(t);
                outcomes.push((i, jb.push(pkt(start.wrapping_add(i as u16)), now)));
                while let Some(r) = jb.pop(now) {
                    released.push(r);
                }
            }
            let end = base + Duration::from_secs(3600);
            while let Some(r) = jb.pop(end) {
                released.push(r);
            }
            assert!(jb.is_empty(), "case {case}");
            let s = jb.stats();
            assert_eq!(s.received as usize, arrivals.len());
            assert_eq!(s.resyncs + s.stray, 0);
            assert!(outcomes.iter().all(|(_, o)| *o != Jump));
            let Some(first) = released.first() else {
                assert!(arrivals.is_empty());
                continue;
            };
            // Strictly increasing, and released + lost cover the range exactly.
            let mut expect_ext = first.ext_seq;
            let mut lost = 0;
            for (k, r) in released.iter().enumerate() {
                assert!(!r.discontinuity);
                if k > 0 {
                    expect_ext += 1 + r.lost_before;
                    lost += r.lost_before;
                }
                assert_eq!(r.ext_seq, expect_ext, "case {case}");
            }
            assert_eq!(s.lost, lost + first.lost_before);
            assert_eq!(first.lost_before, 0);
            // Every pushed unique packet: released, or counted lost and then late,
            // or before the first released packet (late at start-up).
            let first_index = arrivals[0].1;
            let released_idx: std::collections::HashSet<usize> = released
                .iter()
                .map(|r| (r.ext_seq - first.ext_seq) as usize + first_index)
                .collect();
            assert_eq!(released_idx.len(), released.len());
            let last_ext = released.last().map_or(0, |r| r.ext_seq);
            for &(i, outcome) in &outcomes {
                let in_range =
                    i >= first_index && (i - first_index) as u64 <= last_ext - first.ext_seq;
                match outcome {
                    Queued | Overflow => assert!(released_idx.contains(&i), "case {case}"),
                    // Already released (a second copy) or inside a gap counted as lost.
                    Late => assert!(i < first_index || in_range, "case {case}"),
                    Duplicate => {}
                    Jump => unreachable!(),
                }
            }
            assert_eq!(
                s.duplicates + s.late + released.len() as u64,
                s.received,
                "case {case}"
            );
            // With enough patience and room, nothing in time is declared lost.
            if max_wait_ms > jitter_ms && capacity >= n {
                for &(i, outcome) in &outcomes {
                    if i >= first_index {
                        assert!(released_idx.contains(&i), "case {case}: {i} {outcome:?}");
                    }
                }
            }
        }
    }
}
