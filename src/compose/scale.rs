//! Software scaling (libswscale) of one source picture to one region's size, cached.
//!
//! A [`Scaler`] belongs to one region of the compositor. It keeps
//! - the swscale context, recreated only when the source format or size or the target
//!   size changes, and
//! - the scaled YUV420P picture, reused until the source picture (camid, seq) or the
//!   target size changes, so a source that did not send a new picture is not rescaled.
//!
//! The output buffer is allocated once per target size; steady-state scaling allocates
//! nothing.

use ffmpeg_next::format::Pixel;
use ffmpeg_next::frame::Video;
use ffmpeg_next::software::scaling::{support, Context, Flags};

/// Scaling algorithm used by the compositor. Measured with `compose::tests::bench_compose`
/// (thread CPU time per output frame, every source new each frame, FFmpeg 5.1 x86-64):
/// fast bilinear vs bilinear 0.65 vs 0.74 ms (720p side-by-side from two 720p sources),
/// 0.19 vs 0.35 ms (720p picture-in-picture), 0.56 vs 0.61 ms (1080p 3x3 from 360p),
/// 2.5 vs 2.7-3.4 ms (1080p side-by-side from two 1080p sources). Fast bilinear uses a
/// cheaper horizontal filter; solid colours come out within 1-2 code values either way.
pub const DEFAULT_FLAGS: Flags = Flags::FAST_BILINEAR;

/// What a swscale context was made for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ContextKey {
    src_format: Pixel,
    src_w: u32,
    src_h: u32,
    dst_w: u32,
    dst_h: u32,
}

/// What the cached output picture shows.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PictureKey {
    camid: String,
    seq: u64,
    dst_w: u32,
    dst_h: u32,
}

/// A swscale context that may move to another thread.
struct SendContext(Context);

// SAFETY: an SwsContext has no thread affinity: it holds only its own tables and
// buffers, and is used here only through `&mut` (never shared between threads), so moving
// it to another thread is sound. (ffmpeg-next marks the resampling context Send on the
// same grounds; the scaling context lacks the impl only by omission.)
unsafe impl Send for SendContext {}

/// Whether [`Scaler::scale`] had to run swscale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scaled {
    /// The cached picture was still valid.
    Cached,
    /// The source was scaled into the cached picture.
    Fresh,
}

/// Why a picture could not be scaled.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ScaleError {
    /// swscale refused the conversion (unsupported format, zero size, out of memory).
    #[error("swscale cannot convert {src_format:?} {src_w}x{src_h} to YUV420P {dst_w}x{dst_h}: {reason}")]
    Unsupported {
        src_format: Pixel,
        src_w: u32,
        src_h: u32,
        dst_w: u32,
        dst_h: u32,
        reason: String,
    },
    /// swscale refused this source format and size before (reported then); it is not
    /// asked again until the source's format or size changes.
    #[error("swscale refused {src_format:?} {src_w}x{src_h} before")]
    KnownBad {
        src_format: Pixel,
        src_w: u32,
        src_h: u32,
    },
}

/// Scales pictures of one source at a time to YUV420P, with the caches described in the
/// module docs.
pub struct Scaler {
    flags: Flags,
    ctx: Option<(ContextKey, SendContext)>,
    /// The last key swscale refused, so a bad source is not retried every tick.
    failed: Option<ContextKey>,
    /// The scaled picture (YUV420P); empty until the first scale.
    out: Video,
    /// What `out` shows; meaningful only while `shown_valid`.
    shown: PictureKey,
    shown_valid: bool,
}

impl Scaler {
    /// A scaler with swscale `flags` (e.g. [`DEFAULT_FLAGS`]); allocates nothing yet.
    pub fn new(flags: Flags) -> Scaler {
        Scaler {
            flags,
            ctx: None,
            failed: None,
            out: Video::empty(),
            shown: PictureKey {
                camid: String::new(),
                seq: 0,
                dst_w: 0,
                dst_h: 0,
            },
            shown_valid: false,
        }
    }

