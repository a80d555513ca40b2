//! One source's sender clock (NTP time from its RTCP sender reports, RFC 3550 §6.4.1)
//! mapped to mixer time, shared by the source's audio and video so the two stay in sync
//! as the sender sampled them.
//!
//! Each stream learns its own offset (mixer time − NTP time, µs) with a
//! [`TransitEstimator`]: its smallest transit, which includes that stream's encoder and
//! network delay. The two differ (ffmpeg on one host: within 2 ms; real clients capture
//! audio and video through different paths, tens of ms apart). The source maps both
//! streams with the **largest** of them, so neither stream is mapped earlier than its
//! packets can arrive, and both use the same offset.
//!
//! Why one estimator per stream and not one over both: with one estimator the offset is
//! the smaller transit (say video's). When video pauses (a keyframe lost under loss, a
//! muted camera), a whole window of audio-only transits sits above it, the estimator's
//! "sender fell behind" rule moves the offset up to audio's level, and the next video
//! frame moves it straight back down: every toggle moved the source's audio and video by
//! the difference (the second test below shows it). With one estimator per stream, a
//! pausing stream's offset stays where it was and the maximum does not move. (Found while
//! chasing the intermittent 60 s loss test; its cause turned out to be elsewhere, see
//! docs/MEDIA-TIMING.md, but with a sender whose audio lags its video by more than the
//! 40 ms slew threshold this toggling happens.)

use crate::model::Medium;
use crate::receive::shared_clock::ClockMember;
use crate::receive::timeline::{TransitEstimator, RESYNC_US};
use crate::time::MixerTime;

/// See the module docs.
#[derive(Debug, Default)]
pub struct SourceSync {
    video: TransitEstimator,
    audio: TransitEstimator,
    /// Membership in the mixer's [`crate::receive::shared_clock::SharedClock`], if any.
    pub clock: Option<ClockMember>,
}

impl SourceSync {
    /// Mixer time of NTP time `ntp_us` (µs since 1900 on the sender's clock) of an access
    /// unit of `medium` that arrived at `arrival`: NTP time + the source's offset, the
    /// largest of its streams' offsets, or the mixer's common offset when the source
    /// shares a clock with others ([`crate::receive::shared_clock`]).
    pub fn map(&mut self, medium: Medium, ntp_us: i64, arrival: MixerTime) -> MixerTime {
        let (this, other) = match medium {
            Medium::Video => (&mut self.video, &self.audio),
            Medium::Audio => (&mut self.audio, &self.video),
        };
        let own_us = this.map(ntp_us, arrival).as_micros() - ntp_us;
        // The other stream's offset unless it is from another era (a sender restart
        // that this stream has re-anchored to and the other has not seen yet).
        let source_us = other
            .offset_us()
            .filter(|o| (o - own_us).abs() <= RESYNC_US)
            .map_or(own_us, |o| o.max(own_us));
        let offset_us = match &self.clock {
            Some(c) => c.offset_us(source_us),
            None => source_us,
        };
        MixerTime::from_micros(ntp_us + offset_us)
    }

    /// The stream offsets learnt so far (mixer time − NTP time), µs: (video, audio).
    pub fn offsets_us(&self) -> (Option<i64>, Option<i64>) {
        (self.video.offset_us(), self.audio.offset_us())
    }

    /// Times either stream's offset moved up or re-anchored.
    pub fn adjustments(&self) -> u64 {
        self.video.adjustments + self.audio.adjustments
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(us: i64) -> MixerTime {
        MixerTime::from_micros(us)
    }

    /// Video 10 ms and audio 90 ms from capture to arrival; video pauses for 3 s (lost
    /// keyframes) and comes back. The audio's mapping must not move.
    #[test]
    fn a_pausing_stream_does_not_move_the_other_streams_mapping() {
        let mut s = SourceSync::default();
        let mut audio_mapped = Vec::new();
        for i in 0..500i64 {
            let t = i * 20_000;
            let video_paused = (100..250).contains(&i);
            if !video_paused {
                s.map(Medium::Video, t, at(t + 10_000));
            }
            audio_mapped.push(s.map(Medium::Audio, t, at(t + 90_000)).as_micros() - t);
        }
        // From the first audio packet on, audio maps with its own (larger) offset.
        assert!(
            audio_mapped.iter().all(|&o| o == 90_000),
            "{:?}",
            audio_mapped
                .iter()
                .filter(|&&o| o != 90_000)
                .take(5)
                .collect::<Vec<_>>()
        );
        assert_eq!(s.adjustments(), 0);
        // And video maps with the same offset as audio.
        assert_eq!(
            s.map(Medium::Video, 10_000_000, at(10_010_000)),
            at(10_090_000)
        );
    }

    #[test]
    fn one_estimator_over_both_streams_would_toggle() {
        // The failure mode the module docs describe, kept as a check of the reasoning:
        // a single estimator fed both streams moves by the transit difference.
        let mut t = TransitEstimator::default();
        let mut levels = std::collections::BTreeSet::new();
        for i in 0..500i64 {
            let at_us = i * 20_000;
            if !(100..250).contains(&i) {
                t.map(at_us, MixerTime::from_micros(at_us + 10_000));
            }
            levels.insert(
                t.map(at_us, MixerTime::from_micros(at_us + 90_000))
                    .as_micros()
                    - at_us,
            );
        }
        assert_eq!(levels.into_iter().collect::<Vec<_>>(), vec![10_000, 90_000]);
    }
}
