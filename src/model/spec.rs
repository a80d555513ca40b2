//! What a mixer is asked to do: sources, output and layout, already validated.
//!
//! The gRPC layer (`api/`) and the offline `compose` turn requests into these
//! types after validating every field; the engine trusts them.

use std::path::PathBuf;
use std::time::Duration;

use crate::model::{
    AudioCodec, ContentType, Layout, LayoutFill, OutputMedia, RecordSpec, RecordingsRoot, Rgb,
    VideoCodec,
};

/// The expected RTP stream of one medium.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RtpStreamSpec<C> {
    pub codec: C,
    /// RTP payload type, 0..=127.
    pub payload_type: u8,
    /// If Some, packets of other SSRCs are counted and dropped.
    pub ssrc: Option<u32>,
}

/// How a source's media reaches the mixer. Every transport feeds the same jitter
/// buffer / depacketizer / decoder path.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum SourceTransport {
    /// Plain RTP/RTCP on UDP ports the daemon allocates (RTCP = RTP + 1).
    #[default]
    Rtp,
    /// The daemon serves a WHIP endpoint (RFC 9725) for this source; a publisher POSTs
    /// its offer there. Needs a daemon with a WHIP listener.
    Whip,
    /// The mixer pulls the source from a WHEP endpoint (POST offer, receive answer),
    /// reconnecting with backoff.
    Whep {
        /// `http://` or `https://` URL of the WHEP endpoint.
        url: String,
        /// Sent as `Authorization: Bearer <token>` when non-empty.
        bearer_token: String,
    },
}

impl SourceTransport {
    /// "rtp", "whip" or "whep".
    pub fn name(&self) -> &'static str {
        match self {
            SourceTransport::Rtp => "rtp",
            SourceTransport::Whip => "whip",
            SourceTransport::Whep { .. } => "whep",
        }
    }
}

/// One participant (Cloudroom camid).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceSpec {
    pub camid: String,
    /// The codecs expected (for WebRTC transports: the codecs negotiated; the payload
    /// type is then whatever the offer chose).
    pub video: Option<RtpStreamSpec<VideoCodec>>,
    pub audio: Option<RtpStreamSpec<AudioCodec>>,
    pub transport: SourceTransport,
    /// What the video shows (camera, screen share, media).
    pub content: ContentType,
    /// NetEase `isHostSpeaker`: the speaker preset gives the host the main tile.
    pub host: bool,
    /// Its gain and mute in the mixed audio.
    pub mix: MixGain,
    /// Drawn on its tiles ([`crate::compose::label`]); empty = no label.
    pub display_name: String,
}

/// Lowest mix gain, dB.
pub const MIN_GAIN_DB: f32 = -60.0;
/// Highest mix gain, dB.
pub const MAX_GAIN_DB: f32 = 20.0;

/// A source's level in the mixed audio only; its own per-participant files keep the
/// audio as received.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct MixGain {
    /// Gain, hundredths of a dB ([`MIN_GAIN_DB`]..=[`MAX_GAIN_DB`] x 100); 0 = as
    /// received.
    pub centi_db: i32,
    /// Left out of the mix.
    pub muted: bool,
}

impl MixGain {
    /// The gain in dB.
    pub fn db(self) -> f32 {
        self.centi_db as f32 / 100.0
    }

    /// The factor applied to the samples: `10^(dB / 20)`, 0.0 when muted.
    pub fn linear(self) -> f32 {
        if self.muted {
            0.0
        } else {
            10f32.powf(self.db() / 20.0)
        }
    }
}

/// A border along the inside of every tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Border {
    /// Its colour.
    pub colour: Rgb,
    /// Its width, pixels (even).
    pub px: u32,
}

/// The picture and sound of an output (Cloudroom videoFileCfg's `vWidth`, `vHeight`,
/// `vFps`, `vBps`, `aBps`, background), defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoding {
    /// Canvas width, even, pixels.
    pub width: u32,
    /// Canvas height, even, pixels.
    pub height: u32,
    /// Output frames per second (constant frame rate).
    pub fps: u32,
    /// H.264 target bit rate, bit/s.
    pub video_bps: u32,
    /// AAC bit rate, bit/s.
    pub audio_bps: u32,
    /// Canvas and bar colour.
    pub background: Rgb,
    /// Colour of the ring inside the active speaker's tiles; None = no ring.
    pub speaking_ring: Option<Rgb>,
    /// The border inside every tile; None = no border.
    pub border: Option<Border>,
    /// The canvas background picture (stretched to the canvas); None = `background`.
    pub background_image: Option<crate::model::StillImage>,
    /// Integrated loudness the mix is normalised to, LUFS; None = not normalised.
    pub loudness_target_lufs: Option<i32>,
}

