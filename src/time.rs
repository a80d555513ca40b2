//! Typed media time, integer only.
//!
//! - [`MixerTime`]: a point on a mixer's timeline, µs since its epoch (time 0 is the
//!   instant the mixer enters Running; for offline jobs, the inputs' start). Pictures in
//!   `FrameQueue`s, the core's ticks and the receive path's access units use it.
//! - [`SamplePos`]: a position on the 48 kHz audio timeline of the same mixer (sample 0
//!   is mixer time 0). Sample rings and the audio mix use it.
//! - [`MediaTime`]: `value` ticks of any `rate` Hz clock (90 000 for RTP video, 48 000
//!   for Opus, `fps` for output pictures), for conversions at the edges.
//! - RTP timestamps stay `u32` on the wire and are extended to `i64` ticks by
//!   [`RtpTimestampUnwrapper`].
//!
//! The newtypes do not mix: adding a [`SamplePos`] to a [`MixerTime`] does not compile;
//! conversions name their rounding. Rescaling rounds down (towards negative infinity);
//! there are no `f64` seconds anywhere in the pipeline.

use std::cmp::Ordering;
use std::time::Duration;

/// RTP clock rate of video payloads (RFC 3551 §5, RFC 7741, RFC 6184): 90 kHz.
pub const VIDEO_RTP_RATE: u32 = 90_000;
/// RTP clock rate of Opus (RFC 7587 §4.1) and the rate of the mixed output audio: 48 kHz.
pub const AUDIO_RATE: u32 = 48_000;
/// Milliseconds.
pub const MILLIS: u32 = 1_000;
/// Microseconds.
pub const MICROS: u32 = 1_000_000;

/// A point (or span) on a media timeline: `value` ticks of a `rate` Hz clock.
#[derive(Debug, Clone, Copy)]
pub struct MediaTime {
    value: i64,
    rate: u32,
}

impl MediaTime {
    /// `value` ticks at `rate` Hz. Panics if `rate` is 0 (a programming error, never input).
    pub const fn new(value: i64, rate: u32) -> Self {
        assert!(rate > 0, "MediaTime rate must be > 0");
        Self { value, rate }
    }

    /// Zero at the given rate.
    pub const fn zero(rate: u32) -> Self {
        Self::new(0, rate)
    }

    /// From milliseconds.
    pub const fn from_millis(ms: i64) -> Self {
        Self::new(ms, MILLIS)
    }

    /// From a [`Duration`], at microsecond resolution.
    pub fn from_duration(d: Duration) -> Self {
        Self::new(i64::try_from(d.as_micros()).unwrap_or(i64::MAX), MICROS)
    }

    /// Tick count.
    pub const fn value(self) -> i64 {
        self.value
    }

    /// Clock rate in Hz.
    pub const fn rate(self) -> u32 {
        self.rate
    }

    /// The same instant at another rate, rounded down (floor).
    pub fn rescale(self, rate: u32) -> Self {
        Self::new(rescale_floor(self.value, self.rate, rate), rate)
    }

    /// Whole milliseconds, rounded down.
    pub fn as_millis(self) -> i64 {
        rescale_floor(self.value, self.rate, MILLIS)
    }
}

impl std::ops::Add for MediaTime {
    type Output = MediaTime;

    /// Sum, in the rate of the left operand (the right one is rescaled, rounding down).
    fn add(self, other: MediaTime) -> MediaTime {
        Self::new(self.value + other.rescale(self.rate).value, self.rate)
    }
}

impl std::ops::Sub for MediaTime {
    type Output = MediaTime;

    /// Difference, in the rate of the left operand (the right one is rescaled first).
    fn sub(self, other: MediaTime) -> MediaTime {
        Self::new(self.value - other.rescale(self.rate).value, self.rate)
    }
}

/// A point on a mixer's timeline: µs since the mixer's epoch (may be negative: before
/// the epoch). See the module docs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MixerTime(i64);

impl MixerTime {
    /// The epoch.
    pub const ZERO: MixerTime = MixerTime(0);
    /// Later than any time (e.g. an input with no media has covered everything).
    pub const MAX: MixerTime = MixerTime(i64::MAX);
    /// Earlier than any time.
    pub const MIN: MixerTime = MixerTime(i64::MIN);

    /// `us` µs after the epoch.
    pub const fn from_micros(us: i64) -> Self {
        Self(us)
    }

    /// `ms` ms after the epoch.
    pub const fn from_millis(ms: i64) -> Self {
        Self(ms.saturating_mul(1_000))
    }

    /// The wall-clock instant `t` on the timeline of a mixer whose epoch is `epoch`
    /// (instants before the epoch give [`MixerTime::ZERO`]).
    pub fn since(epoch: std::time::Instant, t: std::time::Instant) -> Self {
        Self(i64::try_from(t.saturating_duration_since(epoch).as_micros()).unwrap_or(i64::MAX))
    }

    /// Time of output picture `n` at `fps` pictures per second, rounded down.
    pub fn of_picture(n: u64, fps: u32) -> Self {
        Self(rescale_floor(
            i64::try_from(n).unwrap_or(i64::MAX),
            fps,
            MICROS,
        ))
    }

