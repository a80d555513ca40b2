//! The mixing core shared by live and offline mixers: on each tick, pick each region's
//! due picture and composite the output picture, and sum every source's audio due by
//! then; hand both to a [`MediaSink`] (the encoders and muxers of [`crate::output`], or a
//! test sink). It never reads a clock and never encodes: the caller decides when a tick
//! is due (wall clock for live, input progress for offline) and what the outputs are.
//!
//! Output timeline: picture `n` has pts `n` at timebase 1/fps and shows, per region, the
//! newest source picture with mixer time `<= n / fps`. Audio sample `s` (48 kHz) mixes
//! every source's ring at `s`, each scaled by its mix gain ([`SourceSlot::gain`], 0 when
//! muted; a change ramps linearly over one block), and passes the sum through the
//! look-ahead [`Limiter`] (ceiling [`DEFAULT_CEILING_DBFS`]): no sample of the mix
//! exceeds the ceiling, and a mix under it passes unchanged. The rings are read
//! [`MixCore::read_ahead`] (the limiter's look-ahead, 5 ms) ahead of the output, so the
//! limiter's delay does not shift the audio against the pictures. After tick `n` the
//! audio is handed over in blocks of [`AAC_FRAME_SAMPLES`] up to `n / fps`. The first
//! block starts at the sink's [`MediaSink::audio_start`] (the AAC encoder's priming: see
//! [`crate::output::EncodedOutput`]).
//!
//! What a tick produces follows the composite's media ([`Produce`]): without video
//! (an audio-only `.m4a`) nothing is composited and no picture is handed over, the
//! sources' due pictures are only consumed so that their queues stay short; without
//! audio no block is mixed; with neither (record mode single only: no composite) a tick
//! only advances the output clock. Ticks keep their pace either way, so a stop drains
//! the same playout delay.

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use ffmpeg_next::format::Pixel;
use ffmpeg_next::frame;

use crate::audio::limiter::{Limiter, DEFAULT_CEILING_DBFS};
use crate::audio::loudness::LoudnessNormalizer;
use crate::audio::speaker::{ActiveSpeaker, SpeakerChange, SpeakerConfig};
use crate::compose::{Compositor, SourceFrame};
use crate::layout::Layout;
use crate::media::encode::AAC_FRAME_SAMPLES;
use crate::mixer::slot::{SourceSlot, SILENT_DBFS};
use crate::model::{Encoding, MixerError, OutputMedia};
use crate::output::MediaSink;
use crate::time::{rescale_floor, MixerTime, SamplePos, AUDIO_RATE, MICROS, MILLIS};

/// What each tick hands to the sink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Produce {
    /// Composite pictures.
    pub video: bool,
    /// Mixed audio blocks.
    pub audio: bool,
}

impl Produce {
    /// Pictures and audio (the default).
    pub const AV: Produce = Produce {
        video: true,
        audio: true,
    };
    /// Nothing: no composite is made.
    pub const NOTHING: Produce = Produce {
        video: false,
        audio: false,
    };

    /// What a composite of `media` needs; `None` (no composite) needs nothing.
    pub fn of(media: Option<OutputMedia>) -> Produce {
        match media {
            None => Produce::NOTHING,
            Some(m) => Produce {
                video: crate::output::encoded::has_video(m),
                audio: crate::output::encoded::has_audio(m),
            },
        }
    }
}

/// See the module docs.
pub struct MixCore {
    fps: u32,
    /// The compositor and its canvas; None when no picture is produced.
    video: Option<(Compositor, frame::Video)>,
    produce: Produce,
    /// The first audio sample position (the sink's [`MediaSink::audio_start`]).
    audio_start: SamplePos,
    layout: Layout,
    slots: Vec<SourceSlot>,
    frames_out: u64,
    audio_out: SamplePos,
    mix_l: Vec<f32>,
    mix_r: Vec<f32>,
    /// One source's block before its gain is applied.
    src_l: Vec<f32>,
    src_r: Vec<f32>,
    /// The linear gain applied to each camid at the end of the last block.
    applied_gain: HashMap<String, f32>,
    /// Loudness normalisation before the limiter (`Encoding::loudness_target_lufs`).
    loudness: Option<LoudnessNormalizer>,
    limiter: Limiter,
    /// Next ring position to mix (the limiter's look-ahead ahead of `audio_out`), None
    /// before the first block.
    mix_in: Option<SamplePos>,
    shown: HashMap<String, SourceFrame>,
    speaker: ActiveSpeaker,
    /// Whether a speaker change promotes the speaker to the main tile.
    follow_speaker: bool,
    speaker_changes: Vec<SpeakerChange>,
}

