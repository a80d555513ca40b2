//! The compositor: draws the sources' latest pictures into a YUV 4:2:0 canvas by a
//! [`Layout`].
//!
//! Per output frame ([`Compositor::compose`]):
//! 1. the whole canvas is filled with the background: the background picture
//!    ([`Compositor::set_background_image`], scaled once to the canvas, stretched) or
//!    the background colour;
//! 2. each region, in [`Layout::draw_order`] (ascending z_order, ties in list order), is
//!    snapped to the 4:2:0 grid and clipped to the canvas ([`geometry::clip`]); the
//!    source picture is fitted into it ([`geometry::fit`]: stretch, or keep the aspect
//!    ratio with bars), the bars are painted with the background (so they also cover
//!    lower regions), and the picture is scaled ([`scale`]) and copied in. A region
//!    whose source has no picture shows its placeholder: the region's
//!    [`Region::placeholder`] picture, fitted and drawn the same way (bars of
//!    background), or, without one, the background;
//! 3. over each region, in the same order: its name label ([`label`]), its border
//!    ([`Compositor::set_region_border`]) and, in the active speaker's tiles, the
//!    speaking ring ([`Compositor::set_speaking_ring`]), each along the inside edge.
//!
//! Cost control: the swscale context and the scaled picture are cached per region (see
//! [`scale::Scaler`]), separately for the source and the placeholder, so a placeholder
//! is converted to YUV420P once per fitted size, not every frame; a source already
//! YUV420P at exactly the fitted size is copied without swscale; buffers are reused, so
//! steady-state composing allocates nothing.
//!
//! Colour: the canvas is BT.601 limited range ([`color::rgb_to_yuv`]). Sources are
//! converted by swscale from their pixel format's default matrix and range (YUVJ420P is
//! full range); a YUV420P source is assumed limited range.
//!
//! Threading: a [`Compositor`] is `Send` (it runs on the mixer's compositing thread) and
//! not shared.

pub mod canvas;
pub mod color;
pub mod label;
pub mod scale;

use std::collections::HashMap;
use std::sync::Arc;

use ffmpeg_next::format::Pixel;
use ffmpeg_next::frame::Video;

use crate::compose::color::{rgb_to_yuv, Yuv};
use crate::compose::scale::{ScaleError, Scaled, Scaler};
use crate::layout::geometry::{self, Rect};
use crate::layout::{Layout, Region};
use crate::model::{Rgb, StillImage};

/// The latest decoded picture of one source.
#[derive(Clone)]
pub struct SourceFrame {
    /// The picture, any pixel format swscale reads (typically YUV420P or YUVJ420P), any
    /// size; its sample aspect ratio is honoured when fitting.
    pub frame: Arc<Video>,
    /// Picture number of this source, incremented for every new picture; a region whose
    /// (camid, seq, size) did not change is not rescaled.
    pub seq: u64,
}

/// Counters since the compositor was made (for metrics and tests).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ComposeStats {
    /// Output frames composed.
    pub frames: u64,
    /// Region draws that ran swscale.
    pub scaled: u64,
    /// Region draws served from a region's cached scaled picture.
    pub cache_hits: u64,
    /// Region draws copied straight from a YUV420P source of the fitted size.
    pub direct_copies: u64,
    /// Region draws whose camid had no picture (placeholder shown).
    pub missing: u64,
    /// Of `missing`, the draws that showed the region's placeholder picture (the others
    /// showed the background colour).
    pub placeholders: u64,
    /// Region draws where swscale failed (background shown).
    pub scale_errors: u64,
}

/// Per-region state, indexed like `Layout::regions`.
struct Slot {
    /// The source's pictures.
    scaler: Scaler,
    /// The placeholder picture (allocates nothing until it is first shown).
    placeholder: Scaler,
}

/// A picture to draw into a region, and the key its scaled copy is cached by.
struct Picture<'a> {
    camid: &'a str,
    seq: u64,
    frame: &'a Video,
}

