//! The mixing core shared by live and offline mixers: on each tick, composite one output
//! picture from every source's due frame, mix the audio due by then, encode both and
//! write them to the MP4. It never reads a clock: the caller decides when a tick is due
//! (wall clock for live, input progress for offline).
//!
//! Output timeline: picture `n` has pts `n` at timebase 1/fps and shows, per region, the
//! newest source picture with mixer time `<= n / fps`. Audio sample `s` (48 kHz) mixes
//! every source's ring at `s`; after tick `n` the audio is written up to `n / fps`. The
//! AAC encoder's priming packet covers samples `[0, 1024)` (see [`MixCore::open`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ffmpeg_next::format::Pixel;
use ffmpeg_next::{frame, Packet};
use parking_lot::Mutex;

use crate::audio::ring::DEFAULT_RING_SAMPLES;
use crate::audio::{clip, SampleRing};
use crate::compose::{Compositor, SourceFrame};
use crate::layout::Layout;
use crate::media::encode::{
    AudioEncoder, Latency, VideoEncoder, VideoEncoderConfig, AAC_FRAME_SAMPLES,
};
use crate::media::mux::Mp4Muxer;
use crate::media::MediaError;
use crate::mixer::frame_queue::FrameQueue;
use crate::mixer::{MixerError, OutputSpec};
use crate::time::{rescale_floor, AUDIO_RATE, MICROS, MILLIS};

/// What a source shares with the core: its due pictures and its PCM on the timeline.
#[derive(Clone)]
pub struct SourceSlot {
    pub camid: String,
    pub frames: Arc<Mutex<FrameQueue>>,
    pub audio: Arc<Mutex<SampleRing>>,
    /// Set by the mixer when a keyframe is wanted now (the source became visible);
    /// the source's worker sends a PLI and clears it.
    pub keyframe_wanted: Arc<AtomicBool>,
}