    /// `src` (source `camid`, picture number `seq`, any pixel format swscale reads)
    /// scaled to a `dst_w` x `dst_h` YUV420P picture (pixels, > 0). Returns the cached
    /// picture if it already shows this (camid, seq) at this size.
    pub fn scale(
        &mut self,
        camid: &str,
        seq: u64,
        src: &Video,
        dst_w: u32,
        dst_h: u32,
    ) -> Result<(&Video, Scaled), ScaleError> {
        let k = &self.shown;
        if self.shown_valid
            && k.seq == seq
            && k.dst_w == dst_w
            && k.dst_h == dst_h
            && k.camid == camid
        {
            return Ok((&self.out, Scaled::Cached));
        }
        self.shown_valid = false;
        let key = ContextKey {
            src_format: src.format(),
            src_w: src.width(),
            src_h: src.height(),
            dst_w,
            dst_h,
        };
        // An empty frame has width 0 and format None, so it is allocated here too.
        if self.out.format() != Pixel::YUV420P
            || self.out.width() != dst_w
            || self.out.height() != dst_h
        {
            self.out = Video::new(Pixel::YUV420P, dst_w, dst_h);
        }
        let ctx = context(&mut self.ctx, &mut self.failed, self.flags, key)?;
        ctx.run(src, &mut self.out)
            .map_err(|e| unsupported(key, e.to_string()))?;
        self.shown.camid.clear();
        self.shown.camid.push_str(camid);
        self.shown.seq = seq;
        self.shown.dst_w = dst_w;
        self.shown.dst_h = dst_h;
        self.shown_valid = true;
        Ok((&self.out, Scaled::Fresh))
    }
}

/// The context in `slot` for `key`, made (or remade) if needed. `failed` remembers the
/// last key swscale refused, which is then refused again without asking swscale.
fn context<'a>(
    slot: &'a mut Option<(ContextKey, SendContext)>,
    failed: &mut Option<ContextKey>,
    flags: Flags,
    key: ContextKey,
) -> Result<&'a mut Context, ScaleError> {
    if *failed == Some(key) {
        return Err(ScaleError::KnownBad {
            src_format: key.src_format,
            src_w: key.src_w,
            src_h: key.src_h,
        });
    }
    if !matches!(slot, Some((k, _)) if *k == key) {
        *slot = None;
        // swscale asserts (aborts the process) on some invalid input, e.g. format NONE:
        // refuse those here.
        if !support::input(key.src_format)
            || key.src_w == 0
            || key.src_h == 0
            || key.dst_w == 0
            || key.dst_h == 0
        {
            *failed = Some(key);
            return Err(unsupported(
                key,
                "unsupported format or zero size".to_string(),
            ));
        }
        let made = Context::get(
            key.src_format,
            key.src_w,
            key.src_h,
            Pixel::YUV420P,
            key.dst_w,
            key.dst_h,
            flags,
        )
        .map_err(|e| {
            *failed = Some(key);
            unsupported(key, e.to_string())
        })?;
        *failed = None;
        *slot = Some((key, SendContext(made)));
    }
    match slot {
        Some((_, c)) => Ok(&mut c.0),
        // Unreachable: filled just above.
        None => Err(unsupported(key, "no context".to_string())),
    }
}

fn unsupported(k: ContextKey, reason: String) -> ScaleError {
    ScaleError::Unsupported {
        src_format: k.src_format,
        src_w: k.src_w,
        src_h: k.src_h,
        dst_w: k.dst_w,
        dst_h: k.dst_h,
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caches_by_source_picture_and_size() {
        ffmpeg_next::init().expect("ffmpeg initialises");
        let src = Video::new(Pixel::YUV420P, 64, 48);
        let mut s = Scaler::new(DEFAULT_FLAGS);
        let run = |s: &mut Scaler, camid, seq, w, h| s.scale(camid, seq, &src, w, h).map(|r| r.1);
        assert_eq!(run(&mut s, "a", 1, 32, 24).unwrap(), Scaled::Fresh);
        assert_eq!(run(&mut s, "a", 1, 32, 24).unwrap(), Scaled::Cached);
        assert_eq!(run(&mut s, "a", 2, 32, 24).unwrap(), Scaled::Fresh);
        assert_eq!(run(&mut s, "b", 2, 32, 24).unwrap(), Scaled::Fresh);
        assert_eq!(run(&mut s, "b", 2, 16, 12).unwrap(), Scaled::Fresh);
        let (pic, _) = s.scale("b", 2, &src, 16, 12).unwrap();
        assert_eq!(
            (pic.format(), pic.width(), pic.height()),
            (Pixel::YUV420P, 16, 12)
        );
    }

    #[test]
    fn refused_source_is_not_retried() {
        ffmpeg_next::init().expect("ffmpeg initialises");
        let mut s = Scaler::new(DEFAULT_FLAGS);
        let bad = Video::empty();
        let e = s.scale("a", 1, &bad, 32, 24).map(|r| r.1).unwrap_err();
        assert!(matches!(e, ScaleError::Unsupported { .. }), "{e}");
        let e = s.scale("a", 2, &bad, 32, 24).map(|r| r.1).unwrap_err();
        assert!(matches!(e, ScaleError::KnownBad { .. }), "{e}");
        // A usable picture from the same source works again.
        let good = Video::new(Pixel::YUV420P, 64, 48);
        assert!(s.scale("a", 3, &good, 32, 24).is_ok());
    }
}
