//! A stereo-linked look-ahead peak limiter for the mix bus: no output sample beyond the
//! ceiling, and a signal that stays under the threshold passes bit for bit.
//!
//! Per input sample the gain it needs is `g = min(1, ceiling / max(|l|, |r|))`. The gain
//! applied to the output (the input delayed by `L` = [`Limiter::lookahead`] samples) is
//! the mean over the last `L` samples of `h`, where `h[n]` is the minimum of `g` over the
//! last `L + 1` inputs, released slowly: `h` may rise at most by the release rate (an
//! exponential return towards 1 with time constant [`RELEASE_MS`]). Every `h` averaged
//! for output sample `n - L` covers input `n - L` in its window, so the mean is never
//! above the gain that sample needs: the ceiling holds exactly, and the attack is a
//! linear ramp over the look-ahead (no click). A signal whose peaks stay under the
//! ceiling needs `g = 1` everywhere and is only delayed.
//!
//! Units: samples at 48 kHz, planar `f32` with full scale 1.0. The caller compensates
//! the delay by feeding the limiter `L` samples ahead of the output (see
//! `MixCore` in `mixer/core.rs`).

use std::collections::VecDeque;

/// The default ceiling, dBFS: AAC's quantisation adds up to ~1 dB of overshoot to peaks,
/// so the mix is limited with that headroom and still decodes below full scale.
pub const DEFAULT_CEILING_DBFS: f32 = -3.0;

/// Look-ahead (and attack), ms.
pub const LOOKAHEAD_MS: u32 = 5;

/// Release time constant, ms: after a peak the gain returns towards 1 with this `tau`.
pub const RELEASE_MS: u32 = 100;

/// Converts dB to a linear factor (`10^(db / 20)`).
pub fn db_to_linear(db: f32) -> f32 {
    10f32.powf(db / 20.0)
}

/// See the module docs.
#[derive(Debug)]
pub struct Limiter {
    ceiling: f32,
    lookahead: usize,
    /// Per-sample release: `1 - exp(-1 / (tau * rate))`.
    release: f64,
    /// Delayed input, `lookahead` samples per channel.
    delay_l: VecDeque<f32>,
    delay_r: VecDeque<f32>,
    /// Sliding minimum of the needed gain: (input index, gain), increasing gains.
    minima: VecDeque<(u64, f32)>,
    /// The released minimum `h` of the last `lookahead` inputs, and their sum.
    held: VecDeque<f32>,
    held_sum: f64,
    last_h: f32,
    n: u64,
    /// Output samples whose gain was below 1.
    pub limited_samples: u64,
}

impl Limiter {
    /// A limiter at `ceiling_dbfs` (<= 0) for `rate` Hz with the default look-ahead and
    /// release.
    pub fn new(ceiling_dbfs: f32, rate: u32) -> Self {
        let lookahead = (rate * LOOKAHEAD_MS / 1000).max(1) as usize;
        let tau = f64::from(RELEASE_MS) / 1000.0 * f64::from(rate);
        Self {
            ceiling: db_to_linear(ceiling_dbfs.min(0.0)),
            lookahead,
            release: 1.0 - (-1.0 / tau).exp(),
            delay_l: std::iter::repeat_n(0.0, lookahead).collect(),
            delay_r: std::iter::repeat_n(0.0, lookahead).collect(),
            minima: VecDeque::new(),
            held: std::iter::repeat_n(1.0, lookahead).collect(),
            held_sum: lookahead as f64,
            last_h: 1.0,
            n: 0,
            limited_samples: 0,
        }
    }

    /// The delay, samples: output sample `k` is input sample `k - lookahead`.
    pub fn lookahead(&self) -> usize {
        self.lookahead
    }

    /// The ceiling as a linear factor.
    pub fn ceiling(&self) -> f32 {
        self.ceiling
    }

