//! Preset layouts loaded from `layouts/*.json`.

use crate::layout::Layout;

/// Why a preset could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    #[error("unknown layout preset {0:?}")]
    Unknown(String),
    #[error("preset {name:?} has {regions} regions but {camids} camids were given")]
    TooManySources { name: String, regions: usize, camids: usize },
}

/// The layout of preset `name` on a `canvas_w` x `canvas_h` canvas with `camids` in order.
pub fn resolve(
    name: &str,
    camids: &[String],
    canvas_w: u32,
    canvas_h: u32,
    keep_aspect_ratio: bool,
) -> Result<Layout, PresetError> {
    let _ = (name, camids, canvas_w, canvas_h, keep_aspect_ratio);
    todo!("helper C")
}