impl MixCore {
    /// A core for the canvas, frame rate and background of `canvas` showing `layout`,
    /// whose audio starts at sample `audio_start` (the sink's
    /// [`MediaSink::audio_start`]), producing pictures and audio. Allocates the canvas;
    /// opens nothing.
    pub fn new(canvas: &Encoding, layout: Layout, audio_start: SamplePos) -> Self {
        Self::producing(canvas, layout, audio_start, Produce::AV)
    }

    /// [`MixCore::new`] producing only what `produce` says; without video no canvas is
    /// allocated.
    pub fn producing(
        canvas: &Encoding,
        layout: Layout,
        audio_start: SamplePos,
        produce: Produce,
    ) -> Self {
        Self {
            fps: canvas.fps,
            video: produce.video.then(|| {
                let mut compositor =
                    Compositor::new(canvas.width, canvas.height, canvas.background);
                compositor.set_speaking_ring(canvas.speaking_ring);
                compositor.set_region_border(canvas.border.map(|b| (b.colour, b.px)));
                compositor.set_background_image(canvas.background_image.clone());
                (
                    compositor,
                    frame::Video::new(Pixel::YUV420P, canvas.width, canvas.height),
                )
            }),
            produce,
            audio_start,
            layout,
            slots: Vec::new(),
            frames_out: 0,
            audio_out: audio_start,
            mix_l: vec![0.0; AAC_FRAME_SAMPLES],
            mix_r: vec![0.0; AAC_FRAME_SAMPLES],
            src_l: vec![0.0; AAC_FRAME_SAMPLES],
            src_r: vec![0.0; AAC_FRAME_SAMPLES],
            applied_gain: HashMap::new(),
            loudness: canvas
                .loudness_target_lufs
                .and_then(|t| LoudnessNormalizer::new(f64::from(t), AUDIO_RATE)),
            limiter: Limiter::new(DEFAULT_CEILING_DBFS, AUDIO_RATE),
            mix_in: None,
            shown: HashMap::new(),
            speaker: ActiveSpeaker::new(SpeakerConfig::default()),
            follow_speaker: false,
            speaker_changes: Vec::new(),
        }
    }

    /// Whether the main tile follows the active speaker from the next picture on (the
    /// `speaker` preset filled from the sources, no host pinned).
    pub fn set_follow_speaker(&mut self, follow: bool) {
        self.follow_speaker = follow;
        if let Some(l) = follow
            .then(|| self.speaker.active().and_then(|c| self.layout.promote(c)))
            .flatten()
        {
            self.set_layout(l);
        }
    }

    /// The active-speaker changes since the last call, oldest first.
    pub fn take_speaker_changes(&mut self) -> Vec<SpeakerChange> {
        std::mem::take(&mut self.speaker_changes)
    }

    /// Replaces the layout from the next tick on. Sources that the new layout shows and
    /// the old one did not are asked for a keyframe.
    pub fn set_layout(&mut self, layout: Layout) {
        for slot in &self.slots {
            let shown = |l: &Layout| l.regions.iter().any(|r| r.camid == slot.camid);
            if shown(&layout) && !shown(&self.layout) {
                slot.keyframe_wanted.store(true, Ordering::Relaxed);
            }
        }
        self.layout = layout;
    }

    /// The layout in force.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// Adds a source (replacing one with the same camid).
    pub fn add_slot(&mut self, slot: SourceSlot) {
        self.remove_slot(&slot.camid.clone());
        self.slots.push(slot);
        self.relabel();
    }

    /// Gives the compositor the sources' display names.
    fn relabel(&mut self) {
        if let Some((compositor, _)) = &mut self.video {
            let names = self
                .slots
                .iter()
                .map(|s| (s.camid.clone(), s.label.clone()));
            compositor.set_labels(names.collect());
        }
    }

