//! Mapping a source's media timestamps onto the mixer's timeline ([`MixerTime`], µs since
//! Running).
//!
//! A stream's timestamp clock (RTP time, or the sender's NTP time once RTCP sender
//! reports map it) runs at a known rate but has an unknown offset to the mixer's clock.
//! [`TransitEstimator`] learns that offset from arrivals: `transit = arrival − media time`
//! for each access unit, and the offset is the smallest transit seen — the packet that
//! met the least network and sender delay. Then:
//! - an access unit arriving *earlier* than the offset predicts moves the offset down at
//!   once (the first packets happened to be delayed);
//! - if every transit over a whole [`WINDOW_US`] window stays more than [`SLEW_US`] above
//!   the offset (the sender fell behind real time, its clock runs slow, or the path got
//!   longer), the offset moves up to that window's minimum — without this, such a stream
//!   would arrive ever later than the playout delay allows and be dropped;
//! - a disagreement over [`RESYNC_US`] (sender restart, timestamp jump) re-anchors at once.
//!
//! [`ArrivalMapper`] applies this to one RTP stream before any sender report (RFC 3550
//! §5.1 timestamps, 32-bit unwrapped).

use crate::time::{rescale_floor, MixerTime, RtpTimestampUnwrapper, MICROS};

/// Disagreement that re-anchors a stream at once: 1 s.
pub const RESYNC_US: i64 = 1_000_000;
/// Length of the window whose minimum transit can move the offset up: 1 s.
pub const WINDOW_US: i64 = 1_000_000;
/// How far above the offset a whole window's transits must stay before it moves: 40 ms.
pub const SLEW_US: i64 = 40_000;

/// See the module docs. Sans-IO: every call passes the arrival time in. Media times and
/// offsets are plain µs (`i64`): a media time is on the sender's clock, not the mixer's.
#[derive(Debug, Clone, Default)]
pub struct TransitEstimator {
    /// Mixer time − media time, µs.
    offset_us: Option<i64>,
    window_start: MixerTime,
    /// Smallest transit (µs) of the current window.
    window_min_us: i64,
    /// Times the offset moved up (late stream) or re-anchored.
    pub adjustments: u64,
}

impl TransitEstimator {
    /// Mixer time of media time `media_us` (µs on the sender's clock) that arrived at
    /// `arrival`.
    pub fn map(&mut self, media_us: i64, arrival: MixerTime) -> MixerTime {
        let transit = arrival.as_micros() - media_us;
        let off = match self.offset_us {
            None => {
                self.window_start = arrival;
                self.window_min_us = transit;
                transit
            }
            Some(off) if (transit - off).abs() > RESYNC_US => {
                self.adjustments += 1;
                self.window_start = arrival;
                self.window_min_us = transit;
                transit
            }
            Some(off) => {
                self.window_min_us = self.window_min_us.min(transit);
                if arrival.micros_since(self.window_start) >= WINDOW_US {
                    let m = self.window_min_us;
                    self.window_start = arrival;
                    self.window_min_us = transit;
                    if m > off + SLEW_US {
                        self.adjustments += 1;
                        m
                    } else {
                        off.min(transit)
                    }
                } else {
                    off.min(transit)
                }
            }
        };
        self.offset_us = Some(off);
        MixerTime::from_micros(media_us + off)
    }

    /// The learnt offset (mixer time − media time), µs.
    pub fn offset_us(&self) -> Option<i64> {
        self.offset_us
    }

    /// Forgets everything.
    pub fn reset(&mut self) {
        *self = Self::default();
    }
}

/// Maps one RTP stream's timestamps to mixer time by arrival.
#[derive(Debug, Clone)]
pub struct ArrivalMapper {
    rate: u32,
    unwrap: RtpTimestampUnwrapper,
    first: Option<i64>,
    transit: TransitEstimator,
}

