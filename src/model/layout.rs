//! Layouts: which source goes where on the output canvas.
//!
//! A [`Layout`] is a list of [`Region`]s in output pixels. Regions are drawn in
//! [`Layout::draw_order`]: ascending `z_order` (unset counts as 0), ties in list order,
//! so later regions are on top. A region refers to its placeholder picture (a shared,
//! already decoded [`StillImage`]); it holds no pixels of its own.

use serde::{Deserialize, Serialize};

use crate::model::StillImage;

/// One rectangle of the output picture showing one source (Cloudroom layoutConfig element).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Region {
    /// The source shown; may name a source that has not sent anything (shows the
    /// placeholder).
    pub camid: String,
    /// Distance from the canvas top, pixels.
    pub top: u32,
    /// Distance from the canvas left edge, pixels.
    pub left: u32,
    /// Pixels, > 0.
    pub width: u32,
    /// Pixels, > 0.
    pub height: u32,
    /// true: fit inside with letterbox/pillarbox bars in the background colour; false: stretch.
    pub keep_aspect_ratio: bool,
    /// Higher is drawn later (on top); None counts as 0.
    pub z_order: Option<i32>,
    /// Shown, fitted like a source picture, while the source has no live picture; None:
    /// the background colour. Not serialized (presets carry no pictures).
    #[serde(skip)]
    pub placeholder: Option<StillImage>,
}

/// The regions of one output picture.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Layout {
    pub regions: Vec<Region>,
}

impl Layout {
    /// The layout with `camid` in the main tile (the largest region, the first of equal
    /// ones): its camid and the main tile's swap places, so everyone stays visible.
    /// None when `camid` is already there or shown nowhere (an audio-only source, or one
    /// past the preset's tiles: promoting it would show a placeholder).
    pub fn promote(&self, camid: &str) -> Option<Layout> {
        let area = |r: &Region| i64::from(r.width) * i64::from(r.height);
        let main = (0..self.regions.len())
            .rev()
            .max_by_key(|&i| area(&self.regions[i]))?;
        let at = self.regions.iter().position(|r| r.camid == camid)?;
        if at == main {
            return None;
        }
        let mut l = self.clone();
        let old = std::mem::replace(&mut l.regions[main].camid, camid.to_owned());
        l.regions[at].camid = old;
        Some(l)
    }

    /// Regions in drawing order: ascending z_order (None = 0), stable in list order.
    pub fn draw_order(&self) -> Vec<&Region> {
        let mut v: Vec<&Region> = self.regions.iter().collect();
        v.sort_by_key(|r| r.z_order.unwrap_or(0));
        v
    }
}

/// How a layout follows the call: whether it is redone when sources join or leave
/// (Create's and Update's `add_sources` / `remove_camids`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum LayoutFill {
    /// Explicit `layout_config` regions, or a preset naming its camids: kept exactly as
    /// given whatever joins or leaves.
    #[default]
    Fixed,
    /// A preset that named no camids: filled again from the video sources after every
    /// join or leave (a grid of 4 becomes a grid of 3, then of 5).
    FromSources {
        /// The preset's name; None: the Create default, whose preset depends on the
        /// number of video sources (side-by-side for two, otherwise the adaptive grid).
        preset: Option<String>,
        /// The request's keep-aspect-ratio override; None keeps the preset file's.
        keep_aspect_ratio: Option<bool>,
        /// The request's placeholder picture for every region, already decoded.
        placeholder: Option<StillImage>,
    },
}

impl LayoutFill {
    /// The `speaker` preset filled from the sources: its main tile may follow the active
    /// speaker (when no source is the pinned host).
    pub fn is_speaker(&self) -> bool {
        matches!(self, LayoutFill::FromSources { preset: Some(p), .. } if p == "speaker")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn region(camid: &str, left: u32, width: u32) -> Region {
        Region {
            camid: camid.into(),
            top: 0,
            left,
            width,
            height: width * 9 / 16,
            keep_aspect_ratio: true,
            z_order: None,
            placeholder: None,
        }
    }

    #[test]
    fn promote_swaps_the_speaker_into_the_main_tile() {
        let l = Layout {
            regions: vec![
                region("a", 160, 960),
                region("b", 0, 320),
                region("c", 320, 320),
            ],
        };
        let p = l.promote("c").expect("c moves up");
        let names: Vec<&str> = p.regions.iter().map(|r| r.camid.as_str()).collect();
        assert_eq!(names, ["c", "b", "a"]);
        assert_eq!(p.regions[0].width, 960, "geometry stays");
        assert!(l.promote("a").is_none(), "already main");
        assert!(l.promote("z").is_none(), "shown nowhere");
    }
}