/// Composes source pictures into a `width` x `height` YUV420P canvas; see the module
/// docs.
pub struct Compositor {
    width: u32,
    height: u32,
    background: Rgb,
    bg: Yuv,
    flags: ffmpeg_next::software::scaling::Flags,
    slots: Vec<Slot>,
    /// Region indices in drawing order, reused every frame.
    order: Vec<usize>,
    stats: ComposeStats,
    /// Display names by camid ([`label`]).
    labels: HashMap<String, String>,
    /// Rasterized labels by (camid, text px).
    masks: HashMap<(String, u32), label::Mask>,
    /// The active speaker and the colour of the ring drawn inside its tiles.
    speaking: Option<String>,
    ring: Option<Yuv>,
    /// Colour and width (pixels) of the border inside every tile.
    border: Option<(Yuv, u32)>,
    /// The background picture and its copy scaled to the canvas.
    backdrop: Option<(StillImage, Scaler)>,
}

/// What the canvas shows where no picture is: a colour, or the background picture
/// already scaled to the canvas (YUV420P, canvas size).
#[derive(Clone, Copy)]
struct Backdrop<'a> {
    colour: Yuv,
    picture: Option<&'a Video>,
}

impl Backdrop<'_> {
    /// Paints `rect` (even-aligned, clipped) of `canvas` with the backdrop.
    fn paint(self, canvas: &mut Video, rect: Rect) {
        match self.picture {
            Some(p) => canvas::copy_rect(canvas, p, rect),
            None => canvas::fill_rect(canvas, rect, self.colour),
        }
    }
}

impl Compositor {
    /// A compositor for a `width` x `height` canvas (pixels, even) with `background` as
    /// canvas and bar colour. Allocates nothing large until the first [`compose`].
    ///
    /// [`compose`]: Compositor::compose
    pub fn new(width: u32, height: u32, background: Rgb) -> Self {
        Compositor {
            width,
            height,
            background,
            bg: rgb_to_yuv(background),
            flags: scale::DEFAULT_FLAGS,
            slots: Vec::new(),
            order: Vec::new(),
            stats: ComposeStats::default(),
            labels: HashMap::new(),
            masks: HashMap::new(),
            speaking: None,
            ring: None,
            border: None,
            backdrop: None,
        }
    }

    /// Canvas width, pixels.
    pub fn width(&self) -> u32 {
        self.width
    }

    /// Canvas height, pixels.
    pub fn height(&self) -> u32 {
        self.height
    }

    /// The background colour.
    pub fn background(&self) -> Rgb {
        self.background
    }

    /// Changes the background colour from the next [`Compositor::compose`] on.
    pub fn set_background(&mut self, background: Rgb) {
        self.background = background;
        self.bg = rgb_to_yuv(background);
    }

    /// Counters since creation.
    pub fn stats(&self) -> ComposeStats {
        self.stats
    }