/// Output file and encoder settings (Cloudroom videoFileCfg minus the layout).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSpec {
    /// Path relative to the recordings root, as the user gave it.
    pub rel_path: String,
    /// Absolute path where the MP4 is written (for display); it is created beneath
    /// `root`, through its handle, with its parent directories.
    pub abs_path: PathBuf,
    /// The directory `abs_path` lies beneath; the file is opened through it
    /// (`output/confined.rs`).
    pub root: RecordingsRoot,
    /// Canvas, frame rate, bit rates.
    pub encoding: Encoding,
    /// libx264 threads; 0 = let x264 choose.
    pub encoder_threads: u32,
    /// libx264 preset, e.g. "veryfast".
    pub x264_preset: String,
    /// What the file holds: [`OutputMedia::Av`], or [`OutputMedia::Audio`] for an
    /// audio-only composite (`.m4a`), [`OutputMedia::Video`] without audio.
    pub media: OutputMedia,
    /// JPEG snapshots of the composite; None = none.
    pub snapshots: Option<SnapshotSpec>,
    /// Live pushes of the composite: `rtmp://` / `rtmps://` URLs (secrets: never logged
    /// whole).
    pub live_push_urls: Vec<String>,
    /// HLS segments and playlist of the composite; None = none.
    pub hls: Option<HlsSpec>,
}

/// HLS of the composite (`video_file_cfg.hls_segment_secs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HlsSpec {
    /// Target segment duration, seconds (1..=60); segments are cut at the first
    /// keyframe past it.
    pub segment_s: u32,
    /// The directory of the playlist and segments, relative to the recordings root (the
    /// output path without its extension, plus `-hls`).
    pub rel_dir: String,
}

/// Snapshots of the composite (`video_file_cfg.snapshot_interval_secs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotSpec {
    /// Output time between snapshots, seconds (1..=3600).
    pub interval_s: u32,
    /// The directory of the JPEG files, relative to the recordings root (the output
    /// path without its extension, plus `-snapshots`).
    pub rel_dir: String,
}

impl OutputSpec {
    /// "mp4", or "m4a" for an audio-only file.
    pub fn container(&self) -> &'static str {
        match self.media {
            OutputMedia::Audio => "m4a",
            _ => "mp4",
        }
    }
}

/// Default playout delay, ms (DESIGN.md time model).
pub const DEFAULT_PLAYOUT_DELAY_MS: u32 = 200;
/// Default stale timeout, ms: a source picture older than this shows the region's
/// placeholder.
pub const DEFAULT_STALE_TIMEOUT_MS: u32 = 2_000;

/// Name of the daemon's state directory beneath the recordings root (the recording
/// journal, `serve --state-dir` default); output paths may not start with it.
pub const STATE_DIR_NAME: &str = ".cloudmixer";

/// Default largest picture a source may send, pixels: 3840x2160 (8 294 400).
pub const DEFAULT_MAX_PICTURE_PIXELS: u64 = 3840 * 2160;
/// [`DEFAULT_STALE_TIMEOUT_MS`] as a [`Duration`].
pub const DEFAULT_STALE_TIMEOUT: Duration = Duration::from_millis(DEFAULT_STALE_TIMEOUT_MS as u64);
/// Default H.264 bit rate, bit/s.
pub const DEFAULT_VIDEO_BPS: u32 = 1_500_000;
/// Default AAC bit rate, bit/s.
pub const DEFAULT_AUDIO_BPS: u32 = 64_000;

/// A whole mixer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MixerSpec {
    pub mixer_id: String,
    /// The conference (Easemob confrId) the recordings belong to; the mixer id when the
    /// request gave none.
    pub conference_id: String,
    pub oper_user_id: String,
    pub sources: Vec<SourceSpec>,
    pub output: OutputSpec,
    pub layout: Layout,
    /// Whether `layout` is filled again when sources join or leave.
    pub layout_fill: LayoutFill,
    /// Jitter absorbed before a frame is shown (whole ms, as requested).
    pub playout_delay: Duration,
    /// A source picture older than this shows the region's placeholder (whole ms).
    pub stale_timeout: Duration,
    /// Largest picture a source may send, pixels (width x height); larger access units
    /// are refused before decoding and counted (`SourceCounters::pictures_oversized`).
    pub max_picture_pixels: u64,
    /// Which recordings are written (composite, per participant) and how.
    pub record: RecordSpec,
}

/// A change applied atomically at the next output frame boundary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentUpdate {
    /// New layout; None keeps the current one.
    pub layout: Option<Layout>,
    /// How the layout follows later joins and leaves; None keeps the current rule.
    pub layout_fill: Option<LayoutFill>,
    pub add_sources: Vec<SourceSpec>,
    pub remove_camids: Vec<String>,
    /// New mix gains of sources (camids of the mixer after the update).
    pub source_mix: Vec<(String, MixGain)>,
}
