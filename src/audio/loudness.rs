//! Loudness normalisation of the mix bus to a target integrated loudness (EBU R128 /
//! ITU-R BS.1770), before the limiter.
//!
//! The mix is measured as it comes (the `ebur128` crate: K-weighting, 400 ms blocks,
//! absolute gate -70 LUFS and relative gate -10 LU, in histogram mode so memory stays
//! constant over hours). Once at least [`WARMUP_MS`] of audio has a gated loudness
//! `I`, the wanted gain is `target - I` dB, clamped to [`MAX_CUT_DB`]..=[`MAX_BOOST_DB`];
//! the applied gain moves towards it by at most [`SLEW_DB_PER_S`], as a linear ramp
//! inside each block (no click, no pumping: `I` is the integrated loudness of
//! everything so far, so it settles instead of following each word). Silence is gated
//! out of `I` and so never raises the gain. Before the warm-up the gain is 0 dB.
//!
//! The limiter after it ([`crate::audio::limiter`]) still holds the ceiling when a boost
//! would push peaks over it; a target above the material's peak-to-loudness ratio is
//! therefore reached only as far as the ceiling allows.
//!
//! Units: planar `f32` stereo at 48 kHz, full scale 1.0; LUFS and dB as `f64`.

use ebur128::{EbuR128, Mode};

/// Accepted targets, LUFS (e.g. -16 for web playback, -23 for EBU broadcast).
pub const TARGET_LUFS_RANGE: (i32, i32) = (-40, -5);

/// Audio measured before the gain follows the measurement, ms.
pub const WARMUP_MS: u32 = 3_000;

/// Fastest change of the applied gain, dB per second.
pub const SLEW_DB_PER_S: f64 = 3.0;

/// Largest boost, dB (quiet rooms are not raised into noise beyond this).
pub const MAX_BOOST_DB: f64 = 12.0;

/// Largest cut, dB (negative).
pub const MAX_CUT_DB: f64 = -24.0;

/// See the module docs.
pub struct LoudnessNormalizer {
    target: f64,
    rate: u32,
    meter: EbuR128,
    measured_samples: u64,
    gain_db: f64,
}

impl std::fmt::Debug for LoudnessNormalizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoudnessNormalizer")
            .field("target", &self.target)
            .field("gain_db", &self.gain_db)
            .finish_non_exhaustive()
    }
}

impl LoudnessNormalizer {
    /// A normaliser to `target_lufs` for stereo at `rate` Hz. None if the meter cannot
    /// be made for that rate (ebur128 accepts 16 Hz..=2.8 MHz; never for 48 kHz).
    pub fn new(target_lufs: f64, rate: u32) -> Option<Self> {
        let meter = EbuR128::new(2, rate, Mode::I | Mode::HISTOGRAM).ok()?;
        Some(Self {
            target: target_lufs,
            rate,
            meter,
            measured_samples: 0,
            gain_db: 0.0,
        })
    }

    /// The gain applied at the end of the last block, dB.
    pub fn gain_db(&self) -> f64 {
        self.gain_db
    }

    /// The integrated loudness of the input so far, LUFS (None before a gated block).
    pub fn input_lufs(&self) -> Option<f64> {
        self.meter.loudness_global().ok().filter(|v| v.is_finite())
    }

