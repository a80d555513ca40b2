//! A decoded still picture (a region's placeholder), shared by reference.
//!
//! Decoding (PNG/JPEG bytes, limits, alpha blending) is [`crate::media::still`]'s; this is
//! only the shared result that layouts refer to.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use ffmpeg_next::format::Pixel;
use ffmpeg_next::frame::Video;

/// Source of [`StillImage::id`].
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A decoded still picture: an RGB24 frame (sRGB, 8 bits per channel, no alpha), any
/// size up to [`MAX_STILL_SIDE`] square. Cheap to clone (shared). Two values are equal
/// when they come from the same decode ([`StillImage::id`]).
#[derive(Clone)]
pub struct StillImage {
    id: u64,
    frame: Arc<Video>,
}

impl StillImage {
    /// Wraps a decoded picture, giving it a new [`Self::id`].
    /// Panics if `frame` is not `Pixel::RGB24` (a programming error).
    pub fn from_rgb24(frame: Video) -> StillImage {
        assert_eq!(
            frame.format(),
            Pixel::RGB24,
            "StillImage needs an RGB24 frame"
        );
        StillImage {
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            frame: Arc::new(frame),
        }
    }

    /// Unique per decode: the compositor's cache key.
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Width, pixels.
    pub fn width(&self) -> u32 {
        self.frame.width()
    }

    /// Height, pixels.
    pub fn height(&self) -> u32 {
        self.frame.height()
    }

    /// The picture: `Pixel::RGB24`, [`Self::width`] x [`Self::height`].
    pub fn frame(&self) -> &Video {
        &self.frame
    }
}

impl PartialEq for StillImage {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for StillImage {}

impl fmt::Debug for StillImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "StillImage(#{} {}x{})",
            self.id,
            self.width(),
            self.height()
        )
    }
}
