//! Audio on the output timeline: every source's PCM is written into a [`SampleRing`] at
//! its position on the mixer's 48 kHz timeline; the mixer reads one block per source per
//! tick, sums ([`mix_into`]), optionally normalises the loudness ([`loudness`]) and
//! limits ([`limiter`]). Gaps read as silence, so the output is
//! sample-continuous whatever the sources do. [`SourceAudio`] places each decoded block
//! ([`AudioPlacement`]) and stretches it when the source's clock drifts ([`Stretcher`]).

pub mod limiter;
pub mod loudness;
pub mod placement;
pub mod ring;
pub mod speaker;
pub mod stretch;

pub use placement::{AudioPlacement, Placed};
pub use ring::SampleRing;
pub use stretch::Stretcher;

use crate::time::SamplePos;

/// Adds `src` into `dst` sample by sample.
pub fn mix_into(dst: &mut [f32], src: &[f32]) {
    for (d, s) in dst.iter_mut().zip(src) {
        *d += *s;
    }
}

/// Clips every sample to [-1.0, 1.0] (the AAC encoder's float input range).
pub fn clip(buf: &mut [f32]) {
    for s in buf {
        *s = s.clamp(-1.0, 1.0);
    }
}

/// One source's audio on its way into its ring: placement policy plus stretcher.
pub struct SourceAudio {
    pub placement: AudioPlacement,
    stretcher: Option<Stretcher>,
    buf_l: Vec<f32>,
    buf_r: Vec<f32>,
}

impl Default for SourceAudio {
    fn default() -> Self {
        Self::new()
    }
}

impl SourceAudio {
    /// Nothing placed yet. Every block goes through the stretcher (even unstretched), so
    /// its delay (0.3 ms) is constant; if ffmpeg cannot create it, blocks go unstretched.
    pub fn new() -> Self {
        Self {
            placement: AudioPlacement::default(),
            stretcher: Stretcher::new().ok(),
            buf_l: Vec::new(),
            buf_r: Vec::new(),
        }
    }

    /// Writes a decoded block stamped `ts` (samples on the timeline) into `ring`,
    /// stretched as [`AudioPlacement`] decides. If the stretcher fails (it should not),
    /// the block is written unstretched. Returns the timeline position just after the
    /// written samples; samples the ring refused (too late, too early) are counted in
    /// the ring.
    pub fn push(
        &mut self,
        ts: SamplePos,
        left: &[f32],
        right: &[f32],
        ring: &mut SampleRing,
    ) -> SamplePos {
        let p = self.placement.place(ts.get(), left.len());
        let stretched = match &mut self.stretcher {
            Some(s) => s
                .run(left, right, p.stretch, &mut self.buf_l, &mut self.buf_r)
                .is_ok(),
            None => false,
        };
        let (l, r) = if stretched {
            (&self.buf_l[..], &self.buf_r[..])
        } else {
            (left, right)
        };
        ring.write(SamplePos::new(p.pos), l, r);
        self.placement.wrote(p.pos, l.len());
        SamplePos::new(p.pos + l.len() as i64)
    }

    /// Forgets the running position and the stretcher's history (after an SSRC change).
    pub fn reset(&mut self) {
        self.placement.reset();
        self.stretcher = Stretcher::new().ok();
    }
}
