//! Offline mixing from media files on a virtual clock, as fast as the CPU allows.
//!
//! The same [`MixCore`] as the live mixer; only the clock differs: before output picture
//! `n` is made, every input is read until its decoded video and audio reach past the
//! picture's time `n / fps` (or the input ends). Input time 0 is each file's start time.
//! The job ends when every input is exhausted and the output has reached the end of the
//! longest one, or at `max_duration_ms`.

use std::path::PathBuf;

use crate::audio::SourceAudio;
use crate::events::{OutputInfo, OutputStatus};
use crate::layout::Layout;
use crate::media::demux::{Decoded, Demuxer};
use crate::media::encode::Latency;
use crate::mixer::core::{MixCore, Produce};
use crate::mixer::slot::SourceSlot;
use crate::model::{MixerError, OutputSpec, DEFAULT_STALE_TIMEOUT};
use crate::output::{EncodedOutput, MediaSink};
use crate::time::MixerTime;

/// One input file and the camid its picture and sound are known by in the layout.
#[derive(Debug, Clone)]
pub struct OfflineInput {
    pub camid: String,
    pub path: PathBuf,
}

/// A whole offline job.
#[derive(Debug, Clone)]
pub struct OfflineJob {
    pub inputs: Vec<OfflineInput>,
    pub layout: Layout,
    pub output: OutputSpec,
    /// Stop after this much output media, ms; None = until the longest input ends.
    pub max_duration_ms: Option<u64>,
}

struct Input {
    demux: Demuxer,
    slot: SourceSlot,
    audio: SourceAudio,
    /// Time of the newest decoded picture (None: none yet).
    video_until: Option<MixerTime>,
    /// End of the newest placed PCM (None: none yet).
    audio_until: Option<MixerTime>,
    decoded: Decoded,
}

impl Input {
    /// Covered up to: the lagging medium decides.
    fn covered_until(&self) -> MixerTime {
        let v = self
            .demux
            .has_video()
            .then(|| self.video_until.unwrap_or(MixerTime::MIN));
        let a = self
            .demux
            .has_audio()
            .then(|| self.audio_until.unwrap_or(MixerTime::MIN));
        match (v, a) {
            (Some(v), Some(a)) => v.min(a),
            (Some(v), None) => v,
            (None, Some(a)) => a,
            (None, None) => MixerTime::MAX,
        }
    }

    fn end(&self) -> MixerTime {
        self.video_until
            .unwrap_or(MixerTime::ZERO)
            .max(self.audio_until.unwrap_or(MixerTime::ZERO))
    }

    /// Reads until this input covers `t` or ends.
    fn fill_until(&mut self, t: MixerTime) -> Result<(), MixerError> {
        while !self.demux.is_eof() && self.covered_until() <= t {
            self.demux
                .step(&mut self.decoded)
                .map_err(|e| MixerError::Internal(format!("{}: {e}", self.slot.camid)))?;
            self.drain_decoded();
        }
        Ok(())
    }

    fn drain_decoded(&mut self) {
        for pic in self.decoded.pictures.drain(..) {
            let t = MixerTime::from_micros(pic.pts().unwrap_or(0));
            self.video_until = Some(self.video_until.map_or(t, |v| v.max(t)));
            self.slot.frames.lock().push(t, pic);
        }
        for pcm in self.decoded.pcm.drain(..) {
            let ts = MixerTime::from_micros(pcm.pts).to_samples();
            let end = self
                .audio
                .push(ts, &pcm.left, &pcm.right, &mut self.slot.audio.lock())
                .to_mixer_time();
            self.audio_until = Some(self.audio_until.map_or(end, |a| a.max(end)));
        }
    }
}

/// Runs the job to completion on the calling thread; returns the final output info.
/// Errors: `InvalidArgument` (an input cannot be opened: field `input[i]`), `Output`,
/// `Internal` (decoding or encoding failed).
pub fn run(job: OfflineJob) -> Result<OutputInfo, MixerError> {
    crate::media::init();
    let mut inputs = Vec::with_capacity(job.inputs.len());
    for (i, inp) in job.inputs.iter().enumerate() {
        let demux = Demuxer::open(&inp.path).map_err(|e| {
            MixerError::invalid(
                format!("input[{i}]"),
                format!("{}: {e}", inp.path.display()),
            )
        })?;
        inputs.push(Input {
            demux,
            slot: SourceSlot::new(&inp.camid, DEFAULT_STALE_TIMEOUT),
            audio: SourceAudio::new(),
            video_until: None,
            audio_until: None,
            decoded: Decoded::default(),
        });
    }
    let mut out = EncodedOutput::mp4_file(&job.output, Latency::Quality, None)?;
    let mut core = MixCore::producing(
        &job.output.encoding,
        job.layout.clone(),
        out.audio_start(),
        Produce::of(Some(job.output.media)),
    );
    for inp in &inputs {
        core.add_slot(inp.slot.clone());
    }
    loop {
        if job
            .max_duration_ms
            .is_some_and(|max| core.duration_ms() >= max)
        {
            break;
        }
        let t = core.picture_time(core.frames_out());
        for inp in &mut inputs {
            inp.fill_until(t.plus_micros(core.read_ahead().as_micros()))?;
        }
        let all_done = inputs.iter().all(|i| i.demux.is_eof());
        let end = inputs
            .iter()
            .map(Input::end)
            .max()
            .unwrap_or(MixerTime::ZERO);
        if all_done && t >= end {
            break;
        }
        core.tick(&mut out)?;
    }
    core.finish(&mut out)?;
    Ok(OutputInfo {
        duration_ms: core.duration_ms(),
        size_bytes: out.size_bytes(),
        status: OutputStatus::Finalized,
        ..OutputInfo::mixed(
            &job.output.rel_path,
            &job.output.abs_path.display().to_string(),
            job.output.media,
            job.output.container(),
        )
    })
}
