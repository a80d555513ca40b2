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
    /// When the packet was pushed (the `now` of [`JitterBuffer::push`], never earlier
    /// than a `now` seen before): its network arrival, not its release, so that transit
    /// and interarrival jitter measure the network and not the wait for a gap.
    pub arrival: Instant,
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
    arrival: Instant,
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
            arrival: entry.arrival,
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
                arrival: now,
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
#[path = "jitter_tests.rs"]
mod tests;
