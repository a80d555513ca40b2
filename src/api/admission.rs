//! Admission control: a mixer is admitted only while the sum of the admitted mixers'
//! estimated CPU costs fits the daemon's budget, so that a full daemon refuses a new
//! recording (RESOURCE_EXHAUSTED, naming the budget and the job's cost) instead of making
//! every running one late.
//!
//! Costs are in millicores (1000 = one core busy for the mixer's whole life). The model
//! ([`estimate`]) adds, per second of output:
//! - encode: output pixels x fps x [`ENCODE_MC_PER_MPX`] x the x264 preset's factor
//!   ([`preset_factor`]);
//! - decode: per video source, the pixels of the region(s) it is shown in (the size the
//!   source is expected at; unknown until it sends) x fps x [`DECODE_MC_PER_MPX`];
//!   a video source shown nowhere counts as a 640x360 one;
//! - compositing: output pixels x fps x [`COMPOSE_MC_PER_MPX`];
//! - audio: [`AAC_ENCODE_MC`] per mixer plus [`AUDIO_DECODE_MC`] per audio source.
//!
//! Only what the composite needs is counted: an audio-only composite (`.m4a`) has no
//! encode, compositing or video decode cost (its sources' video is not decoded), a
//! video-only one no AAC; a mixer without a composite (record mode single only) costs
//! the audio decode of its sources (still decoded today) and nothing else.
//!
//! Calibration (veryfast, this machine class: 2 cores): the live density measurement of
//! docs/PERFORMANCE.md (duo-720p15: 5 real-time mixers on 2 cores, about 0.26 cores per
//! mixer) split by the callgrind profile of the same job (x264 ~70 %, libavcodec decode
//! ~15 %, AAC encode 12.7 %, the rest compositing and our code). The model gives 267
//! millicores for duo-720p15 (unit test below). Other presets are scaled by x264's documented speed order
//! with factors that were NOT measured here (docs/OPERATIONS.md says so): they are
//! estimates. Error: the model does not see the sources' real resolutions or content
//! (motion raises x264's cost), so it is a planning number; the default budget keeps
//! 20 % headroom.

use crate::mixer::core::Produce;
use crate::model::MixerSpec;

/// Encode cost, millicores per million output pixels per second (libx264 veryfast).
pub const ENCODE_MC_PER_MPX: f64 = 13.2;
/// Decode cost, millicores per million source pixels per second (VP8/H.264).
pub const DECODE_MC_PER_MPX: f64 = 5.6;
/// Compositing cost (scale, blend, canvas), millicores per million output pixels per second.
pub const COMPOSE_MC_PER_MPX: f64 = 0.5;
/// AAC encode of the mix, millicores per mixer.
pub const AAC_ENCODE_MC: u64 = 33;
/// Opus decode, resample and mix, millicores per audio source.
pub const AUDIO_DECODE_MC: u64 = 3;
/// Share of the machine's cores the default budget admits: 80 %.
pub const DEFAULT_BUDGET_SHARE: f64 = 0.8;

/// The x264 preset's cost relative to veryfast (1.0). Only veryfast is calibrated.
pub fn preset_factor(preset: &str) -> f64 {
    match preset {
        "ultrafast" => 0.45,
        "superfast" => 0.65,
        "veryfast" => 1.0,
        "faster" => 1.5,
        "fast" => 1.9,
        "medium" => 2.4,
        "slow" => 3.6,
        "slower" => 7.0,
        "veryslow" => 14.0,
        "placebo" => 40.0,
        _ => 2.4,
    }
}

/// The estimated cost of `spec`, millicores (at least 1).
pub fn estimate(spec: &MixerSpec) -> u64 {
    let enc = &spec.output.encoding;
    let produce = Produce::of(spec.record.mode.mixed().then_some(spec.output.media));
    let fps = f64::from(enc.fps);
    let out_mpx = f64::from(enc.width) * f64::from(enc.height) * fps / 1e6;
    let video = if produce.video { 1.0 } else { 0.0 };
    let encode = video * out_mpx * ENCODE_MC_PER_MPX * preset_factor(&spec.output.x264_preset);
    let compose = video * out_mpx * COMPOSE_MC_PER_MPX;
    let decode: f64 = spec
        .sources
        .iter()
        .filter(|s| produce.video && s.video.is_some())
        .map(|s| {
            let shown: u64 = spec
                .layout
                .regions
                .iter()
                .filter(|r| r.camid == s.camid)
                .map(|r| u64::from(r.width) * u64::from(r.height))
                .max()
                .unwrap_or(640 * 360);
            shown as f64 * fps / 1e6 * DECODE_MC_PER_MPX
        })
        .sum();
    let audio_sources = spec.sources.iter().filter(|s| s.audio.is_some()).count() as u64;
    let aac = if produce.audio { AAC_ENCODE_MC } else { 0 };
    let audio = aac + AUDIO_DECODE_MC * audio_sources;
    ((encode + compose + decode).round() as u64 + audio).max(1)
}

/// The default budget for `cores` cores: [`DEFAULT_BUDGET_SHARE`] of them, millicores.
pub fn default_budget(cores: usize) -> u64 {
    (cores as f64 * 1000.0 * DEFAULT_BUDGET_SHARE) as u64
}

