//! Lining up different participants through their senders' wall clocks.
//!
//! Each source learns its own offset `o_s` = mixer time − sender NTP time (the smallest
//! transit, [`super::timeline::TransitEstimator`]). That offset includes the source's
//! own encoder and network delay, so two participants filmed at the same instant would
//! be placed apart by the difference of those delays (measured with two ffmpeg senders
//! on one host: 19 ms). When senders' NTP clocks agree (one host, NTP-disciplined hosts,
//! or an SFU that rewrites sender reports to its own clock), their offsets lie close
//! together, and the right mapping for all of them is one common offset: the largest,
//! so that no source is mapped earlier than its packets can arrive.
//!
//! Rule: a source maps with `max { o_t : |o_t − o_s| <= SHARED_CLOCK_SPAN_US }` over the
//! mixer's sources `t` (itself included). Sources whose clocks are unrelated (offsets
//! seconds apart) stay on their own offset, i.e. aligned by arrival.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::Mutex;

/// Offsets closer than this are taken to come from one wall clock: 100 ms, above the
/// encoder and path delay differences of participants (tens of ms) and below the
/// disagreement of unsynchronized clocks (usually seconds).
pub const SHARED_CLOCK_SPAN_US: i64 = 100_000;

/// The offsets of one mixer's sources (µs; offsets stay plain `i64` µs: they are
/// differences between two clocks, not points on the mixer's timeline).
#[derive(Debug, Default)]
pub struct SharedClock {
    offsets: Mutex<Vec<(u64, i64)>>,
    next_key: AtomicU64,
}

impl SharedClock {
    /// A new member (one per source).
    pub fn join(self: &Arc<Self>) -> ClockMember {
        ClockMember {
            group: self.clone(),
            key: self.next_key.fetch_add(1, Ordering::Relaxed),
        }
    }
}

/// One source's membership; leaves the group when dropped.
#[derive(Debug)]
pub struct ClockMember {
    group: Arc<SharedClock>,
    key: u64,
}

impl ClockMember {
    /// Records this source's own offset (mixer time − sender NTP time, µs) and returns
    /// the offset to map with (µs).
    pub fn offset_us(&self, own_us: i64) -> i64 {
        let mut v = self.group.offsets.lock();
        match v.iter_mut().find(|(k, _)| *k == self.key) {
            Some(e) => e.1 = own_us,
            None => v.push((self.key, own_us)),
        }
        common_offset(own_us, v.iter().map(|(_, o)| *o))
    }
}

impl Drop for ClockMember {
    fn drop(&mut self) {
        self.group.offsets.lock().retain(|(k, _)| *k != self.key);
    }
}

/// The rule of the module docs: the largest of `all` within the span of `own`.
pub fn common_offset(own: i64, all: impl Iterator<Item = i64>) -> i64 {
    all.filter(|o| (o - own).abs() <= SHARED_CLOCK_SPAN_US)
        .fold(own, i64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn close_offsets_share_the_largest_and_far_ones_stay_apart() {
        let all = [10_000, 29_000, 5_000_000];
        assert_eq!(common_offset(10_000, all.into_iter()), 29_000);
        assert_eq!(common_offset(29_000, all.into_iter()), 29_000);
        assert_eq!(common_offset(5_000_000, all.into_iter()), 5_000_000);
    }

    #[test]
    fn members_see_each_other_until_dropped() {
        let g = Arc::new(SharedClock::default());
        let (a, b) = (g.join(), g.join());
        assert_eq!(a.offset_us(10_000), 10_000);
        assert_eq!(b.offset_us(29_000), 29_000);
        assert_eq!(a.offset_us(10_000), 29_000);
        drop(b);
        assert_eq!(a.offset_us(10_000), 10_000);
    }
}