    /// Removes a source; its regions show the placeholder.
    pub fn remove_slot(&mut self, camid: &str) {
        self.slots.retain(|s| s.camid != camid);
        self.speaker.forget(camid);
        self.relabel();
    }

    /// Output pictures per second.
    pub fn fps(&self) -> u32 {
        self.fps
    }

    /// What each tick produces.
    pub fn produce(&self) -> Produce {
        self.produce
    }

    /// Ticks made so far (pictures written, when pictures are produced).
    pub fn frames_out(&self) -> u64 {
        self.frames_out
    }

    /// Mixer time of output picture `n`.
    pub fn picture_time(&self, n: u64) -> MixerTime {
        MixerTime::of_picture(n, self.fps)
    }

    /// Media written so far, ms: pictures * 1000 / fps; without pictures, the audio
    /// written (samples from 0 to the end of the last block, * 1000 / 48000); 0 when
    /// nothing is produced.
    pub fn duration_ms(&self) -> u64 {
        if self.produce.video {
            rescale_floor(self.frames_out as i64, self.fps, MILLIS).max(0) as u64
        } else if self.produce.audio && self.audio_out > self.audio_start {
            self.audio_out.to_mixer_time().as_millis().max(0) as u64
        } else {
            0
        }
    }

    /// The source picture each camid showed in the last tick (camids without a live
    /// picture are absent: their regions showed the placeholder).
    pub fn shown(&self) -> &HashMap<String, SourceFrame> {
        &self.shown
    }

    /// Produces output picture `frames_out` and the audio due by its time, into `out`
    /// (as far as [`Produce`] says). Errors: whatever `out` returns.
    pub fn tick(&mut self, out: &mut dyn MediaSink) -> Result<(), MixerError> {
        let n = self.frames_out;
        let t = self.picture_time(n);
        self.shown.clear();
        match &mut self.video {
            Some((compositor, canvas)) => {
                for slot in &self.slots {
                    if let Some(f) = slot.frames.lock().select(t) {
                        self.shown.insert(slot.camid.clone(), f.clone());
                    }
                }
                compositor.compose(&self.layout, &self.shown, canvas);
                canvas.set_pts(Some(n as i64));
                out.picture(canvas, n)?;
            }
            None => {
                // Nothing shown: only retire the due pictures (queues stay short).
                for slot in &self.slots {
                    let _ = slot.frames.lock().select(t);
                }
            }
        }
        self.frames_out += 1;
        if !self.produce.audio {
            return Ok(());
        }
        self.audio_until(t.to_samples(), out)
    }

    /// Mixes audio blocks while a whole block ends at or before sample `end`.
    fn audio_until(&mut self, end: SamplePos, out: &mut dyn MediaSink) -> Result<(), MixerError> {
        while self.audio_out.plus(AAC_FRAME_SAMPLES as i64) <= end {
            self.mix_audio_block(out, false)?;
        }
        Ok(())
    }

    /// How far ahead of the output the sources' audio is read: the limiter's look-ahead
    /// (an offline input must be decoded this far past a picture's time).
    pub fn read_ahead(&self) -> MixerTime {
        MixerTime::from_micros(rescale_floor(
            self.limiter.lookahead() as i64,
            AUDIO_RATE,
            MICROS,
        ))
    }

    /// Output samples the limiter turned down so far (its gain below 1).
    pub fn limited_samples(&self) -> u64 {
        self.limiter.limited_samples
    }

