//! What a mixer records (NetEase `recordType`, `recordAudio`, `recordVideo`; Easemob
//! `recordType`; ZEGO separate + mixed files), validated, and the vocabulary of the
//! outputs it produces.
//!
//! A recording job is the sources plus a set of outputs: the composite ("mixed") file,
//! and per participant ("single") files that follow the participant's presence. The
//! names follow the seed vendors': mixed = Easemob MERGE_ALL, a single `av` file =
//! ONLY_REC_ONE_AV, a single `screen` file = ONLY_REC_ONE_DESKTOP.

/// What a source's video shows (Cloudroom `MIXER_VCONTENT_TYPE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum ContentType {
    /// A camera.
    #[default]
    Camera,
    /// A screen share.
    Screen,
    /// A media file played into the call.
    Media,
}

/// Which recordings a mixer writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecordMode {
    /// The composite only.
    #[default]
    Mixed,
    /// The composite and per-participant files.
    MixedAndSingle,
    /// Per-participant files only: no composite is made.
    Single,
}

impl RecordMode {
    /// Whether the composite is written.
    pub fn mixed(self) -> bool {
        matches!(self, RecordMode::Mixed | RecordMode::MixedAndSingle)
    }
    /// Whether per-participant files are written.
    pub fn single(self) -> bool {
        matches!(self, RecordMode::Single | RecordMode::MixedAndSingle)
    }
}

/// How a participant's video reaches its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SingleVideo {
    /// The sender's access units as received (H.264 -> MP4, VP8 -> WebM).
    #[default]
    Passthrough,
    /// Decoded and encoded again (H.264 + AAC in MP4) at this picture size, pixels.
    Transcode { width: u32, height: u32 },
}

/// Container of a participant's audio-only file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AudioContainer {
    /// AAC in ADTS, `.aac`.
    #[default]
    Aac,
    /// AAC in fragmented MP4, `.m4a`.
    M4a,
    /// Opus as received, in Ogg, `.ogg`.
    Ogg,
}

use std::time::Duration;

/// Default presence timeout: a participant with no media for this long has left.
pub const DEFAULT_PRESENCE_TIMEOUT: Duration = Duration::from_secs(5);
/// Accepted presence timeouts, ms.
pub const PRESENCE_TIMEOUT_MS_RANGE: (u32, u32) = (1_000, 600_000);

/// Default template of per-participant paths (see [`RecordSpec::single_path_template`]).
pub const DEFAULT_SINGLE_PATH_TEMPLATE: &str = "{mixer_id}/{camid}-{media}-{start_ms}";

/// A mixer's recording configuration, defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSpec {
    pub mode: RecordMode,
    /// Audio is written to the files (NetEase `recordAudio`).
    pub record_audio: bool,
    /// Video is written to the files (NetEase `recordVideo`).
    pub record_video: bool,
    /// Per participant: an audio+video (or screen) file.
    pub single_av: bool,
    /// Per participant: an audio-only file.
    pub single_audio: bool,
    pub single_video: SingleVideo,
    pub single_audio_container: AudioContainer,
    /// Relative path of each per-participant file without extension; placeholders
    /// `{mixer_id}`, `{camid}`, `{media}`, `{span}`, `{start_ms}`.
    pub single_path_template: String,
    /// No media from a participant for this long ends its presence span.
    pub presence_timeout: Duration,
    /// How long the job's files are kept; None = the daemon's retention.
    pub retention: Option<Duration>,
    /// Webhook endpoints of this job, besides the daemon's.
    pub webhook_urls: Vec<String>,
}

impl Default for RecordSpec {
    /// The composite only, audio and video, the default single settings.
    fn default() -> Self {
        Self {
            mode: RecordMode::Mixed,
            record_audio: true,
            record_video: true,
            single_av: true,
            single_audio: true,
            single_video: SingleVideo::Passthrough,
            single_audio_container: AudioContainer::Aac,
            single_path_template: DEFAULT_SINGLE_PATH_TEMPLATE.to_owned(),
            presence_timeout: DEFAULT_PRESENCE_TIMEOUT,
            retention: None,
            webhook_urls: Vec::new(),
        }
    }
}

/// Whether an output is the composite or one participant's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum OutputKind {
    #[default]
    Mixed,
    Single,
}

/// What an output holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum OutputMedia {
    /// Audio and video.
    #[default]
    Av,
    /// Audio only.
    Audio,
    /// Video only.
    Video,
    /// A screen share's video (and its audio, if any).
    Screen,
}

impl OutputMedia {
    /// "av", "audio", "video" or "screen": the `{media}` of path templates and output ids.
    pub fn name(self) -> &'static str {
        match self {
            OutputMedia::Av => "av",
            OutputMedia::Audio => "audio",
            OutputMedia::Video => "video",
            OutputMedia::Screen => "screen",
        }
    }
}

/// The media of a composite file by its name: `.m4a` is audio only, anything else AV
/// (for recordings found in the journal after a crash).
pub fn media_of_path(path: &str) -> OutputMedia {
    if path.to_ascii_lowercase().ends_with(".m4a") {
        OutputMedia::Audio
    } else {
        OutputMedia::Av
    }
}