impl ArrivalMapper {
    /// A mapper for an RTP clock of `rate` Hz.
    pub fn new(rate: u32) -> Self {
        Self {
            rate,
            unwrap: RtpTimestampUnwrapper::default(),
            first: None,
            transit: TransitEstimator::default(),
        }
    }

    /// Mixer time of an access unit with RTP timestamp `ts` (ticks of the stream's clock)
    /// that arrived at `arrival`.
    pub fn map(&mut self, ts: u32, arrival: MixerTime) -> MixerTime {
        let ext = self.unwrap.unwrap(ts);
        let first = *self.first.get_or_insert(ext);
        let media_us = rescale_floor(ext - first, self.rate, MICROS);
        self.transit.map(media_us, arrival)
    }

    /// Times the mapping moved (late stream or re-anchor).
    pub fn adjustments(&self) -> u64 {
        self.transit.adjustments
    }

    /// Forgets the anchor (e.g. after an SSRC change).
    pub fn reset(&mut self) {
        self.unwrap = RtpTimestampUnwrapper::default();
        self.first = None;
        self.transit.reset();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(us: i64) -> MixerTime {
        MixerTime::from_micros(us)
    }

    #[test]
    fn follows_rtp_time_from_the_first_arrival() {
        let mut m = ArrivalMapper::new(90_000);
        assert_eq!(m.map(1000, at(500_000)).as_micros(), 500_000);
        // 3000 ticks = 33 333 µs later in RTP time, whatever the jittery arrival.
        assert_eq!(m.map(4000, at(560_000)).as_micros(), 533_333);
    }

    #[test]
    fn an_early_packet_moves_the_mapping_earlier() {
        let mut m = ArrivalMapper::new(90_000);
        assert_eq!(m.map(0, at(100_000)).as_micros(), 100_000);
        // The first packet had been delayed 20 ms more than this one.
        assert_eq!(m.map(9000, at(180_000)).as_micros(), 180_000);
        assert_eq!(m.map(18_000, at(290_000)).as_micros(), 280_000);
    }

    #[test]
    fn unwraps_and_resyncs() {
        let mut m = ArrivalMapper::new(90_000);
        m.map(u32::MAX - 899, at(0));
        assert_eq!(m.map(100, at(11_111)).as_micros(), 11_111);
        // A jump of 10 s in RTP time arriving 40 ms later: re-anchor.
        assert_eq!(m.map(900_100, at(51_111)).as_micros(), 51_111);
        assert_eq!(m.adjustments(), 1);
    }

    #[test]
    fn a_sender_falling_behind_is_followed_within_the_slew_bound() {
        // 20 ms audio packets that arrive 1 % slower than their timestamps advance (a
        // sender that cannot keep up): after 30 s they are 300 ms late.
        let mut t = TransitEstimator::default();
        let mut worst_late = 0;
        for i in 0..1500i64 {
            let media = i * 20_000;
            let arrival = media * 101 / 100 + 5_000;
            let mapped = t.map(media, at(arrival)).as_micros();
            worst_late = worst_late.max(arrival - mapped);
        }
        // Never later than the slew threshold plus two windows of drift (10 ms each: the
        // window that crosses the threshold, and the one whose minimum it adopts).
        assert!(worst_late <= SLEW_US + 20_000, "worst {worst_late} µs");
        // One move per ~5 windows (40 ms of lateness at 10 ms per window).
        assert!(t.adjustments >= 4, "{} adjustments", t.adjustments);
    }

    #[test]
    fn jitter_alone_does_not_move_the_mapping() {
        let mut t = TransitEstimator::default();
        for i in 0..3000i64 {
            let media = i * 20_000;
            // Up to 30 ms of jitter, minimum transit 5 ms reached every 10 packets.
            let jitter = if i % 10 == 0 { 0 } else { (i * 7919) % 30_000 };
            let mapped = t.map(media, at(media + 5_000 + jitter)).as_micros();
            assert_eq!(mapped, media + 5_000);
        }
        assert_eq!(t.adjustments, 0);
    }
}