/// Why a mixer was not admitted; the message names the limit and its flag.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The cost does not fit the remaining budget.
    #[error("admission: this mixer's estimated cost is {cost} millicores, and {admitted} of the {budget}-millicore CPU budget (--cpu-budget-millicores) are taken by {mixers} mixers: {} left", budget.saturating_sub(*admitted))]
    Budget {
        cost: u64,
        admitted: u64,
        budget: u64,
        mixers: usize,
    },
    /// Already `max` mixers not yet ended.
    #[error("admission: {max} mixers are already running (--max-mixers)")]
    MaxMixers { max: usize },
}

/// Decides admission: `admitted` is the sum of the costs of the `mixers` mixers not yet
/// ended. Errors: [`Refusal`].
pub fn admit(
    cost: u64,
    admitted: u64,
    mixers: usize,
    budget: u64,
    max_mixers: usize,
) -> Result<(), Refusal> {
    if mixers >= max_mixers {
        return Err(Refusal::MaxMixers { max: max_mixers });
    }
    if admitted.saturating_add(cost) > budget {
        return Err(Refusal::Budget {
            cost,
            admitted,
            budget,
            mixers,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_until_the_budget_is_spent_and_names_it() {
        assert!(admit(264, 0, 0, 1600, 64).is_ok());
        assert!(admit(264, 1320, 5, 1600, 64).is_ok());
        let e = admit(264, 1584, 6, 1600, 64).unwrap_err();
        let m = e.to_string();
        assert!(
            m.contains("264 millicores")
                && m.contains("1600-millicore")
                && m.contains("--cpu-budget-millicores"),
            "{m}"
        );
        let e = admit(1, 0, 64, 1600, 64).unwrap_err();
        assert!(e.to_string().contains("--max-mixers"), "{e}");
        assert_eq!(default_budget(2), 1600);
    }

    /// Two VP8 + Opus sources at 1280x720@15 (the default side-by-side layout), with
    /// `record_cfg`.
    fn duo(record_cfg: Option<crate::proto::RecordCfg>) -> MixerSpec {
        use crate::proto;
        let source = |camid: &str| proto::SourceConfig {
            camid: camid.into(),
            video: Some(proto::RtpVideo {
                codec: proto::VideoCodec::Vp8 as i32,
                payload_type: 96,
                ssrc: None,
            }),
            audio: Some(proto::RtpAudio {
                codec: proto::AudioCodec::Opus as i32,
                payload_type: 111,
                ssrc: None,
            }),
            ..Default::default()
        };
        let req = proto::CreateCloudMixerRequest {
            mixer_id: "duo".into(),
            sources: vec![source("a"), source("b")],
            video_file_cfg: Some(proto::VideoFileCfg {
                v_width: 1280,
                v_height: 720,
                v_fps: 15,
                ..Default::default()
            }),
            record_cfg,
            ..Default::default()
        };
        let defaults = crate::request::OutputDefaults {
            recordings_root: crate::model::RecordingsRoot::open(&std::env::temp_dir()).unwrap(),
            x264_preset: "veryfast".into(),
            encoder_threads: 0,
            max_picture_pixels: crate::model::DEFAULT_MAX_PICTURE_PIXELS,
            single_path_template: crate::model::record::DEFAULT_SINGLE_PATH_TEMPLATE.to_owned(),
        };
        crate::request::validate::create_request(&req, &defaults).unwrap()
    }

    #[test]
    fn only_what_the_composite_needs_is_counted() {
        use crate::proto::{RecordCfg, RecordMode};
        let cfg = |mode: RecordMode, audio: bool, video: bool| RecordCfg {
            mode: mode as i32,
            record_audio: Some(audio),
            record_video: Some(video),
            ..Default::default()
        };
        // Audio-only composite: AAC (33) + two Opus decodes (2 x 3); no x264, no
        // compositing, no video decode.
        assert_eq!(
            estimate(&duo(Some(cfg(RecordMode::Mixed, true, false)))),
            39
        );
        // Video-only: all but the AAC encode.
        assert_eq!(
            estimate(&duo(Some(cfg(RecordMode::Mixed, false, true)))),
            234
        );
        // No composite: the sources' audio decode only.
        assert_eq!(estimate(&duo(Some(cfg(RecordMode::Single, true, true)))), 6);
        // Composite and singles: the composite's full cost (singles' costs are theirs).
        let both = cfg(RecordMode::MixedAndSingle, true, true);
        assert_eq!(estimate(&duo(Some(both))), 267);
    }

    #[test]
    fn duo_720p15_costs_what_the_density_measurement_says() {
        let spec = duo(None);
        // The default layout for two video sources: side-by-side, two 640x360 tiles.
        // 182.5 encode + 6.9 compositing + 38.7 decode (two 640x360 tiles) + 39 audio.
        assert_eq!(estimate(&spec), 267);
        // Five fit a 2-core machine's default budget, the sixth does not (measured: 5
        // real-time, 6 with transient lateness).
        let budget = default_budget(2);
        // With four admitted the fifth fits; with five admitted the sixth does not.
        assert!(admit(267, 4 * 267, 4, budget, 64).is_ok());
        assert!(admit(267, 5 * 267, 5, budget, 64).is_err());
    }
}