    /// Draws `frames` (by camid) into `canvas` by `layout`; see the module docs.
    ///
    /// `canvas` must be YUV420P, `width` x `height` (allocate with
    /// `Video::new(Pixel::YUV420P, w, h)`); every pixel is rewritten. If its buffer is
    /// shared with another frame reference (e.g. an encoder still holding it), it is
    /// first made writable (ffmpeg copies it). A canvas of another format is left
    /// untouched (a bug of the caller; logged). Regions are clipped to the canvas.
    pub fn compose(
        &mut self,
        layout: &Layout,
        frames: &HashMap<String, SourceFrame>,
        canvas: &mut Video,
    ) {
        if !canvas::is_yuv420p(canvas) {
            tracing::error!(format = ?canvas.format(), "compositor canvas is not YUV420P");
            debug_assert!(false, "compositor canvas is not YUV420P");
            return;
        }
        debug_assert_eq!((canvas.width(), canvas.height()), (self.width, self.height));
        if !make_writable(canvas) {
            tracing::error!("compositor canvas could not be made writable");
            return;
        }
        self.stats.frames += 1;
        let (cw, ch) = (canvas.width(), canvas.height());
        let picture = match &mut self.backdrop {
            Some((img, scaler)) => match scaler.scale("", img.id(), img.frame(), cw, ch) {
                Ok((p, _)) => Some(p),
                Err(e) => {
                    // A decoded RGB24 picture scales unless ffmpeg is out of memory.
                    tracing::warn!(error = %e, "background picture not drawn");
                    None
                }
            },
            None => None,
        };
        let backdrop = Backdrop {
            colour: self.bg,
            picture,
        };
        match backdrop.picture {
            Some(p) => canvas::blit(canvas, 0, 0, p),
            None => canvas::fill(canvas, self.bg),
        }
        if self.slots.len() < layout.regions.len() {
            let flags = self.flags;
            self.slots.resize_with(layout.regions.len(), || Slot {
                scaler: Scaler::new(flags),
                placeholder: Scaler::new(flags),
            });
        } else {
            // Drop the caches of regions that no longer exist.
            self.slots.truncate(layout.regions.len());
        }
        // Layout::draw_order, as indices into a reused buffer: a stable sort by z_order.
        self.order.clear();
        self.order.extend(0..layout.regions.len());
        self.order
            .sort_by_key(|&i| layout.regions[i].z_order.unwrap_or(0));
        for &i in &self.order {
            let region = &layout.regions[i];
            let Some(area) = geometry::clip(region_rect(region), cw, ch) else {
                continue;
            };
            let slot = &mut self.slots[i];
            let drawn = match (frames.get(&region.camid), &region.placeholder) {
                (Some(src), _) => Some((
                    &mut slot.scaler,
                    Picture {
                        camid: &region.camid,
                        seq: src.seq,
                        frame: &src.frame,
                    },
                )),
                (None, Some(img)) => {
                    self.stats.missing += 1;
                    self.stats.placeholders += 1;
                    let pic = Picture {
                        camid: "",
                        seq: img.id(),
                        frame: img.frame(),
                    };
                    Some((&mut slot.placeholder, pic))
                }
                (None, None) => {
                    self.stats.missing += 1;
                    backdrop.paint(canvas, area);
                    None
                }
            };
            if let Some((scaler, pic)) = drawn {
                if let Err(e) = draw(scaler, &mut self.stats, backdrop, canvas, region, area, pic) {
                    self.stats.scale_errors += 1;
                    backdrop.paint(canvas, area);
                    if !matches!(e, ScaleError::KnownBad { .. }) {
                        tracing::warn!(camid = %region.camid, error = %e, "source not drawn");
                    }
                }
            }
            draw_label(&self.labels, &mut self.masks, canvas, &region.camid, area);
            if let Some((c, px)) = self.border {
                for side in ring(area, px) {
                    canvas::fill_rect(canvas, side, c);
                }
            }
            if let Some(c) = self
                .ring
                .filter(|_| self.speaking.as_deref() == Some(&region.camid))
            {
                for side in ring(area, RING_PX) {
                    canvas::fill_rect(canvas, side, c);
                }
            }
        }
    }

    /// Draws a ring of `colour` inside the active speaker's tiles (None: no ring).
    pub fn set_speaking_ring(&mut self, colour: Option<Rgb>) {
        self.ring = colour.map(rgb_to_yuv);
    }

    /// Draws a border of `colour`, `px` pixels wide (even; at most half the tile), along
    /// the inside of every tile (None: no border).
    pub fn set_region_border(&mut self, border: Option<(Rgb, u32)>) {
        self.border = border.map(|(c, px)| (rgb_to_yuv(c), px & !1));
    }

    /// Shows `image` (any size; stretched to the canvas, scaled once) wherever no source
    /// picture is drawn: outside the regions, in bars and in empty tiles without a
    /// placeholder. None: the background colour.
    pub fn set_background_image(&mut self, image: Option<StillImage>) {
        let flags = self.flags;
        self.backdrop = image.map(|img| (img, Scaler::new(flags)));
    }

    /// The active speaker, whose tiles get the ring.
    pub fn set_speaking(&mut self, camid: Option<&str>) {
        self.speaking = camid.map(str::to_owned);
    }

    /// Sets the display names drawn on the tiles, by camid (empty names are dropped).
    /// Labels need an installed font ([`label::install`]); without one none is drawn.
    pub fn set_labels(&mut self, names: HashMap<String, String>) {
        self.labels = names.into_iter().filter(|(_, n)| !n.is_empty()).collect();
        self.masks.clear();
    }

    /// Sets the swscale algorithm (tests and benchmarks); drops the cached contexts.
    #[cfg(test)]
    fn set_scale_flags(&mut self, flags: ffmpeg_next::software::scaling::Flags) {
        self.flags = flags;
        self.slots.clear();
    }
}

/// Width of the speaking ring, pixels (even: whole chroma samples).
const RING_PX: u32 = 4;

