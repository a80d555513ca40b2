//! Stretching or shrinking a PCM block by a few samples with ffmpeg's resampler
//! (libswresample's sample-rate compensation, `swr_set_compensation`): how clock drift
//! is absorbed without clicks. The policy (when, by how much) is
//! [`super::placement::AudioPlacement`]'s.
//!
//! Input and output: planar `f32` stereo at 48 kHz. The resampler runs in resampling
//! mode from the start, so its delay (about 16 samples, 0.3 ms, of filter history) is
//! constant and the first block comes out that much shorter.

use ff::format::{sample::Type as SampleType, Sample};
use ff::ChannelLayout;
use ffmpeg_next as ff;

use crate::media::MediaError;
use crate::time::AUDIO_RATE;

/// See the module docs.
pub struct Stretcher {
    swr: ff::software::resampling::Context,
}

impl Stretcher {
    /// A 48 kHz stereo planar-f32 stretcher. Errors: `Ffmpeg` if libswresample refuses.
    pub fn new() -> Result<Self, MediaError> {
        let f = Sample::F32(SampleType::Planar);
        let mut swr = ff::software::resampling::Context::get(
            f,
            ChannelLayout::STEREO,
            AUDIO_RATE,
            f,
            ChannelLayout::STEREO,
            AUDIO_RATE,
        )
        .map_err(MediaError::ffmpeg("create audio stretcher"))?;
        // SAFETY: swr is a valid, initialized SwrContext; (0, 0) only switches it to
        // resampling mode (re-initializing it), which compensation needs.
        let ret = unsafe { ff::ffi::swr_set_compensation(swr.as_mut_ptr(), 0, 0) };
        if ret < 0 {
            return Err(MediaError::Ffmpeg {
                context: "enable audio stretching",
                source: ff::Error::from(ret),
            });
        }
        Ok(Self { swr })
    }

    /// Resamples `left`/`right` (equal lengths `n`) into about `n + stretch` samples per
    /// channel, replacing `out_l`/`out_r`; the exact count is their new length (the
    /// resampler keeps a few samples of history and carries fractions between calls).
    pub fn run(
        &mut self,
        left: &[f32],
        right: &[f32],
        stretch: i64,
        out_l: &mut Vec<f32>,
        out_r: &mut Vec<f32>,
    ) -> Result<(), MediaError> {
        let n = left.len().min(right.len());
        let fail = |context| {
            move |ret: i32| MediaError::Ffmpeg {
                context,
                source: ff::Error::from(ret),
            }
        };
        let cap = n + stretch.unsigned_abs() as usize + 64;
        out_l.resize(cap, 0.0);
        out_r.resize(cap, 0.0);
        // SAFETY: swr is valid; the input pointers address `n` f32 per plane and the
        // output pointers `cap` f32 per plane, as passed; swr reads and writes no more.
        let got = unsafe {
            let ctx = self.swr.as_mut_ptr();
            // Set for every block, also to (0, 0): libswresample ends a compensation only
            // when its distance counts down to exactly 0 output samples, so a stale one
            // would otherwise go on stretching.
            let distance = if stretch == 0 { 0 } else { n as i64 + stretch };
            let ret = ff::ffi::swr_set_compensation(ctx, stretch as i32, distance as i32);
            if ret < 0 {
                return Err(fail("set audio stretch")(ret));
            }
            let mut outp = [
                out_l.as_mut_ptr().cast::<u8>(),
                out_r.as_mut_ptr().cast::<u8>(),
            ];
            let inp = [left.as_ptr().cast::<u8>(), right.as_ptr().cast::<u8>()];
            ff::ffi::swr_convert(
                ctx,
                outp.as_mut_ptr(),
                cap as i32,
                inp.as_ptr() as *mut *const u8,
                n as i32,
            )
        };
        if got < 0 {
            return Err(fail("stretch audio")(got));
        }
        out_l.truncate(got as usize);
        out_r.truncate(got as usize);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(n: usize, f: f64, phase0: usize) -> Vec<f32> {
        (0..n)
            .map(|i| (2.0 * std::f64::consts::PI * f * (i + phase0) as f64 / 48_000.0).sin() as f32)
            .collect()
    }

    #[test]
    fn keeps_length_without_stretch_and_changes_it_by_the_stretch() {
        let mut s = Stretcher::new().unwrap();
        let (mut l, mut r) = (Vec::new(), Vec::new());
        let mut total = 0usize;
        for k in 0..50 {
            let x = sine(960, 440.0, k * 960);
            s.run(&x, &x, 0, &mut l, &mut r).unwrap();
            total += l.len();
        }
        // 50 blocks in, 50 blocks out but the resampler's constant delay.
        let delay = 50 * 960 - total;
        assert!(delay <= 32, "delay {delay} samples");
        let mut stretched = 0usize;
        for k in 50..100 {
            let x = sine(960, 440.0, k * 960);
            s.run(&x, &x, -4, &mut l, &mut r).unwrap();
            stretched += l.len();
        }
        // 50 blocks shrunk by 4 samples each, within one sample of carry.
        assert!(
            (50 * 956 - 1..=50 * 956 + 1).contains(&stretched),
            "{stretched}"
        );
        // And unstretched again afterwards: 960 out per 960 in.
        let mut after = 0usize;
        for k in 100..150 {
            let x = sine(960, 440.0, k * 960);
            s.run(&x, &x, 0, &mut l, &mut r).unwrap();
            after += l.len();
        }
        assert!((50 * 960 - 1..=50 * 960 + 1).contains(&after), "{after}");
    }

    #[test]
    fn a_stretched_sine_stays_a_clean_sine() {
        let mut s = Stretcher::new().unwrap();
        let (mut l, mut r) = (Vec::new(), Vec::new());
        let mut out = Vec::new();
        for k in 0..20 {
            let x = sine(960, 1000.0, k * 960);
            s.run(&x, &x, 4, &mut l, &mut r).unwrap();
            out.extend_from_slice(&l);
        }
        // No click: consecutive samples of a 1 kHz sine at 48 kHz differ by at most
        // 2*pi*1000/48000 = 0.131 (times the 0.5 % lower pitch); a discontinuity would
        // jump further.
        let worst = out[64..]
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 0.135, "largest step {worst}");
    }
}