    /// µs since the epoch.
    pub const fn as_micros(self) -> i64 {
        self.0
    }

    /// Whole ms since the epoch, rounded down.
    pub fn as_millis(self) -> i64 {
        rescale_floor(self.0, MICROS, MILLIS)
    }

    /// The audio sample at this time (48 kHz), rounded down.
    pub fn to_samples(self) -> SamplePos {
        SamplePos(rescale_floor(self.0, MICROS, AUDIO_RATE))
    }

    /// This time moved by `us` µs (saturating).
    pub const fn plus_micros(self, us: i64) -> Self {
        Self(self.0.saturating_add(us))
    }

    /// This time moved by `d` (saturating).
    pub fn plus(self, d: Duration) -> Self {
        self.plus_micros(i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
    }

    /// `self - earlier`, µs (negative if `earlier` is later; saturating).
    pub const fn micros_since(self, earlier: MixerTime) -> i64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// A position on a mixer's 48 kHz audio timeline: samples (per channel) since the epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SamplePos(i64);

impl SamplePos {
    /// Sample 0 (the epoch).
    pub const ZERO: SamplePos = SamplePos(0);

    /// Sample `n`.
    pub const fn new(n: i64) -> Self {
        Self(n)
    }

    /// The sample index.
    pub const fn get(self) -> i64 {
        self.0
    }

    /// The mixer time of this sample, rounded down to a µs.
    pub fn to_mixer_time(self) -> MixerTime {
        MixerTime(rescale_floor(self.0, AUDIO_RATE, MICROS))
    }

    /// This position moved by `n` samples.
    pub const fn plus(self, n: i64) -> Self {
        Self(self.0.saturating_add(n))
    }

    /// `self - earlier`, samples.
    pub const fn samples_since(self, earlier: SamplePos) -> i64 {
        self.0.saturating_sub(earlier.0)
    }
}

/// `value * to / from`, rounded towards negative infinity, computed in i128 so that
/// it cannot overflow for any `i64` value and `u32` rates.
pub fn rescale_floor(value: i64, from: u32, to: u32) -> i64 {
    if from == to {
        return value;
    }
    let n = i128::from(value) * i128::from(to);
    let d = i128::from(from);
    let q = n.div_euclid(d);
    i64::try_from(q).unwrap_or(if q < 0 { i64::MIN } else { i64::MAX })
}

impl PartialEq for MediaTime {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for MediaTime {}

impl PartialOrd for MediaTime {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for MediaTime {
    /// Exact comparison by cross-multiplication (no rounding).
    fn cmp(&self, other: &Self) -> Ordering {
        let a = i128::from(self.value) * i128::from(other.rate);
        let b = i128::from(other.value) * i128::from(self.rate);
        a.cmp(&b)
    }
}

/// Extends 32-bit RTP timestamps (RFC 3550 §5.1) to a monotonic-ish 64-bit count across
/// wrap-around: each new value is placed within ±2^31 of the previous one.
#[derive(Debug, Default, Clone)]
pub struct RtpTimestampUnwrapper {
    last: Option<i64>,
}

impl RtpTimestampUnwrapper {
    /// Returns the extended timestamp of `ts`.
    pub fn unwrap(&mut self, ts: u32) -> i64 {
        let ext = match self.last {
            None => i64::from(ts),
            Some(last) => {
                let delta = ts.wrapping_sub(last as u32) as i32;
                last + i64::from(delta)
            }
        };
        self.last = Some(ext);
        ext
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rescale_rounds_down() {
        assert_eq!(rescale_floor(1, 90_000, 1000), 0);
        assert_eq!(rescale_floor(90, 90_000, 1000), 1);
        assert_eq!(rescale_floor(-1, 90_000, 1000), -1);
        assert_eq!(MediaTime::new(3, 15).rescale(AUDIO_RATE).value(), 9_600);
    }

    #[test]
    fn compares_across_rates() {
        assert_eq!(MediaTime::new(90_000, 90_000), MediaTime::new(1000, 1000));
        assert!(MediaTime::new(1, 15) > MediaTime::new(66, 1000));
        assert!(MediaTime::new(1, 15) < MediaTime::new(67, 1000));
    }

    #[test]
    fn mixer_time_and_samples_convert_with_floor() {
        assert_eq!(MixerTime::of_picture(1, 15).as_micros(), 66_666);
        assert_eq!(MixerTime::from_millis(20).to_samples(), SamplePos::new(960));
        assert_eq!(SamplePos::new(1).to_mixer_time().as_micros(), 20);
        assert_eq!(MixerTime::from_micros(-1).to_samples(), SamplePos::new(-1));
        assert_eq!(
            MixerTime::from_millis(5).micros_since(MixerTime::from_millis(7)),
            -2_000
        );
    }

    #[test]
    fn unwraps_32_bit_timestamps() {
        let mut u = RtpTimestampUnwrapper::default();
        assert_eq!(u.unwrap(u32::MAX - 10), i64::from(u32::MAX - 10));
        assert_eq!(u.unwrap(5), i64::from(u32::MAX) + 6);
        // A slightly older (reordered) packet stays before.
        assert_eq!(u.unwrap(u32::MAX - 2), i64::from(u32::MAX - 2));
    }
}