    /// Measures `l`/`r` (equal lengths) and applies the gain in place.
    pub fn process(&mut self, l: &mut [f32], r: &mut [f32]) {
        let n = l.len().min(r.len());
        if n == 0 {
            return;
        }
        // Only fails on mismatched channel slices, which `n` rules out.
        let _ = self.meter.add_frames_planar_f32(&[&l[..n], &r[..n]]);
        self.measured_samples += n as u64;
        let warm = self.measured_samples * 1000 >= u64::from(WARMUP_MS) * u64::from(self.rate);
        let from = self.gain_db;
        let to = match self.input_lufs() {
            Some(i) if warm => {
                let want = (self.target - i).clamp(MAX_CUT_DB, MAX_BOOST_DB);
                let step = SLEW_DB_PER_S * n as f64 / f64::from(self.rate);
                from + (want - from).clamp(-step, step)
            }
            _ => from,
        };
        self.gain_db = to;
        if from == 0.0 && to == 0.0 {
            return;
        }
        let (g0, g1) = (10f64.powf(from / 20.0), 10f64.powf(to / 20.0));
        for (i, (a, b)) in l.iter_mut().zip(r.iter_mut()).take(n).enumerate() {
            let g = (g0 + (g1 - g0) * (i + 1) as f64 / n as f64) as f32;
            *a *= g;
            *b *= g;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATE: u32 = 48_000;

    /// Runs `secs` of a 1 kHz sine of peak `amp` through `norm` in 1024-sample blocks;
    /// returns the output.
    fn run(norm: &mut LoudnessNormalizer, amp: f32, secs: usize) -> Vec<f32> {
        let x: Vec<f32> = (0..RATE as usize * secs)
            .map(|i| amp * (std::f32::consts::TAU * 1000.0 * i as f32 / RATE as f32).sin())
            .collect();
        let (mut l, mut r) = (x.clone(), x);
        for (a, b) in l.chunks_mut(1024).zip(r.chunks_mut(1024)) {
            norm.process(a, b);
        }
        assert_eq!(l, r);
        l
    }

    /// Integrated loudness of `x` in both channels, measured by a fresh meter.
    fn lufs(x: &[f32]) -> f64 {
        let mut m = EbuR128::new(2, RATE, Mode::I).expect("meter");
        m.add_frames_planar_f32(&[x, x]).expect("frames");
        m.loudness_global().expect("loudness")
    }

    #[test]
    fn a_loud_talker_is_brought_down_to_the_target() {
        let mut n = LoudnessNormalizer::new(-30.0, RATE).expect("normaliser");
        // A 1 kHz sine at -12 dBFS peak in both channels is about -12 LUFS.
        let y = run(&mut n, 0.25, 20);
        let before = lufs(&run(
            &mut LoudnessNormalizer::new(-12.0, RATE).unwrap(),
            0.25,
            4,
        ));
        assert!((before + 12.0).abs() < 1.0, "input {before:.2} LUFS");
        let settled = lufs(&y[RATE as usize * 12..]);
        assert!((settled + 30.0).abs() < 0.5, "settled {settled:.2} LUFS");
        assert!(
            (n.gain_db() + 18.0).abs() < 0.5,
            "gain {:.2} dB",
            n.gain_db()
        );
    }

    #[test]
    fn the_gain_waits_for_the_warm_up_and_then_slews() {
        let mut n = LoudnessNormalizer::new(-30.0, RATE).expect("normaliser");
        let y = run(&mut n, 0.25, 2);
        assert_eq!(n.gain_db(), 0.0, "no gain before {WARMUP_MS} ms");
        assert!((y[RATE as usize] - 0.25 * (std::f32::consts::TAU * 1000.0).sin()).abs() < 1e-6);
        let _ = run(&mut n, 0.25, 2);
        // About 1 s past the warm-up: at most SLEW_DB_PER_S dB moved.
        assert!(
            n.gain_db() < 0.0 && n.gain_db() >= -SLEW_DB_PER_S * 1.05,
            "gain {:.2} dB",
            n.gain_db()
        );
    }

    #[test]
    fn silence_neither_measures_nor_raises_the_gain() {
        let mut n = LoudnessNormalizer::new(-16.0, RATE).expect("normaliser");
        let y = run(&mut n, 0.0, 10);
        assert_eq!(n.input_lufs(), None);
        assert_eq!(n.gain_db(), 0.0);
        assert!(y.iter().all(|&v| v == 0.0));
    }

    #[test]
    fn a_quiet_talker_is_raised_at_most_by_the_boost_limit() {
        let mut n = LoudnessNormalizer::new(-10.0, RATE).expect("normaliser");
        // About -40 LUFS: 30 dB below the target, boosted by MAX_BOOST_DB only.
        let _ = run(&mut n, 0.01, 20);
        assert!(
            (n.gain_db() - MAX_BOOST_DB).abs() < 1e-9,
            "gain {}",
            n.gain_db()
        );
    }
}
