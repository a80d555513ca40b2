//! Codec glue around ffmpeg (through `ffmpeg-next`): decoding access units into pictures
//! and PCM ([`decode`]), encoding the composite picture to H.264 and the mix to AAC
//! ([`encode`]), and writing fragmented MP4 ([`mux`]). Reading media files for offline
//! jobs is in [`demux`]; still pictures (PNG, JPEG placeholders) in [`still`]; the
//! playable span of a recording cut off by a crash in [`probe`].
//!
//! Every send/receive loop tells EAGAIN (needs more input) from EOF from a real error.

pub mod decode;
pub mod demux;
pub mod encode;
pub mod jpeg;
pub mod log;
pub mod mux;
pub mod passthrough;
pub mod picture_size;
pub mod probe;
pub mod still;

/// A failure inside ffmpeg, with what we were doing.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// No ffmpeg codec of that name or id is available in the linked libraries.
    #[error("codec not available: {0}")]
    CodecMissing(String),
    /// ffmpeg returned an error.
    #[error("{context}: {source}")]
    Ffmpeg {
        context: &'static str,
        #[source]
        source: ffmpeg_next::Error,
    },
}

impl MediaError {
    /// Wraps an ffmpeg error with what we were doing.
    pub fn ffmpeg(context: &'static str) -> impl FnOnce(ffmpeg_next::Error) -> MediaError {
        move |source| MediaError::Ffmpeg { context, source }
    }

    /// The OS error number behind the failure (ffmpeg's `AVERROR(errno)`, e.g. ENOSPC
    /// when a write finds the disk full), if it is one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            MediaError::Ffmpeg {
                source: ffmpeg_next::Error::Other { errno },
                ..
            } => Some(*errno),
            _ => None,
        }
    }
}

/// Initializes ffmpeg once per process (idempotent, thread-safe). ffmpeg's own log goes
/// to stderr at the level named by `CLOUDMIXER_FFMPEG_LOG` (quiet, error, warning, info,
/// verbose, debug; default error), with the secrets of URLs hidden ([`log`]).
pub fn init() {
    use ffmpeg_next::util::log::{set_level, Level};
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // An error here means the libraries are unusable; every later call reports it too.
        let _ = ffmpeg_next::init();
        let level = match std::env::var("CLOUDMIXER_FFMPEG_LOG").as_deref() {
            Ok("quiet") => Level::Quiet,
            Ok("warning") => Level::Warning,
            Ok("info") => Level::Info,
            Ok("verbose") => Level::Verbose,
            Ok("debug") => Level::Debug,
            _ => Level::Error,
        };
        set_level(level);
        log::install();
    });
}

/// True for ffmpeg's "try again" result (EAGAIN) of send/receive calls.
pub(crate) fn is_again(e: &ffmpeg_next::Error) -> bool {
    matches!(e, ffmpeg_next::Error::Other { errno } if *errno == ffmpeg_next::util::error::EAGAIN)
}
