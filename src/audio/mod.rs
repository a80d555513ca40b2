//! Audio on the output timeline: every source's PCM is written into a [`SampleRing`] at
//! its position on the mixer's 48 kHz timeline; the mixer reads one block per source per
//! tick, sums, and clips ([`mix_into`]). Gaps read as silence, so the output is
//! sample-continuous whatever the sources do.

pub mod placement;
pub mod ring;

pub use placement::AudioPlacement;
pub use ring::SampleRing;

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