impl SourceSlot {
    /// An empty slot: no pictures, silence. A picture older than `stale_after_us` (µs)
    /// shows the region's placeholder (e.g. [`crate::mixer::DEFAULT_STALE_US`]).
    pub fn new(camid: &str, stale_after_us: i64) -> Self {
        Self {
            camid: camid.to_owned(),
            frames: Arc::new(Mutex::new(FrameQueue::new(stale_after_us))),
            audio: Arc::new(Mutex::new(SampleRing::new(DEFAULT_RING_SAMPLES))),
            keyframe_wanted: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// See the module docs.
pub struct MixCore {
    fps: u32,
    compositor: Compositor,
    canvas: frame::Video,
    layout: Layout,
    slots: Vec<SourceSlot>,
    venc: VideoEncoder,
    aenc: AudioEncoder,
    mux: Mp4Muxer,
    video_stream: usize,
    audio_stream: usize,
    frames_out: u64,
    audio_out: i64,
    packets: Vec<Packet>,
    mix_l: Vec<f32>,
    mix_r: Vec<f32>,
    shown: HashMap<String, SourceFrame>,
}

impl MixCore {
    /// Creates the output file (and its directory) and opens the encoders; `latency`
    /// chooses the H.264 encoder's picture buffering (live mixers use `Low`).
    /// Errors: `Output` if the file cannot be created or an encoder cannot be opened.
    pub fn open(out: &OutputSpec, layout: Layout, latency: Latency) -> Result<Self, MixerError> {
        let fail = |m: String| MixerError::Output {
            path: out.rel_path.clone(),
            message: m,
        };
        if let Some(dir) = out.abs_path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| fail(e.to_string()))?;
        }
        let mut mux = Mp4Muxer::create(&out.abs_path).map_err(|e| fail(e.to_string()))?;
        let global_header = mux.needs_global_header();
        let venc = VideoEncoder::open(&VideoEncoderConfig {
            width: out.width,
            height: out.height,
            fps: out.fps,
            bit_rate: out.video_bps,
            preset: out.x264_preset.clone(),
            threads: out.encoder_threads,
            global_header,
            latency,
        })
        .map_err(|e| fail(e.to_string()))?;
        let aenc =
            AudioEncoder::open(out.audio_bps, global_header).map_err(|e| fail(e.to_string()))?;
        let video_stream = mux
            .add_stream(venc.parameters(), venc.time_base())
            .map_err(|e| fail(e.to_string()))?;
        let audio_stream = mux
            .add_stream(aenc.parameters(), aenc.time_base())
            .map_err(|e| fail(e.to_string()))?;
        mux.start().map_err(|e| fail(e.to_string()))?;
        // The AAC encoder's priming samples cover the timeline's first samples: encoding
        // starts at timeline sample `priming` with pts = timeline position, so the
        // priming packet gets pts 0, no packet is negative (no muxer shift, which in a
        // fragmented MP4 without B-frames would stretch the first picture), and every
        // decoded sample lands exactly at its timeline position. The timeline's first
        // 21 ms are inside the playout delay: no source has audio there.
        let audio_out = aenc.priming_samples();
        Ok(Self {
            fps: out.fps,
            compositor: Compositor::new(out.width, out.height, out.background),
            canvas: frame::Video::new(Pixel::YUV420P, out.width, out.height),
            layout,
            slots: Vec::new(),
            venc,
            aenc,
            mux,
            video_stream,
            audio_stream,
            frames_out: 0,
            audio_out,
            packets: Vec::new(),
            mix_l: vec![0.0; AAC_FRAME_SAMPLES],
            mix_r: vec![0.0; AAC_FRAME_SAMPLES],
            shown: HashMap::new(),
        })
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

    /// Pictures written so far.
    pub fn frames_out(&self) -> u64 {
        self.frames_out
    }

    /// Mixer time (µs) of output picture `n`.
    pub fn picture_time_us(&self, n: u64) -> i64 {
        rescale_floor(n as i64, self.fps, MICROS)
    }

    /// Media written so far, ms (pictures * 1000 / fps).
    pub fn duration_ms(&self) -> u64 {
        rescale_floor(self.frames_out as i64, self.fps, MILLIS).max(0) as u64
    }

    /// Bytes on disk now.
    pub fn size_bytes(&self) -> u64 {
        self.mux.size_bytes()
    }

    /// Produces output picture `frames_out` and the audio due by its time.
    pub fn tick(&mut self) -> Result<(), MediaError> {
        let n = self.frames_out;
        let t = self.picture_time_us(n);
        self.shown.clear();
        for slot in &self.slots {
            if let Some(f) = slot.frames.lock().select(t) {
                self.shown.insert(slot.camid.clone(), f.clone());
            }
        }
        self.compositor
            .compose(&self.layout, &self.shown, &mut self.canvas);
        self.canvas.set_pts(Some(n as i64));
        self.packets.clear();
        self.venc.encode(&self.canvas, &mut self.packets)?;
        self.write_packets(self.video_stream)?;
        self.frames_out += 1;
        self.audio_until(rescale_floor(t, MICROS, AUDIO_RATE))
    }

    /// Encodes audio blocks while a whole block ends at or before sample `end`.
    fn audio_until(&mut self, end: i64) -> Result<(), MediaError> {
        while self.audio_out + AAC_FRAME_SAMPLES as i64 <= end {
            self.encode_audio_block()?;
        }
        Ok(())
    }

    fn encode_audio_block(&mut self) -> Result<(), MediaError> {
        self.mix_l.fill(0.0);
        self.mix_r.fill(0.0);
        for slot in &self.slots {
            slot.audio
                .lock()
                .read_add(self.audio_out, &mut self.mix_l, &mut self.mix_r);
        }
        clip(&mut self.mix_l);
        clip(&mut self.mix_r);
        self.packets.clear();
        self.aenc
            .encode(&self.mix_l, &self.mix_r, self.audio_out, &mut self.packets)?;
        self.write_packets(self.audio_stream)?;
        self.audio_out += AAC_FRAME_SAMPLES as i64;
        Ok(())
    }

    fn write_packets(&mut self, stream: usize) -> Result<(), MediaError> {
        for p in self.packets.drain(..) {
            self.mux.write(stream, p)?;
        }
        Ok(())
    }

    /// Writes the audio up to the end of the last picture (the last block may extend it
    /// by less than one AAC frame), flushes both encoders and completes the file.
    pub fn finish(&mut self) -> Result<(), MediaError> {
        let end = rescale_floor(self.frames_out as i64, self.fps, AUDIO_RATE);
        while self.audio_out < end {
            self.encode_audio_block()?;
        }
        self.packets.clear();
        self.venc.finish(&mut self.packets)?;
        self.write_packets(self.video_stream)?;
        self.aenc.finish(&mut self.packets)?;
        self.write_packets(self.audio_stream)?;
        self.mux.finish()
    }
}
