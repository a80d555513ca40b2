//! A participant's audio as AAC: its decoded PCM placed on a timeline of its own (the
//! same placement and hysteresis as the composite's, [`crate::audio::SourceAudio`]) and
//! encoded once, block by block, as time passes; the packets go to every file of the
//! span that holds AAC (the `.mp4` and the `.aac`/`.m4a`).
//!
//! Timeline: sample positions are the mixer's (48 kHz since its epoch); `origin` is the
//! span's start, the files' time 0. Like the composite, encoding starts at `origin +`
//! the encoder's priming (1024 samples) with pts = position - origin, so the priming
//! packet has pts 0 and nothing is negative (the first 21 ms of the span are the
//! priming's silence). A block is encoded once its time is past (`encode_until`, called
//! with the mixer's now minus the playout delay), so missing audio (loss beyond
//! concealment, a muted sender) is silence and the track stays sample-continuous.

use ffmpeg_next::Packet;

use crate::audio::{SampleRing, SourceAudio};
use crate::media::encode::{AacCoder, AudioEncoder, AAC_FRAME_SAMPLES};
use crate::media::MediaError;
use crate::output::StreamInfo;
use crate::time::{MixerTime, SamplePos};

/// Samples the track holds ahead of its encoder: 5 s.
const RING_SAMPLES: usize = 240_000;

/// See the module docs.
pub struct AacTrack {
    audio: SourceAudio,
    ring: SampleRing,
    enc: AudioEncoder,
    origin: i64,
    next: i64,
    block_l: Vec<f32>,
    block_r: Vec<f32>,
}

impl AacTrack {
    /// An AAC encoder at `bit_rate` bit/s (headers out of band, as MP4 needs; ADTS
    /// reads them too; the fast coder: one runs per participant) for a span starting
    /// at `origin`.
    /// Errors: the encoder cannot be opened.
    pub fn open(bit_rate: u32, origin: SamplePos) -> Result<Self, MediaError> {
        let enc = AudioEncoder::open_with_coder(bit_rate, true, AacCoder::Fast)?;
        let mut ring = SampleRing::new(RING_SAMPLES);
        ring.read_add(origin, &mut [], &mut []);
        Ok(Self {
            next: origin.get() + enc.priming_samples(),
            origin: origin.get(),
            audio: SourceAudio::new(),
            ring,
            enc,
            block_l: vec![0.0; AAC_FRAME_SAMPLES],
            block_r: vec![0.0; AAC_FRAME_SAMPLES],
        })
    }

    /// The stream as a muxer declares it (timebase 1/48000).
    pub fn stream(&self) -> StreamInfo {
        StreamInfo {
            parameters: self.enc.parameters(),
            time_base: self.enc.time_base(),
        }
    }

    /// Places a decoded block stamped `t` (mixer time of its first sample).
    pub fn push(&mut self, t: MixerTime, left: &[f32], right: &[f32]) {
        self.audio.push(t.to_samples(), left, right, &mut self.ring);
    }

    /// Encodes every whole block ending at or before `until`; packets are appended to
    /// `out` (pts in samples since the origin, timebase 1/48000).
    /// Errors: the encoder failed.
    pub fn encode_until(
        &mut self,
        until: SamplePos,
        out: &mut Vec<Packet>,
    ) -> Result<(), MediaError> {
        let n = AAC_FRAME_SAMPLES as i64;
        while self.next + n <= until.get() {
            self.block_l.fill(0.0);
            self.block_r.fill(0.0);
            self.ring.read_add(
                SamplePos::new(self.next),
                &mut self.block_l,
                &mut self.block_r,
            );
            crate::audio::clip(&mut self.block_l);
            crate::audio::clip(&mut self.block_r);
            self.enc
                .encode(&self.block_l, &self.block_r, self.next - self.origin, out)?;
            self.next += n;
        }
        Ok(())
    }

    /// Encodes up to `end` (rounded up to a whole block) and flushes the encoder.
    /// Errors: the encoder failed.
    pub fn finish(&mut self, end: SamplePos, out: &mut Vec<Packet>) -> Result<(), MediaError> {
        let n = AAC_FRAME_SAMPLES as i64;
        let end = end.get().max(self.next);
        let rounded = self.next + (end - self.next + n - 1) / n * n;
        self.encode_until(SamplePos::new(rounded), out)?;
        self.enc.finish(out)
    }

    /// Samples encoded since the origin (the track's length, priming included).
    pub fn encoded_samples(&self) -> i64 {
        self.next - self.origin
    }
}
