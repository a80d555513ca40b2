//! Mapping a source's RTP timestamps onto the mixer's timeline (µs since Running).
//!
//! Before RTCP sender reports are used, a stream is anchored by arrival: its first
//! access unit is placed at its arrival time, and later ones at that time plus their RTP
//! timestamp distance (RFC 3550 §5.1, 32-bit timestamps unwrapped). If the mapped time and
//! the arrival time drift apart by more than [`RESYNC_US`] (sender restart, a clock far
//! off, a long pause with a timestamp jump), the stream is re-anchored at the arrival.

use crate::time::{rescale_floor, RtpTimestampUnwrapper, MICROS};

/// Mapped-vs-arrival disagreement that re-anchors a stream: 1 s.
pub const RESYNC_US: i64 = 1_000_000;

/// See the module docs.
#[derive(Debug, Clone)]
pub struct ArrivalMapper {
    rate: u32,
    unwrap: RtpTimestampUnwrapper,
    anchor: Option<(i64, i64)>,
    /// Times the stream was re-anchored after the first.
    pub resyncs: u64,
}

impl ArrivalMapper {
    /// A mapper for an RTP clock of `rate` Hz.
    pub fn new(rate: u32) -> Self {
        Self {
            rate,
            unwrap: RtpTimestampUnwrapper::default(),
            anchor: None,
            resyncs: 0,
        }
    }

    /// Mixer time (µs) of an access unit with RTP timestamp `ts` that arrived at
    /// `arrival_us` (µs on the mixer timeline).
    pub fn map(&mut self, ts: u32, arrival_us: i64) -> i64 {
        let ext = self.unwrap.unwrap(ts);
        let (ext0, t0) = *self.anchor.get_or_insert((ext, arrival_us));
        let t = t0 + rescale_floor(ext - ext0, self.rate, MICROS);
        if (t - arrival_us).abs() > RESYNC_US {
            self.resyncs += 1;
            self.anchor = Some((ext, arrival_us));
            return arrival_us;
        }
        t
    }

    /// Forgets the anchor (e.g. after an SSRC change).
    pub fn reset(&mut self) {
        self.unwrap = RtpTimestampUnwrapper::default();
        self.anchor = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn follows_rtp_time_from_the_first_arrival() {
        let mut m = ArrivalMapper::new(90_000);
        assert_eq!(m.map(1000, 500_000), 500_000);
        // 3000 ticks = 33 333 µs later in RTP time, whatever the jittery arrival.
        assert_eq!(m.map(4000, 560_000), 533_333);
    }

    #[test]
    fn unwraps_and_resyncs() {
        let mut m = ArrivalMapper::new(90_000);
        m.map(u32::MAX - 899, 0);
        assert_eq!(m.map(100, 11_111), 11_111);
        // A jump of 10 s in RTP time arriving 40 ms later: re-anchor.
        assert_eq!(m.map(900_100, 51_111), 51_111);
        assert_eq!(m.resyncs, 1);
    }
}
