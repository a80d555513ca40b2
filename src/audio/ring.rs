//! A ring of planar stereo `f32` samples addressed by absolute position on the 48 kHz
//! output timeline (sample 0 = the mixer's time 0).
//!
//! The writer (a source's decoder) writes blocks at their positions; the reader (the
//! mixer tick) takes `[pos, pos + n)` and everything before `pos + n` is forgotten.
//! Writes that land entirely before the read position (too late) or beyond the capacity
//! ahead of it (too early) are dropped and counted. Unwritten samples read as silence.

use crate::time::SamplePos;

/// Default capacity: 10 s at 48 kHz.
pub const DEFAULT_RING_SAMPLES: usize = 480_000;

/// See the module docs.
#[derive(Debug)]
pub struct SampleRing {
    left: Vec<f32>,
    right: Vec<f32>,
    /// Absolute position of the next sample to read.
    read_pos: i64,
    /// Samples dropped because they arrived after their position was read.
    pub late_samples: u64,
    /// Samples dropped because they were beyond the capacity ahead of the reader.
    pub early_samples: u64,
}

impl SampleRing {
    /// A ring holding `capacity` samples per channel ahead of the reader.
    pub fn new(capacity: usize) -> Self {
        Self {
            left: vec![0.0; capacity.max(1)],
            right: vec![0.0; capacity.max(1)],
            read_pos: 0,
            late_samples: 0,
            early_samples: 0,
        }
    }

    fn cap(&self) -> i64 {
        self.left.len() as i64
    }

    fn slot(&self, pos: i64) -> usize {
        pos.rem_euclid(self.cap()) as usize
    }

    /// Position of the next sample to be read.
    pub fn read_pos(&self) -> SamplePos {
        SamplePos::new(self.read_pos)
    }

    /// Writes `left`/`right` (equal lengths) starting at absolute sample `pos`, replacing
    /// what was there. Returns the number of samples kept.
    pub fn write(&mut self, pos: SamplePos, left: &[f32], right: &[f32]) -> usize {
        let pos = pos.get();
        let n = left.len().min(right.len()) as i64;
        let lo = pos.max(self.read_pos);
        let hi = (pos + n).min(self.read_pos + self.cap());
        self.late_samples += (lo - pos).clamp(0, n) as u64;
        self.early_samples += ((pos + n) - hi.max(lo)).clamp(0, n) as u64;
        for p in lo..hi {
            let s = self.slot(p);
            let i = (p - pos) as usize;
            self.left[s] = left[i];
            self.right[s] = right[i];
        }
        (hi - lo).max(0) as usize
    }

    /// Adds the samples `[pos, pos + out_l.len())` into `out_l`/`out_r` and forgets
    /// everything before the end of that span. Reading backwards (pos < read position)
    /// reads silence for the part already forgotten.
    pub fn read_add(&mut self, pos: SamplePos, out_l: &mut [f32], out_r: &mut [f32]) {
        let pos = pos.get();
        let n = out_l.len() as i64;
        // Forget anything skipped between the old read position and pos.
        self.forget_until(pos);
        for i in 0..n {
            let p = pos + i;
            if p < self.read_pos {
                continue;
            }
            let s = self.slot(p);
            out_l[i as usize] += self.left[s];
            out_r[i as usize] += self.right[s];
            self.left[s] = 0.0;
            self.right[s] = 0.0;
        }
        self.read_pos = self.read_pos.max(pos + n);
    }

    fn forget_until(&mut self, pos: i64) {
        if pos <= self.read_pos {
            return;
        }
        let end = pos.min(self.read_pos + self.cap());
        for p in self.read_pos..end {
            let s = self.slot(p);
            self.left[s] = 0.0;
            self.right[s] = 0.0;
        }
        self.read_pos = pos;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(r: &mut SampleRing, pos: i64, n: usize) -> Vec<f32> {
        let mut l = vec![0.0; n];
        let mut rr = vec![0.0; n];
        r.read_add(SamplePos::new(pos), &mut l, &mut rr);
        l
    }

    #[test]
    fn reads_what_was_written_and_silence_elsewhere() {
        let mut r = SampleRing::new(16);
        r.write(SamplePos::new(2), &[1.0, 2.0], &[1.0, 2.0]);
        assert_eq!(read(&mut r, 0, 5), vec![0.0, 0.0, 1.0, 2.0, 0.0]);
        // Already read: silence, and a late write is dropped and counted.
        assert_eq!(r.write(SamplePos::new(3), &[9.0], &[9.0]), 0);
        assert_eq!(r.late_samples, 1);
        assert_eq!(read(&mut r, 5, 2), vec![0.0, 0.0]);
    }

    #[test]
    fn wraps_around_the_ring_and_drops_too_early_writes() {
        let mut r = SampleRing::new(4);
        for block in 0..10i64 {
            let v = block as f32;
            assert_eq!(r.write(SamplePos::new(block * 2), &[v, v], &[v, v]), 2);
            assert_eq!(read(&mut r, block * 2, 2), vec![v, v]);
        }
        // 4 ahead of the reader (pos 20) is the limit.
        assert_eq!(r.write(SamplePos::new(22), &[1.0; 4], &[1.0; 4]), 2);
        assert_eq!(r.early_samples, 2);
    }

    #[test]
    fn skipping_ahead_forgets_old_samples() {
        let mut r = SampleRing::new(8);
        r.write(SamplePos::new(0), &[1.0; 4], &[1.0; 4]);
        assert_eq!(read(&mut r, 2, 2), vec![1.0, 1.0]);
        assert_eq!(read(&mut r, 0, 2), vec![0.0, 0.0]);
        // The slots of 0..2 were cleared: position 8..10 maps onto them.
        assert_eq!(read(&mut r, 8, 2), vec![0.0, 0.0]);
    }
}
