//! Layouts: which source goes where on the output canvas.
//!
//! A [`Layout`] is a list of [`Region`]s in output pixels. Regions are drawn in
//! [`Layout::draw_order`]: ascending `z_order` (unset counts as 0), ties in list order,
//! so later regions are on top. Geometry is pure ([`geometry`]); presets are JSON files
//! from `layouts/` ([`preset`]).
//!
//! Region values are kept as given (a Cloudroom tile may start on an odd pixel); the
//! compositor snaps each region to the 4:2:0 grid and clips it to the canvas when
//! drawing ([`geometry::clip`]).

pub mod geometry;
pub mod preset;
pub mod schema;

pub use crate::model::{Layout, Region};
