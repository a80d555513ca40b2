//! Where a source's next PCM block goes on the 48 kHz output timeline, and by how many
//! samples it must be stretched or shrunk to get there smoothly.
//!
//! Decoded blocks carry a timestamp (the source's media time mapped to mixer time);
//! consecutive blocks should land back to back. The running position (`next`) and the
//! timestamp disagree when:
//! - the timestamps are rounded (containers with a 1 ms timebase) or carry a few samples
//!   of encoder padding: below [`STOP_SAMPLES`], ignored;
//! - the sender's sample clock runs fast or slow against the mixer's (clock drift), or
//!   the mapping moved by a few ms (a better minimum transit, a sender report): the
//!   disagreement grows slowly. Once it passes [`START_SAMPLES`] each block is resampled
//!   by up to [`MAX_STRETCH_PPM`] until it is back within [`STOP_SAMPLES`] (hysteresis:
//!   a disagreement that wanders inside the band never makes the pitch wobble);
//! - a packet was lost or the sender restarted: more than [`JUMP_SAMPLES`], the block goes
//!   at its timestamp at once (a gap reads as silence; an overlap replaces).
//!
//! Sans-IO: [`AudioPlacement::place`] decides, the caller resamples ([`super::Stretcher`])
//! and reports what it wrote with [`AudioPlacement::wrote`].

/// Disagreement that moves a block to its timestamp at once: 10 ms (half an Opus
/// packet; a lost 20 ms packet must leave a 20 ms gap, not be stretched over).
pub const JUMP_SAMPLES: i64 = 480;
/// Disagreement at which smooth correction starts: 4 ms.
pub const START_SAMPLES: i64 = 192;
/// Disagreement at which smooth correction stops: 1 ms.
pub const STOP_SAMPLES: i64 = 48;
/// Largest stretch, parts per million of a block: 0.5 % (8.6 cents of pitch, at most
/// 4.8 samples per 20 ms block). Corrects up to 5 ms of drift per second.
pub const MAX_STRETCH_PPM: i64 = 5_000;

/// Where one block goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placed {
    /// Timeline position (samples) of the block's first output sample.
    pub pos: i64,
    /// Samples to add (> 0) or remove (< 0) by resampling the block.
    pub stretch: i64,
}

/// See the module docs.
#[derive(Debug, Clone, Default)]
pub struct AudioPlacement {
    next: Option<i64>,
    correcting: bool,
    /// Times a block jumped to its timestamp (after the first block).
    pub resyncs: u64,
    /// Samples added or removed by stretching, in absolute value.
    pub stretched_samples: u64,
}

impl AudioPlacement {
    /// Position and stretch for a block of `len` samples stamped `ts` (samples).
    pub fn place(&mut self, ts: i64, len: usize) -> Placed {
        let Some(next) = self.next else {
            return Placed {
                pos: ts,
                stretch: 0,
            };
        };
        let err = ts - next;
        if err.abs() > JUMP_SAMPLES {
            self.resyncs += 1;
            self.correcting = false;
            return Placed {
                pos: ts,
                stretch: 0,
            };
        }
        if err.abs() >= START_SAMPLES {
            self.correcting = true;
        } else if err.abs() <= STOP_SAMPLES {
            self.correcting = false;
        }
        let stretch = if self.correcting {
            let max = (len as i64 * MAX_STRETCH_PPM / 1_000_000).max(1);
            err.clamp(-max, max)
        } else {
            0
        };
        self.stretched_samples += stretch.unsigned_abs();
        Placed { pos: next, stretch }
    }

    /// Records that `n` samples were written from `pos`: the next block follows them.
    pub fn wrote(&mut self, pos: i64, n: usize) {
        self.next = Some(pos + n as i64);
    }

    /// Forgets the running position (next block is placed at its timestamp).
    pub fn reset(&mut self) {
        self.next = None;
        self.correcting = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Places and "writes" a block exactly as stretched.
    fn step(p: &mut AudioPlacement, ts: i64, len: usize) -> Placed {
        let r = p.place(ts, len);
        p.wrote(r.pos, (len as i64 + r.stretch) as usize);
        r
    }

    #[test]
    fn keeps_blocks_contiguous_inside_the_band() {
        let mut p = AudioPlacement::default();
        assert_eq!(
            step(&mut p, 1000, 960),
            Placed {
                pos: 1000,
                stretch: 0
            }
        );
        // 40 samples of rounding (< 1 ms) either way: ignored.
        assert_eq!(
            step(&mut p, 2000, 960),
            Placed {
                pos: 1960,
                stretch: 0
            }
        );
        assert_eq!(
            step(&mut p, 2880, 960),
            Placed {
                pos: 2920,
                stretch: 0
            }
        );
        assert_eq!((p.resyncs, p.stretched_samples), (0, 0));
    }

    #[test]
    fn jumps_over_a_lost_packet() {
        let mut p = AudioPlacement::default();
        step(&mut p, 0, 960);
        // One 20 ms packet lost: the next block is 960 samples ahead.
        assert_eq!(
            step(&mut p, 1920, 960),
            Placed {
                pos: 1920,
                stretch: 0
            }
        );
        assert_eq!(p.resyncs, 1);
    }

    #[test]
    fn a_fast_sender_clock_is_absorbed_by_shrinking_with_hysteresis() {
        // A sender whose clock runs 0.1 % fast: 960-sample blocks whose timestamps
        // advance 959.04 samples.
        let mut p = AudioPlacement::default();
        let mut worst = 0i64;
        let mut shrinking_blocks = 0;
        for i in 0..15_000i64 {
            let ts = i * 95_904 / 100;
            let r = step(&mut p, ts, 960);
            worst = worst.max((r.pos - ts).abs());
            if r.stretch != 0 {
                assert!(r.stretch < 0 && r.stretch >= -4, "{r:?}");
                shrinking_blocks += 1;
            }
        }
        // Never further than the start threshold plus one block's drift.
        assert!(worst <= START_SAMPLES + 1, "worst {worst}");
        assert_eq!(p.resyncs, 0);
        // 0.1 % drift corrected at up to 0.5 %: shrinking about a quarter of the time
        // (0.96 samples of drift per block, 4 corrected), in bursts, not constantly.
        assert!(
            (2_500..=5_000).contains(&shrinking_blocks),
            "{shrinking_blocks} of 15000 blocks shrunk"
        );
    }

    #[test]
    fn a_mapping_step_of_a_few_ms_converges_smoothly() {
        let mut p = AudioPlacement::default();
        step(&mut p, 0, 960);
        // From block 1 on, timestamps are 6 ms (288 samples) later than before.
        let mut pos = 0;
        for i in 1..100i64 {
            let r = step(&mut p, i * 960 + 288, 960);
            assert!((0..=4).contains(&r.stretch), "{r:?}");
            pos = r.pos - (i * 960 + 288);
        }
        assert!(pos.abs() <= STOP_SAMPLES, "left {pos} samples apart");
        assert_eq!(p.resyncs, 0);
    }
}