    /// Limits `l`/`r` (equal lengths) in place: each sample is replaced by the output
    /// `lookahead` samples later in the stream.
    pub fn process(&mut self, l: &mut [f32], r: &mut [f32]) {
        for (a, b) in l.iter_mut().zip(r.iter_mut()) {
            let peak = a.abs().max(b.abs());
            let need = if peak > self.ceiling {
                self.ceiling / peak
            } else {
                1.0
            };
            // Sliding minimum over the last lookahead + 1 inputs.
            while self.minima.back().is_some_and(|&(_, g)| g >= need) {
                self.minima.pop_back();
            }
            self.minima.push_back((self.n, need));
            while self
                .minima
                .front()
                .is_some_and(|&(i, _)| i + (self.lookahead as u64) < self.n)
            {
                self.minima.pop_front();
            }
            let min = self.minima.front().map_or(1.0, |&(_, g)| g);
            // Released: rises towards 1 no faster than the release, falls at once.
            let released = self.last_h + ((1.0 - f64::from(self.last_h)) * self.release) as f32;
            let h = min.min(released);
            self.last_h = h;
            self.held_sum += f64::from(h) - f64::from(self.held.pop_front().unwrap_or(1.0));
            self.held.push_back(h);
            let gain = ((self.held_sum / self.lookahead as f64) as f32).min(1.0);
            // A gain of exactly 1 keeps the samples bit for bit.
            let (dl, dr) = (
                self.delay_l.pop_front().unwrap_or(0.0),
                self.delay_r.pop_front().unwrap_or(0.0),
            );
            self.delay_l.push_back(*a);
            self.delay_r.push_back(*b);
            if gain < 1.0 {
                self.limited_samples += 1;
                *a = dl * gain;
                *b = dr * gain;
            } else {
                *a = dl;
                *b = dr;
            }
            self.n += 1;
        }
        // The running sum drifts by rounding; recompute it now and then.
        if self.n % 48_000 < l.len() as u64 {
            self.held_sum = self.held.iter().map(|&h| f64::from(h)).sum();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f32, amp: f32, n: usize) -> Vec<f32> {
        (0..n)
            .map(|i| amp * (std::f32::consts::TAU * freq * i as f32 / 48_000.0).sin())
            .collect()
    }

    fn run(lim: &mut Limiter, x: &[f32]) -> Vec<f32> {
        let (mut l, mut r) = (x.to_vec(), x.to_vec());
        for (a, b) in l.chunks_mut(1024).zip(r.chunks_mut(1024)) {
            lim.process(a, b);
        }
        assert_eq!(l, r, "stereo-linked: equal channels stay equal");
        l
    }

    fn rms(x: &[f32]) -> f32 {
        (x.iter().map(|v| v * v).sum::<f32>() / x.len() as f32).sqrt()
    }

    #[test]
    fn a_quiet_signal_passes_unchanged_only_delayed() {
        let mut lim = Limiter::new(-3.0, 48_000);
        let x = sine(440.0, 0.1, 48_000);
        let y = run(&mut lim, &x);
        let d = lim.lookahead();
        assert_eq!(d, 240);
        assert_eq!(&y[d..], &x[..x.len() - d]);
        assert_eq!(lim.limited_samples, 0);
    }

    #[test]
    fn two_full_scale_tones_never_pass_the_ceiling() {
        let mut lim = Limiter::new(-3.0, 48_000);
        let a = sine(440.0, 1.0, 96_000);
        let b = sine(1000.0, 1.0, 96_000);
        let sum: Vec<f32> = a.iter().zip(&b).map(|(x, y)| x + y).collect();
        let y = run(&mut lim, &sum);
        let peak = y.iter().fold(0f32, |m, v| m.max(v.abs()));
        assert!(peak <= lim.ceiling() + 1e-6, "peak {peak}");
        // Not crushed: still most of the ceiling's level.
        assert!(rms(&y[48_000..]) > 0.25, "rms {}", rms(&y[48_000..]));
    }

    #[test]
    fn a_single_spike_is_caught_by_the_lookahead_and_released_smoothly() {
        let mut lim = Limiter::new(-6.0, 48_000);
        let mut x = sine(200.0, 0.2, 48_000);
        x[10_000] = 1.0;
        let y = run(&mut lim, &x);
        let d = lim.lookahead();
        assert!(y[10_000 + d].abs() <= lim.ceiling() + 1e-6);
        // The gain ramps down before the spike (no step) and comes back after it.
        let g = |i: usize| y[i + d] / x[i];
        assert!((g(10_000 - d - 5) - 1.0).abs() < 1e-6);
        let late = 10_000 + 48_000 / 2;
        assert!((y[late + d] / x[late] - 1.0).abs() < 0.01);
    }

    #[test]
    fn db_conversion() {
        assert!((db_to_linear(-6.0) - 0.501).abs() < 1e-3);
        assert_eq!(db_to_linear(0.0), 1.0);
    }
}
