//! Preset layouts: JSON files from `layouts/`, compiled into the binary.
//!
//! # File format
//!
//! ```json
//! { "name": "side-by-side", "description": "...",
//!   "canvas": { "width": 1280, "height": 720 },
//!   "regions": [ { "top": 180, "left": 0, "width": 640, "height": 360,
//!                  "keep_aspect_ratio": true, "z_order": 0 } ] }
//! ```
//!
//! Regions are in pixels of the file's *reference canvas*. `keep_aspect_ratio` is
//! optional (default `true`) and `z_order` optional (default: list order, see
//! [`Layout::draw_order`]). The `name` must equal the file name without `.json`.
//!
//! # Resolving
//!
//! [`resolve`] scales the regions to the requested canvas by integer math, rounding
//! each *edge* to the nearest pixel (so regions that touch keep touching), and fills them
//! with the camids in order: camid `i` goes to region `i`.
//! - Fewer camids than regions: only the first `camids.len()` regions are used; the rest
//!   are left out of the layout (their area shows the background).
//! - More camids than regions: [`PresetError::TooManySources`] (request validation
//!   shows the first ones instead when the camids were filled by default).
//! - `keep_aspect_ratio`: a request that sets it applies it to every region; unset, each
//!   region keeps its file value (the author's default; every embedded preset keeps the
//!   ratio), in every entry point (API, CLI, offline compose).
//! - `"grid"` is adaptive: the region set is chosen by the number of camids, see
//!   [`ADAPTIVE_GRID`].
//!
//! # Default camids and the host
//!
//! A request that names no camids fills the preset with the mixer's video sources
//! ([`default_camids`]): in source order, except that the presets of [`HOST_FIRST`]
//! (`"speaker"`, whose first region is the main tile, and `"single"`) put the host (NetEase
//! `isHostSpeaker`, `SourceConfig.host`) first and the others after it in source order.
//! Every other preset keeps source order: a grid has no main tile. Camids named by the
//! request are used as given, host or not.
//!
//! Region values are *not* even-aligned here: at the reference canvas a preset resolves
//! to exactly its file's numbers (the Cloudroom picture-in-picture tile is `top=495
//! height=225`). Snapping to the 4:2:0 grid happens once, when drawing, in
//! [`geometry::clip`], for preset and request layouts alike.
//!
//! Presets are validated at load: the JSON parses, the name matches the file and is
//! unique, the canvas and every region have a non-zero size and every region lies inside
//! the canvas.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use serde::Deserialize;

use crate::layout::{geometry, Layout, Region};

/// Preset files compiled into the binary: (file name, JSON text). The binary never reads
/// `layouts/` at run time.
const EMBEDDED: &[(&str, &str)] = &[
    ("single.json", include_str!("../../layouts/single.json")),
    (
        "side-by-side.json",
        include_str!("../../layouts/side-by-side.json"),
    ),
    (
        "picture-in-picture.json",
        include_str!("../../layouts/picture-in-picture.json"),
    ),
    ("grid.json", include_str!("../../layouts/grid.json")),
    ("grid-3x3.json", include_str!("../../layouts/grid-3x3.json")),
    ("grid-4x4.json", include_str!("../../layouts/grid-4x4.json")),
    ("speaker.json", include_str!("../../layouts/speaker.json")),
];

/// The adaptive `"grid"` preset: for `n` camids, the first entry with `max >= n` is used
/// (0 or 1 camid: `single`, 2: `side-by-side`, 3-4: the 2x2 `grid`, 5-9: `grid-3x3`,
/// 10-16: `grid-4x4`); more than the last `max` is [`PresetError::TooManySources`].
pub const ADAPTIVE_GRID: &[(usize, &str)] = &[
    (1, "single"),
    (2, "side-by-side"),
    (4, "grid"),
    (9, "grid-3x3"),
    (16, "grid-4x4"),
];

/// The name of the adaptive grid preset.
pub const ADAPTIVE_GRID_NAME: &str = "grid";

