//! The mixing core shared by live and offline mixers: on each tick, pick each region's
//! due picture and composite the output picture, and sum every source's audio due by
//! then; hand both to a [`MediaSink`] (the encoders and muxers of [`crate::output`], or a
//! test sink). It never reads a clock and never encodes: the caller decides when a tick
//! is due (wall clock for live, input progress for offline) and what the outputs are.
//!
//! Output timeline: picture `n` has pts `n` at timebase 1/fps and shows, per region, the
//! newest source picture with mixer time `<= n / fps`. Audio sample `s` (48 kHz) mixes
//! every source's ring at `s`; after tick `n` the audio is handed over in blocks of
//! [`AAC_FRAME_SAMPLES`] up to `n / fps`. The first block starts at the sink's
//! [`MediaSink::audio_start`] (the AAC encoder's priming: see
//! [`crate::output::EncodedOutput`]).

use std::collections::HashMap;
use std::sync::atomic::Ordering;

use ffmpeg_next::format::Pixel;
use ffmpeg_next::frame;

use crate::audio::clip;
use crate::compose::{Compositor, SourceFrame};
use crate::layout::Layout;
use crate::media::encode::AAC_FRAME_SAMPLES;
use crate::mixer::slot::SourceSlot;
use crate::model::{Encoding, MixerError};
use crate::output::MediaSink;
use crate::time::{rescale_floor, MixerTime, SamplePos, MILLIS};

/// See the module docs.
pub struct MixCore {
    fps: u32,
    compositor: Compositor,
    canvas: frame::Video,
    layout: Layout,
    slots: Vec<SourceSlot>,
    frames_out: u64,
    audio_out: SamplePos,
    mix_l: Vec<f32>,
    mix_r: Vec<f32>,
    shown: HashMap<String, SourceFrame>,
}

impl MixCore {
    /// A core for the canvas, frame rate and background of `canvas` showing `layout`, whose audio starts at sample `audio_start`
    /// (the sink's [`MediaSink::audio_start`]). Allocates the canvas; opens nothing.
    pub fn new(canvas: &Encoding, layout: Layout, audio_start: SamplePos) -> Self {
        Self {
            fps: canvas.fps,
            compositor: Compositor::new(canvas.width, canvas.height, canvas.background),
            canvas: frame::Video::new(Pixel::YUV420P, canvas.width, canvas.height),
            layout,
            slots: Vec::new(),
            frames_out: 0,
            audio_out: audio_start,
            mix_l: vec![0.0; AAC_FRAME_SAMPLES],
            mix_r: vec![0.0; AAC_FRAME_SAMPLES],
            shown: HashMap::new(),
        }
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
    }

    /// Removes a source; its regions show the placeholder.
    pub fn remove_slot(&mut self, camid: &str) {
        self.slots.retain(|s| s.camid != camid);
    }

    /// Output pictures per second.
    pub fn fps(&self) -> u32 {
        self.fps
    }

    /// Pictures written so far.
    pub fn frames_out(&self) -> u64 {
        self.frames_out
    }

    /// Mixer time of output picture `n`.
    pub fn picture_time(&self, n: u64) -> MixerTime {
        MixerTime::of_picture(n, self.fps)
    }

    /// Media written so far, ms (pictures * 1000 / fps).
    pub fn duration_ms(&self) -> u64 {
        rescale_floor(self.frames_out as i64, self.fps, MILLIS).max(0) as u64
    }

    /// The source picture each camid showed in the last tick (camids without a live
    /// picture are absent: their regions showed the placeholder).
    pub fn shown(&self) -> &HashMap<String, SourceFrame> {
        &self.shown
    }

    /// Produces output picture `frames_out` and the audio due by its time, into `out`.
    /// Errors: whatever `out` returns.
    pub fn tick(&mut self, out: &mut dyn MediaSink) -> Result<(), MixerError> {
        let n = self.frames_out;
        let t = self.picture_time(n);
        self.shown.clear();
        for slot in &self.slots {
            if let Some(f) = slot.frames.lock().select(t) {
                self.shown.insert(slot.camid.clone(), f.clone());
            }
        }
        self.compositor
            .compose(&self.layout, &self.shown, &mut self.canvas);
        self.canvas.set_pts(Some(n as i64));
        out.picture(&self.canvas, n)?;
        self.frames_out += 1;
        self.audio_until(t.to_samples(), out)
    }

    /// Mixes audio blocks while a whole block ends at or before sample `end`.
    fn audio_until(&mut self, end: SamplePos, out: &mut dyn MediaSink) -> Result<(), MixerError> {
        while self.audio_out.plus(AAC_FRAME_SAMPLES as i64) <= end {
            self.mix_audio_block(out)?;
        }
        Ok(())
    }

    /// Sums every source's ring over the next block, clips, hands it to `out`.
    fn mix_audio_block(&mut self, out: &mut dyn MediaSink) -> Result<(), MixerError> {
        self.mix_l.fill(0.0);
        self.mix_r.fill(0.0);
        for slot in &self.slots {
            slot.audio
                .lock()
                .read_add(self.audio_out, &mut self.mix_l, &mut self.mix_r);
        }
        clip(&mut self.mix_l);
        clip(&mut self.mix_r);
        out.audio(&self.mix_l, &self.mix_r, self.audio_out)?;
        self.audio_out = self.audio_out.plus(AAC_FRAME_SAMPLES as i64);
        Ok(())
    }

    /// Mixes the audio up to the end of the last picture (the last block may extend it
    /// by less than one AAC frame), then finishes `out` (flush encoders, complete files).
    pub fn finish(&mut self, out: &mut dyn MediaSink) -> Result<(), MixerError> {
        let end = self.picture_time(self.frames_out).to_samples();
        while self.audio_out < end {
            self.mix_audio_block(out)?;
        }
        out.finish()
    }
}

#[cfg(test)]
#[path = "core_tests.rs"]
mod tests;