    /// Sums every source's ring over the next block, each at its gain, normalises its
    /// loudness (if asked), limits the sum, hands it to `out`.
    /// With `fade_out` the block ramps linearly to silence (the recording's last block: a
    /// tone cut off at full level decodes from AAC with up to ~3 dB of overshoot).
    fn mix_audio_block(
        &mut self,
        out: &mut dyn MediaSink,
        fade_out: bool,
    ) -> Result<(), MixerError> {
        let mix_in = match self.mix_in {
            Some(p) => p,
            None => {
                // Fill the limiter's delay line with the first look-ahead of the mix.
                let n = self.limiter.lookahead();
                self.mix_sources(self.audio_out, n);
                let (l, r) = (&mut self.mix_l[..n], &mut self.mix_r[..n]);
                if let Some(norm) = &mut self.loudness {
                    norm.process(l, r);
                }
                self.limiter.process(l, r);
                self.audio_out.plus(n as i64)
            }
        };
        self.mix_sources(mix_in, AAC_FRAME_SAMPLES);
        self.observe_speaker();
        if let Some(norm) = &mut self.loudness {
            norm.process(&mut self.mix_l, &mut self.mix_r);
        }
        self.limiter.process(&mut self.mix_l, &mut self.mix_r);
        if fade_out {
            let n = self.mix_l.len() as f32;
            for (i, (l, r)) in self.mix_l.iter_mut().zip(&mut self.mix_r).enumerate() {
                let g = 1.0 - (i + 1) as f32 / n;
                *l *= g;
                *r *= g;
            }
        }
        out.audio(&self.mix_l, &self.mix_r, self.audio_out)?;
        self.mix_in = Some(mix_in.plus(AAC_FRAME_SAMPLES as i64));
        self.audio_out = self.audio_out.plus(AAC_FRAME_SAMPLES as i64);
        Ok(())
    }

    /// Feeds the block's levels (measured by [`Self::mix_sources`] before gain; a source
    /// muted in the mix counts as silent: viewers do not hear it) to the active-speaker
    /// detector, at the block's output
    /// time; a switch promotes the speaker when the layout follows it (the compositor
    /// shows it from the next picture: a frame boundary).
    fn observe_speaker(&mut self) {
        let start = self.audio_out.to_mixer_time();
        let len = std::time::Duration::from_micros(rescale_floor(
            AAC_FRAME_SAMPLES as i64,
            AUDIO_RATE,
            MICROS,
        ) as u64);
        let levels = self.slots.iter().map(|s| {
            let db = if s.gain() > 0.0 {
                s.level_dbfs()
            } else {
                SILENT_DBFS
            };
            (s.camid.as_str(), db)
        });
        let Some(change) = self.speaker.observe(start, len, levels) else {
            return;
        };
        if self.follow_speaker {
            if let Some(l) = self.layout.promote(&change.camid) {
                self.set_layout(l);
            }
        }
        if let Some((compositor, _)) = &mut self.video {
            compositor.set_speaking(Some(&change.camid));
        }
        self.speaker_changes.push(change);
    }

    /// Sums `n` samples of every source's ring from `pos` into `mix_l`/`mix_r[..n]`, each
    /// scaled by its gain, ramped from the gain of the previous block.
    fn mix_sources(&mut self, pos: SamplePos, n: usize) {
        self.mix_l[..n].fill(0.0);
        self.mix_r[..n].fill(0.0);
        for slot in &self.slots {
            let (sl, sr) = (&mut self.src_l[..n], &mut self.src_r[..n]);
            sl.fill(0.0);
            sr.fill(0.0);
            slot.audio.lock().read_add(pos, sl, sr);
            slot.measure(sl, sr);
            let to = slot.gain();
            let from = *self.applied_gain.get(&slot.camid).unwrap_or(&to);
            self.applied_gain.insert(slot.camid.clone(), to);
            if from == 1.0 && to == 1.0 {
                crate::audio::mix_into(&mut self.mix_l[..n], sl);
                crate::audio::mix_into(&mut self.mix_r[..n], sr);
                continue;
            }
            let step = (to - from) / n as f32;
            for i in 0..n {
                let g = from + step * (i + 1) as f32;
                self.mix_l[i] += sl[i] * g;
                self.mix_r[i] += sr[i] * g;
            }
        }
    }

    /// Mixes the audio up to the end of the last picture (the last block may extend it
    /// by less than one AAC frame, and fades out), then finishes `out` (flush encoders, complete files).
    pub fn finish(&mut self, out: &mut dyn MediaSink) -> Result<(), MixerError> {
        let end = self.picture_time(self.frames_out).to_samples();
        while self.produce.audio && self.audio_out < end {
            let last = self.audio_out.plus(AAC_FRAME_SAMPLES as i64) >= end;
            self.mix_audio_block(out, last)?;
        }
        out.finish()
    }
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;