/// Presets whose first region is the main tile: filled with default camids, they give
/// it to the host (see the module docs).
pub const HOST_FIRST: &[&str] = &["speaker", "single"];

/// The camids a preset named `name` is filled with when the request names none:
/// `video_camids` (the mixer's video sources, in source order), with `host` moved to
/// the front if `name` is one of [`HOST_FIRST`] and `host` is among them. Any other
/// preset, or a host without video, keeps source order.
pub fn default_camids(name: &str, video_camids: &[String], host: Option<&str>) -> Vec<String> {
    let mut out = video_camids.to_vec();
    if HOST_FIRST.contains(&name) {
        if let Some(i) = host.and_then(|h| out.iter().position(|c| c == h)) {
            let h = out.remove(i);
            out.insert(0, h);
        }
    }
    out
}

/// Why a preset could not be loaded or resolved.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    /// No preset of this name (caller's mistake); `valid` lists the names there are.
    #[error("unknown layout preset {name:?}; the presets are: {}", valid.join(", "))]
    Unknown { name: String, valid: Vec<String> },
    /// More camids than the preset has regions (caller's mistake).
    #[error("preset {name:?} has {regions} regions but {camids} camids were given")]
    TooManySources {
        name: String,
        regions: usize,
        camids: usize,
    },
    /// The requested canvas has a zero dimension (caller's mistake).
    #[error("canvas {width}x{height} has a zero dimension")]
    BadCanvas { width: u32, height: u32 },
    /// A preset file is malformed or breaks a rule (operator's mistake for user presets;
    /// a build bug for embedded ones).
    #[error("layout preset {file}: {reason}")]
    Invalid { file: String, reason: String },
    /// A preset directory or file could not be read.
    #[error("reading layout presets from {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// One region of a preset, in reference-canvas pixels.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PresetRegion {
    /// Pixels from the reference canvas' top.
    pub top: u32,
    /// Pixels from the reference canvas' left edge.
    pub left: u32,
    /// Pixels, > 0.
    pub width: u32,
    /// Pixels, > 0.
    pub height: u32,
    /// The author's default fit mode (default `true`); [`resolve`] applies the request's.
    #[serde(default = "default_keep")]
    pub keep_aspect_ratio: bool,
    /// Drawing order; higher is on top; None = 0 (list order among equals).
    #[serde(default)]
    pub z_order: Option<i32>,
}

fn default_keep() -> bool {
    true
}

/// The reference canvas the regions are drawn on; scaled to the mixer's canvas.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CanvasFile {
    /// Pixels, > 0.
    width: u32,
    /// Pixels, > 0.
    height: u32,
}

/// A cloudmixer preset layout file (layouts/NAME.json): regions in the order sources
/// fill them.
#[derive(Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct PresetFile {
    /// Unique name, equal to the file name without `.json`.
    name: String,
    /// One line for `cloudmixer presets`.
    #[serde(default)]
    description: String,
    canvas: CanvasFile,
    /// Filled with the video sources in order (the host first for `speaker`).
    regions: Vec<PresetRegion>,
}

/// A validated preset layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preset {
    /// Unique name, equal to the file name without `.json`.
    pub name: String,
    /// One line for humans.
    pub description: String,
    /// Reference canvas width the regions are given in, pixels, > 0.
    pub canvas_width: u32,
    /// Reference canvas height, pixels, > 0.
    pub canvas_height: u32,
    /// Non-empty; each inside the reference canvas with a non-zero size.
    pub regions: Vec<PresetRegion>,
}

