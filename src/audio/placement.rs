//! Where a source's next PCM block goes on the 48 kHz output timeline.
//!
//! Decoded blocks carry a timestamp; consecutive blocks should land back to back. Small
//! disagreements between the timestamp and the running position (timestamp rounding in
//! containers with a 1 ms timebase, a few samples of encoder padding) are ignored so the
//! audio stays sample-continuous; a disagreement larger than
//! [`AudioPlacement::tolerance`] (a real gap, or a sender restart) moves the position to
//! the timestamp.

/// Default tolerance: 20 ms at 48 kHz.
pub const DEFAULT_TOLERANCE_SAMPLES: i64 = 960;

/// See the module docs.
#[derive(Debug, Clone)]
pub struct AudioPlacement {
    next: Option<i64>,
    tolerance: i64,
    /// Times the position was moved to a block's timestamp after the first.
    pub resyncs: u64,
}

impl Default for AudioPlacement {
    fn default() -> Self {
        Self::new(DEFAULT_TOLERANCE_SAMPLES)
    }
}

impl AudioPlacement {
    /// `tolerance` in samples.
    pub fn new(tolerance: i64) -> Self {
        Self {
            next: None,
            tolerance,
            resyncs: 0,
        }
    }

    /// The tolerance in samples.
    pub fn tolerance(&self) -> i64 {
        self.tolerance
    }

    /// Position (samples) for a block of `len` samples stamped `ts` (samples).
    pub fn place(&mut self, ts: i64, len: usize) -> i64 {
        let pos = match self.next {
            Some(n) if (ts - n).abs() <= self.tolerance => n,
            Some(_) => {
                self.resyncs += 1;
                ts
            }
            None => ts,
        };
        self.next = Some(pos + len as i64);
        pos
    }

    /// Forgets the running position (next block is placed at its timestamp).
    pub fn reset(&mut self) {
        self.next = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_blocks_contiguous_within_tolerance() {
        let mut p = AudioPlacement::new(100);
        assert_eq!(p.place(1000, 960), 1000);
        assert_eq!(p.place(1968, 960), 1960); // 8 samples of rounding: ignored
        assert_eq!(p.place(2900, 960), 2920);
        assert_eq!(p.resyncs, 0);
    }

    #[test]
    fn jumps_on_a_real_gap() {
        let mut p = AudioPlacement::new(100);
        p.place(0, 960);
        assert_eq!(p.place(48_000, 960), 48_000);
        assert_eq!(p.resyncs, 1);
    }
}