/// The four strips, `w` pixels wide, along the inside of `area`.
fn ring(area: Rect, w: u32) -> [Rect; 4] {
    let w = w.min(area.w / 2).min(area.h / 2);
    [
        Rect {
            x: area.x,
            y: area.y,
            w: area.w,
            h: w,
        },
        Rect {
            x: area.x,
            y: area.bottom() - w,
            w: area.w,
            h: w,
        },
        Rect {
            x: area.x,
            y: area.y,
            w,
            h: area.h,
        },
        Rect {
            x: area.right() - w,
            y: area.y,
            w,
            h: area.h,
        },
    ]
}

/// Draws `camid`'s label (from `labels`, rasterized once into `masks`) in `area`, if it
/// has one and a font is installed.
fn draw_label(
    labels: &HashMap<String, String>,
    masks: &mut HashMap<(String, u32), label::Mask>,
    canvas: &mut Video,
    camid: &str,
    area: Rect,
) {
    let (Some(text), Some(font)) = (labels.get(camid), label::font()) else {
        return;
    };
    let px = label::text_px(area.h);
    let mask = masks
        .entry((camid.to_owned(), px))
        .or_insert_with(|| label::rasterize(font, text, px));
    label::draw(canvas, area, mask);
}

/// Draws `pic` into `area` (snapped, clipped) of `canvas` for `region`, bars included,
/// scaled by `scaler` (which caches it by camid, seq and fitted size).
fn draw(
    scaler: &mut Scaler,
    stats: &mut ComposeStats,
    bg: Backdrop<'_>,
    canvas: &mut Video,
    region: &Region,
    area: Rect,
    pic: Picture<'_>,
) -> Result<(), ScaleError> {
    let frame = pic.frame;
    let (aw, ah) = display_aspect(frame);
    let fitted = geometry::fit(area, aw, ah, region.keep_aspect_ratio);
    for bar in bars(area, fitted) {
        bg.paint(canvas, bar);
    }
    if frame.format() == Pixel::YUV420P
        && frame.planes() >= 3
        && frame.width() == fitted.w
        && frame.height() == fitted.h
    {
        stats.direct_copies += 1;
        canvas::blit(canvas, fitted.x, fitted.y, frame);
        return Ok(());
    }
    let (scaled, how) = scaler.scale(pic.camid, pic.seq, frame, fitted.w, fitted.h)?;
    match how {
        Scaled::Cached => stats.cache_hits += 1,
        Scaled::Fresh => stats.scaled += 1,
    }
    canvas::blit(canvas, fitted.x, fitted.y, scaled);
    Ok(())
}

/// The region as a rectangle, pixels.
fn region_rect(r: &Region) -> Rect {
    Rect::new(r.left, r.top, r.width, r.height)
}

/// The parts of `area` not covered by `inner` (inside `area`): top, bottom, left, right
/// bars; empty ones have zero size.
fn bars(area: Rect, inner: Rect) -> [Rect; 4] {
    [
        Rect::new(area.x, area.y, area.w, inner.y - area.y),
        Rect::new(
            area.x,
            inner.bottom(),
            area.w,
            area.bottom() - inner.bottom(),
        ),
        Rect::new(area.x, inner.y, inner.x - area.x, inner.h),
        Rect::new(
            inner.right(),
            inner.y,
            area.right() - inner.right(),
            inner.h,
        ),
    ]
}

/// The picture's display shape: width x height times its sample aspect ratio (1:1 if
/// unset), reduced to fit u32.
fn display_aspect(f: &Video) -> (u32, u32) {
    let sar = f.aspect_ratio();
    let (num, den) = (sar.numerator(), sar.denominator());
    if num <= 0 || den <= 0 || num == den {
        return (f.width(), f.height());
    }
    // num, den > 0 checked above.
    let mut w = u64::from(f.width()) * num as u64;
    let mut h = u64::from(f.height()) * den as u64;
    while w > u64::from(u32::MAX) || h > u64::from(u32::MAX) {
        w >>= 1;
        h >>= 1;
    }
    (w as u32, h as u32)
}

/// Makes `frame`'s buffers writable (copying them if shared). False on failure (ENOMEM).
fn make_writable(frame: &mut Video) -> bool {
    // SAFETY: `frame` wraps a valid, allocated AVFrame owned by ffmpeg-next;
    // av_frame_make_writable only requires a valid frame pointer and keeps the frame
    // valid (it replaces shared buffers by copies, keeping format and size).
    unsafe { ffmpeg_next::ffi::av_frame_make_writable(frame.as_mut_ptr()) >= 0 }
}

#[cfg(test)]
mod placeholder_tests;
#[cfg(test)]
mod tests;