impl Preset {
    /// Parses and validates one preset file. `file_name` is used for the name check and
    /// in errors.
    pub fn parse(file_name: &str, json: &str) -> Result<Preset, PresetError> {
        let invalid = |reason: String| PresetError::Invalid {
            file: file_name.to_string(),
            reason,
        };
        let f: PresetFile = serde_json::from_str(json).map_err(|e| invalid(e.to_string()))?;
        let stem = file_name.strip_suffix(".json").unwrap_or(file_name);
        if f.name.is_empty() || f.name != stem {
            return Err(invalid(format!(
                "name {:?} must equal the file name without .json ({stem:?})",
                f.name
            )));
        }
        let (cw, ch) = (f.canvas.width, f.canvas.height);
        if cw == 0 || ch == 0 {
            return Err(invalid(format!("canvas {cw}x{ch} has a zero dimension")));
        }
        if f.regions.is_empty() {
            return Err(invalid("no regions".to_string()));
        }
        for (i, r) in f.regions.iter().enumerate() {
            if r.width == 0 || r.height == 0 {
                return Err(invalid(format!("regions[{i}] has a zero size")));
            }
            let right = u64::from(r.left) + u64::from(r.width);
            let bottom = u64::from(r.top) + u64::from(r.height);
            if right > u64::from(cw) || bottom > u64::from(ch) {
                return Err(invalid(format!(
                    "regions[{i}] ({}x{} at left={} top={}) is outside the {cw}x{ch} canvas",
                    r.width, r.height, r.left, r.top
                )));
            }
        }
        Ok(Preset {
            name: f.name,
            description: f.description,
            canvas_width: cw,
            canvas_height: ch,
            regions: f.regions,
        })
    }

    /// The regions scaled to a `canvas_w` x `canvas_h` canvas and filled with `camids` in
    /// order (camid `i` to region `i`; extra regions are left out). `keep_aspect_ratio`:
    /// Some(v) applies `v` to every region, None keeps each region's file value.
    /// Each edge is rounded to the nearest pixel; every region keeps at least 1x1 pixel
    /// and stays inside the canvas.
    pub fn layout(
        &self,
        camids: &[String],
        canvas_w: u32,
        canvas_h: u32,
        keep_aspect_ratio: Option<bool>,
    ) -> Result<Layout, PresetError> {
        if canvas_w == 0 || canvas_h == 0 {
            return Err(PresetError::BadCanvas {
                width: canvas_w,
                height: canvas_h,
            });
        }
        if camids.len() > self.regions.len() {
            return Err(PresetError::TooManySources {
                name: self.name.clone(),
                regions: self.regions.len(),
                camids: camids.len(),
            });
        }
        let regions = camids
            .iter()
            .zip(&self.regions)
            .map(|(camid, r)| {
                let (left, width) = scale_span(r.left, r.width, self.canvas_width, canvas_w);
                let (top, height) = scale_span(r.top, r.height, self.canvas_height, canvas_h);
                Region {
                    camid: camid.clone(),
                    top,
                    left,
                    width,
                    height,
                    keep_aspect_ratio: keep_aspect_ratio.unwrap_or(r.keep_aspect_ratio),
                    z_order: r.z_order,
                    placeholder: None,
                }
            })
            .collect();
        Ok(Layout { regions })
    }
}

/// Scales `[pos, pos + len)` from a `from`-pixel axis to a `to`-pixel axis (both > 0),
/// edge by edge; returns `(pos, len)` with `len >= 1` and `pos + len <= to`.
fn scale_span(pos: u32, len: u32, from: u32, to: u32) -> (u32, u32) {
    let start = geometry::scale_coord(pos, from, to);
    let end = geometry::scale_coord(pos.saturating_add(len), from, to).min(to);
    if end > start {
        (start, end - start)
    } else {
        // Collapsed on a tiny canvas: keep one pixel, inside the canvas.
        (start.min(to - 1), 1)
    }
}

/// A set of presets with unique names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresetSet {
    presets: Vec<Preset>,
}

impl PresetSet {
    /// A set from already-validated presets; fails if two share a name.
    pub fn new(presets: Vec<Preset>) -> Result<PresetSet, PresetError> {
        for (i, p) in presets.iter().enumerate() {
            if presets[..i].iter().any(|q| q.name == p.name) {
                return Err(PresetError::Invalid {
                    file: format!("{}.json", p.name),
                    reason: format!("duplicate preset name {:?}", p.name),
                });
            }
        }
        Ok(PresetSet { presets })
    }

