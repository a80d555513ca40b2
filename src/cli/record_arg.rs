//! `create`'s recording flags: what the mixer records (the request's `record_cfg`).

use clap::{Args, ValueEnum};

use crate::cli::parse;
use crate::proto;

/// Which recordings a mixer writes (`--record-mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ModeArg {
    /// The composite only (NetEase recordType 1; Easemob MERGE_ALL).
    Mixed,
    /// Per-participant files only, no composite (NetEase recordType 2; Easemob
    /// ONLY_REC_ONE_AV / ONLY_REC_ONE_DESKTOP).
    Single,
    /// The composite and per-participant files from one ingest (NetEase recordType 0;
    /// ZEGO "separate and mixed").
    Both,
}

/// A per-participant file kind (`--single-media`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SingleMediaArg {
    /// The participant's audio and video in one file (a screen share's: media `screen`).
    Av,
    /// The participant's audio only (see --single-audio-container).
    Audio,
}

/// How a participant's video reaches its file (`--single-video`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SingleVideoArg {
    /// The sender's packets as received, not re-encoded: H.264 into .mp4, VP8 into .webm.
    Passthrough,
    /// Decoded and encoded again to H.264 + AAC .mp4 at --transcode-size.
    Transcode,
}

/// Container of a participant's audio-only file (`--single-audio-container`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AudioContainerArg {
    /// AAC in ADTS, `.aac` (as NetEase delivers).
    Aac,
    /// AAC in fragmented MP4, `.m4a`.
    M4a,
    /// Opus as received in Ogg, `.ogg` (no transcode).
    Ogg,
}

/// What the mixer records. Without any of these flags the request carries no
/// `record_cfg`: the composite only, audio and video (as before recording modes).
#[derive(Debug, Clone, Default, Args)]
pub struct RecordArgs {
    /// Which recordings are written: `mixed` = the composite (--out) only, `single` =
    /// one file per participant and no composite (no composite video is encoded, the
    /// --out path is neither created nor reserved), `both` = the composite and the
    /// per-participant files. NetEase recordType 1 / 2 / 0; Easemob MERGE_ALL /
    /// ONLY_REC_ONE_AV. Default: mixed.
    #[arg(long, value_enum, value_name = "MODE")]
    pub record_mode: Option<ModeArg>,
    /// Leave audio out of every file (NetEase recordAudio=false): the composite is
    /// video only.
    #[arg(long, conflicts_with = "no_record_video")]
    pub no_record_audio: bool,
    /// Leave video out of every file (NetEase recordVideo=false): the composite is an
    /// audio-only .m4a at --out with ".mp4" replaced by ".m4a", and no video is encoded
    /// or decoded for it. A call whose sources have no video (a pure-audio call) gets
    /// the .m4a without this flag.
    #[arg(long)]
    pub no_record_video: bool,
    /// Per-participant files of each source, comma-separated: `av` (audio+video in one
    /// file; NetEase's per-participant .mp4, Easemob ONLY_REC_ONE_AV) and/or `audio`
    /// (audio only; NetEase's .aac). Default: av,audio. Modes single and both only.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "LIST")]
    pub single_media: Vec<SingleMediaArg>,
    /// Per-participant video: `passthrough` (default; the sender's packets, no
    /// re-encode, costs muxing only) or `transcode` (H.264 + AAC .mp4 at
    /// --transcode-size, for players that need one format).
    #[arg(long, value_enum, value_name = "HOW")]
    pub single_video: Option<SingleVideoArg>,
    /// With --single-video transcode: the picture size WIDTHxHEIGHT, both even, at most
    /// 3840x2160. Default: the composite's --size.
    #[arg(long, value_parser = parse::size, value_name = "WxH")]
    pub transcode_size: Option<(u32, u32)>,
    /// Container of the per-participant audio files: `aac` (ADTS .aac, default, as
    /// NetEase delivers), `m4a` (AAC in fragmented MP4) or `ogg` (Opus as received).
    #[arg(long, value_enum, value_name = "CONTAINER")]
    pub single_audio_container: Option<AudioContainerArg>,
    /// Path of each per-participant file below the recordings dir, without extension.
    /// Placeholders {mixer_id}, {camid}, {media} (av, audio, screen), {span} (1, then 2
    /// after the participant rejoined, ...), {start_ms} (Unix ms of the span's first
    /// media); must hold {camid} and {span} or {start_ms}. Default: the daemon's
    /// --single-path-template ("{mixer_id}/{camid}-{media}-{start_ms}").
    #[arg(long, value_name = "TEMPLATE")]
    pub single_path_template: Option<String>,
    /// A participant with no media for this many ms has left: its files of that span are
    /// completed, and media after it starts the next span (new files). 1000..=600000;
    /// default 5000.
    #[arg(long, value_name = "MS")]
    pub presence_timeout_ms: Option<u32>,
    /// Keep this job's files this many seconds (catalog expireTime) instead of the
    /// daemon's --retention-secs. 1..=3153600000.
    #[arg(long = "keep-secs", value_name = "SECS")]
    pub retention_secs: Option<u64>,
    /// A webhook endpoint for this job's events, besides the daemon's --webhook-url;
    /// repeat for several (at most 4).
    #[arg(long = "job-webhook-url", value_name = "URL")]
    pub webhook_urls: Vec<String>,
}