    /// The presets compiled into the binary from `layouts/`, parsed once.
    pub fn embedded() -> &'static PresetSet {
        static SET: OnceLock<PresetSet> = OnceLock::new();
        SET.get_or_init(|| {
            parse_embedded()
                .expect("embedded presets are checked by the unit test embedded_presets_are_valid")
        })
    }

    /// The embedded presets plus the user presets of `dir` (see [`load_dir`]); a user
    /// preset may not reuse a built-in name.
    pub fn with_dir(dir: &Path) -> Result<PresetSet, PresetError> {
        let mut all = Self::embedded().presets.clone();
        all.extend(load_dir(dir)?);
        PresetSet::new(all)
    }

    /// The preset named `name`, if any.
    pub fn get(&self, name: &str) -> Option<&Preset> {
        self.presets.iter().find(|p| p.name == name)
    }

    /// All presets, in load order.
    pub fn presets(&self) -> &[Preset] {
        &self.presets
    }

    /// Preset names, in load order.
    pub fn names(&self) -> Vec<&str> {
        self.presets.iter().map(|p| p.name.as_str()).collect()
    }

    /// Like the free function [`resolve`], over this set.
    pub fn resolve(
        &self,
        name: &str,
        camids: &[String],
        canvas_w: u32,
        canvas_h: u32,
        keep_aspect_ratio: Option<bool>,
    ) -> Result<Layout, PresetError> {
        let unknown = || PresetError::Unknown {
            name: name.to_string(),
            valid: self.names().into_iter().map(str::to_owned).collect(),
        };
        let preset = if name == ADAPTIVE_GRID_NAME {
            let Some(&(_, chosen)) = ADAPTIVE_GRID.iter().find(|(max, _)| camids.len() <= *max)
            else {
                return Err(PresetError::TooManySources {
                    name: name.to_string(),
                    regions: ADAPTIVE_GRID.last().map_or(0, |(max, _)| *max),
                    camids: camids.len(),
                });
            };
            self.get(chosen).ok_or_else(unknown)?
        } else {
            self.get(name).ok_or_else(unknown)?
        };
        preset.layout(camids, canvas_w, canvas_h, keep_aspect_ratio)
    }
}

fn parse_embedded() -> Result<PresetSet, PresetError> {
    let presets = EMBEDDED
        .iter()
        .map(|(file, json)| Preset::parse(file, json))
        .collect::<Result<Vec<_>, _>>()?;
    PresetSet::new(presets)
}

/// Loads and validates every `*.json` file of `dir` (not recursive), in file-name order.
/// Names must be unique within the directory.
pub fn load_dir(dir: &Path) -> Result<Vec<Preset>, PresetError> {
    let io = |path: &Path, source| PresetError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| io(dir, e))? {
        let path = entry.map_err(|e| io(dir, e))?.path();
        if path.extension().is_some_and(|e| e == "json") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    let mut presets = Vec::with_capacity(files.len());
    for path in files {
        let json = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
        let file_name = path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        presets.push(Preset::parse(&file_name, &json)?);
    }
    // Reuse the uniqueness check.
    Ok(PresetSet::new(presets)?.presets)
}

/// Names of the embedded presets, in table order.
pub fn names() -> Vec<&'static str> {
    PresetSet::embedded().names()
}

/// The layout of embedded preset `name` on a `canvas_w` x `canvas_h` canvas (pixels) with
/// `camids` in order. See the module docs for the rules (fewer/more camids, the adaptive
/// `"grid"`; `keep_aspect_ratio` Some(v) applied to every region, None keeps each
/// region's value from the preset file).
///
/// Errors: [`PresetError::Unknown`], [`PresetError::TooManySources`],
/// [`PresetError::BadCanvas`]; all are the caller's mistakes.
pub fn resolve(
    name: &str,
    camids: &[String],
    canvas_w: u32,
    canvas_h: u32,
    keep_aspect_ratio: Option<bool>,
) -> Result<Layout, PresetError> {
    PresetSet::embedded().resolve(name, camids, canvas_w, canvas_h, keep_aspect_ratio)
}

#[cfg(test)]
#[path = "preset_tests.rs"]
mod tests;