impl RecordArgs {
    /// The request's `record_cfg`: None when no flag was given (the daemon's defaults).
    pub fn to_proto(&self) -> Option<proto::RecordCfg> {
        let untouched = self.record_mode.is_none()
            && !self.no_record_audio
            && !self.no_record_video
            && self.single_media.is_empty()
            && self.single_video.is_none()
            && self.transcode_size.is_none()
            && self.single_audio_container.is_none()
            && self.single_path_template.is_none()
            && self.presence_timeout_ms.is_none()
            && self.retention_secs.is_none()
            && self.webhook_urls.is_empty();
        if untouched {
            return None;
        }
        let mode = match self.record_mode.unwrap_or(ModeArg::Mixed) {
            ModeArg::Mixed => proto::RecordMode::Mixed,
            ModeArg::Single => proto::RecordMode::Single,
            ModeArg::Both => proto::RecordMode::MixedAndSingle,
        };
        let single_media = self
            .single_media
            .iter()
            .map(|m| match m {
                SingleMediaArg::Av => proto::SingleMedia::Av as i32,
                SingleMediaArg::Audio => proto::SingleMedia::Audio as i32,
            })
            .collect();
        let single_video = match self.single_video.unwrap_or(SingleVideoArg::Passthrough) {
            SingleVideoArg::Passthrough => proto::SingleVideo::Passthrough,
            SingleVideoArg::Transcode => proto::SingleVideo::Transcode,
        };
        let container = match self
            .single_audio_container
            .unwrap_or(AudioContainerArg::Aac)
        {
            AudioContainerArg::Aac => proto::AudioContainer::Aac,
            AudioContainerArg::M4a => proto::AudioContainer::M4a,
            AudioContainerArg::Ogg => proto::AudioContainer::Ogg,
        };
        let (transcode_width, transcode_height) = self.transcode_size.unwrap_or((0, 0));
        Some(proto::RecordCfg {
            mode: mode as i32,
            record_audio: Some(!self.no_record_audio),
            record_video: Some(!self.no_record_video),
            single_media,
            single_video: single_video as i32,
            transcode_width,
            transcode_height,
            single_audio_container: container as i32,
            single_path_template: self.single_path_template.clone().unwrap_or_default(),
            presence_timeout_ms: self.presence_timeout_ms.unwrap_or(0),
            retention_secs: self.retention_secs.unwrap_or(0),
            webhook_urls: self.webhook_urls.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct T {
        #[command(flatten)]
        r: RecordArgs,
    }

    fn parse(args: &[&str]) -> Option<proto::RecordCfg> {
        let argv = std::iter::once("t").chain(args.iter().copied());
        T::try_parse_from(argv).unwrap().r.to_proto()
    }

    #[test]
    fn no_flag_sends_no_record_cfg() {
        assert_eq!(parse(&[]), None);
    }

    #[test]
    fn every_flag_reaches_the_request() {
        let c = parse(&[
            "--record-mode",
            "both",
            "--no-record-video",
            "--single-media",
            "audio,av",
            "--single-video",
            "transcode",
            "--transcode-size",
            "640x360",
            "--single-audio-container",
            "m4a",
            "--single-path-template",
            "{mixer_id}/{camid}/{media}-{span}",
        ])
        .unwrap();
        assert_eq!(c.mode, proto::RecordMode::MixedAndSingle as i32);
        assert_eq!((c.record_audio, c.record_video), (Some(true), Some(false)));
        assert_eq!(
            c.single_media,
            [
                proto::SingleMedia::Audio as i32,
                proto::SingleMedia::Av as i32
            ]
        );
        assert_eq!(c.single_video, proto::SingleVideo::Transcode as i32);
        assert_eq!((c.transcode_width, c.transcode_height), (640, 360));
        assert_eq!(c.single_audio_container, proto::AudioContainer::M4a as i32);
        assert_eq!(c.single_path_template, "{mixer_id}/{camid}/{media}-{span}");
        let c = parse(&["--record-mode", "single"]).unwrap();
        assert_eq!(c.mode, proto::RecordMode::Single as i32);
        assert_eq!((c.record_audio, c.record_video), (Some(true), Some(true)));
        assert!(c.single_media.is_empty() && c.single_path_template.is_empty());
        let c = parse(&["--no-record-audio"]).unwrap();
        assert_eq!(c.mode, proto::RecordMode::Mixed as i32);
        assert_eq!(c.record_audio, Some(false));
    }

    #[test]
    fn both_switches_off_is_a_usage_error() {
        let argv = ["t", "--no-record-audio", "--no-record-video"];
        assert!(T::try_parse_from(argv).is_err());
    }
}
