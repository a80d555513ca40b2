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
//! - More camids than regions: [`PresetError::TooManySources`].
//! - `keep_aspect_ratio` of the request is applied to every region (the request always
//!   carries a value: proto3 `bool` has no "unset"); the file's per-region value is the
//!   author's default, used by [`Preset::layout`] callers that pass `None`.
//! - `"grid"` is adaptive: the region set is chosen by the number of camids, see
//!   [`ADAPTIVE_GRID`].
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

/// Why a preset could not be loaded or resolved.
#[derive(Debug, thiserror::Error)]
pub enum PresetError {
    /// No preset of this name (caller's mistake).
    #[error("unknown layout preset {0:?}")]
    Unknown(String),
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
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CanvasFile {
    width: u32,
    height: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PresetFile {
    name: String,
    #[serde(default)]
    description: String,
    canvas: CanvasFile,
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
        keep_aspect_ratio: bool,
    ) -> Result<Layout, PresetError> {
        let unknown = || PresetError::Unknown(name.to_string());
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
        preset.layout(camids, canvas_w, canvas_h, Some(keep_aspect_ratio))
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
/// `"grid"`, `keep_aspect_ratio` applied to every region).
///
/// Errors: [`PresetError::Unknown`], [`PresetError::TooManySources`],
/// [`PresetError::BadCanvas`]; all are the caller's mistakes.
pub fn resolve(
    name: &str,
    camids: &[String],
    canvas_w: u32,
    canvas_h: u32,
    keep_aspect_ratio: bool,
) -> Result<Layout, PresetError> {
    PresetSet::embedded().resolve(name, camids, canvas_w, canvas_h, keep_aspect_ratio)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::geometry::{clip, Rect};

    fn ids(n: usize) -> Vec<String> {
        (1..=n).map(|i| format!("Usr{i}.-1")).collect()
    }

    fn region(camid: &str, top: u32, left: u32, width: u32, height: u32, z: Option<i32>) -> Region {
        Region {
            camid: camid.to_string(),
            top,
            left,
            width,
            height,
            keep_aspect_ratio: true,
            z_order: z,
        }
    }

    fn rect(r: &Region) -> Rect {
        Rect::new(r.left, r.top, r.width, r.height)
    }

    #[test]
    fn embedded_presets_are_valid() {
        let set = parse_embedded().expect("every embedded preset parses and validates");
        let mut names = set.names();
        assert!(names.len() >= 5, "{names:?}");
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), set.presets().len(), "names unique");
        for want in ["side-by-side", "picture-in-picture", "grid", "grid-3x3"] {
            assert!(set.get(want).is_some(), "{want} missing");
        }
        assert_eq!(super::names(), PresetSet::embedded().names());
    }

    #[test]
    fn every_file_in_layouts_dir_is_embedded() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("layouts");
        let mut on_disk = load_dir(&dir).expect("layouts/ loads");
        let mut embedded = PresetSet::embedded().presets().to_vec();
        on_disk.sort_by(|a, b| a.name.cmp(&b.name));
        embedded.sort_by(|a, b| a.name.cmp(&b.name));
        assert_eq!(on_disk, embedded);
    }

    #[test]
    fn cloudroom_examples_are_reproduced_at_720p() {
        let sbs = resolve("side-by-side", &ids(2), 1280, 720, true).unwrap();
        assert_eq!(
            sbs.regions,
            vec![
                region("Usr1.-1", 180, 0, 640, 360, None),
                region("Usr2.-1", 180, 640, 640, 360, None)
            ]
        );
        let pip = resolve("picture-in-picture", &ids(2), 1280, 720, true).unwrap();
        assert_eq!(
            pip.regions,
            vec![
                region("Usr1.-1", 0, 0, 1280, 720, Some(0)),
                region("Usr2.-1", 495, 880, 400, 225, Some(1))
            ]
        );
    }

    #[test]
    fn side_by_side_scales_exactly_to_1080p() {
        let l = resolve("side-by-side", &ids(2), 1920, 1080, true).unwrap();
        let got: Vec<Rect> = l.regions.iter().map(rect).collect();
        assert_eq!(
            got,
            vec![Rect::new(0, 270, 960, 540), Rect::new(960, 270, 960, 540)]
        );
    }

    #[test]
    fn geometry_of_every_preset() {
        for (cw, ch) in [
            (1280, 720),
            (1920, 1080),
            (640, 360),
            (3840, 2160),
            (854, 480),
        ] {
            for p in PresetSet::embedded().presets() {
                let l = p.layout(&ids(p.regions.len()), cw, ch, None).unwrap();
                let ctx = format!("{} at {cw}x{ch}", p.name);
                assert_eq!(l.regions.len(), p.regions.len(), "{ctx}");
                let canvas = Rect::new(0, 0, cw, ch);
                for r in &l.regions {
                    assert!(r.width > 0 && r.height > 0, "{ctx}: {r:?}");
                    assert!(canvas.contains(&rect(r)), "{ctx}: {r:?} outside");
                }
                if p.name == "picture-in-picture" {
                    let order = l.draw_order();
                    assert_eq!(
                        order.last().unwrap().camid,
                        "Usr2.-1",
                        "{ctx}: small tile on top"
                    );
                    assert!(rect(&l.regions[0]).contains(&rect(&l.regions[1])), "{ctx}");
                    assert!(l.regions[1].z_order > l.regions[0].z_order, "{ctx}");
                    continue;
                }
                // Tiles never overlap, also after snapping to the 4:2:0 grid at draw time.
                let snapped: Vec<Rect> = l
                    .regions
                    .iter()
                    .map(|r| clip(rect(r), cw, ch).unwrap())
                    .collect();
                for i in 0..snapped.len() {
                    for j in i + 1..snapped.len() {
                        assert!(
                            !snapped[i].intersects(&snapped[j]),
                            "{ctx}: {i} and {j} overlap"
                        );
                        let (a, b) = (rect(&l.regions[i]), rect(&l.regions[j]));
                        assert!(!a.intersects(&b), "{ctx}: {i} and {j} overlap");
                    }
                }
            }
        }
    }

    #[test]
    fn grids_cover_the_canvas() {
        for name in ["grid", "grid-3x3", "grid-4x4", "single"] {
            for (cw, ch) in [(1280, 720), (1920, 1080), (854, 480)] {
                let p = PresetSet::embedded().get(name).unwrap();
                let l = p.layout(&ids(p.regions.len()), cw, ch, None).unwrap();
                let area: u64 = l
                    .regions
                    .iter()
                    .map(|r| u64::from(r.width) * u64::from(r.height))
                    .sum();
                assert_eq!(area, u64::from(cw) * u64::from(ch), "{name} at {cw}x{ch}");
            }
        }
    }

    #[test]
    fn unknown_preset() {
        let e = resolve("mosaic", &ids(1), 1280, 720, true).unwrap_err();
        assert!(
            matches!(e, PresetError::Unknown(ref n) if n == "mosaic"),
            "{e}"
        );
    }

    #[test]
    fn too_many_sources() {
        let e = resolve("side-by-side", &ids(3), 1280, 720, true).unwrap_err();
        assert!(
            matches!(
                e,
                PresetError::TooManySources {
                    regions: 2,
                    camids: 3,
                    ..
                }
            ),
            "{e}"
        );
        let e = resolve("grid", &ids(17), 1280, 720, true).unwrap_err();
        assert!(
            matches!(
                e,
                PresetError::TooManySources {
                    regions: 16,
                    camids: 17,
                    ..
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn bad_canvas() {
        let e = resolve("grid", &ids(1), 0, 720, true).unwrap_err();
        assert!(
            matches!(
                e,
                PresetError::BadCanvas {
                    width: 0,
                    height: 720
                }
            ),
            "{e}"
        );
    }

    #[test]
    fn fewer_sources_use_the_first_regions() {
        let l = resolve("speaker", &ids(2), 1280, 720, true).unwrap();
        assert_eq!(l.regions.len(), 2);
        assert_eq!(rect(&l.regions[0]), Rect::new(160, 0, 960, 540));
        assert_eq!(rect(&l.regions[1]), Rect::new(0, 540, 320, 180));
        assert!(resolve("grid-3x3", &[], 1280, 720, true)
            .unwrap()
            .regions
            .is_empty());
    }

    #[test]
    fn adaptive_grid_picks_by_count() {
        let set = PresetSet::embedded();
        for &(max, name) in ADAPTIVE_GRID {
            assert_eq!(set.get(name).unwrap().regions.len(), max, "{name}");
        }
        // (camids, expected first region, region count of the chosen set)
        let cases = [
            (1, Rect::new(0, 0, 1280, 720)),
            (2, Rect::new(0, 180, 640, 360)),
            (3, Rect::new(0, 0, 640, 360)),
            (4, Rect::new(0, 0, 640, 360)),
            (5, Rect::new(0, 0, 426, 240)),
            (9, Rect::new(0, 0, 426, 240)),
            (10, Rect::new(0, 0, 320, 180)),
            (16, Rect::new(0, 0, 320, 180)),
        ];
        for (n, first) in cases {
            let l = resolve("grid", &ids(n), 1280, 720, true).unwrap();
            assert_eq!(l.regions.len(), n);
            assert_eq!(rect(&l.regions[0]), first, "{n} camids");
        }
        assert!(resolve("grid", &[], 1280, 720, true)
            .unwrap()
            .regions
            .is_empty());
    }

    #[test]
    fn request_keep_aspect_ratio_applies_to_every_region() {
        for keep in [false, true] {
            let l = resolve("grid-3x3", &ids(9), 1280, 720, keep).unwrap();
            assert!(l.regions.iter().all(|r| r.keep_aspect_ratio == keep));
        }
    }

    #[test]
    fn tiny_canvas_keeps_every_region_inside() {
        let l = resolve("grid-4x4", &ids(16), 2, 2, true).unwrap();
        for r in &l.regions {
            assert!(
                r.width >= 1 && r.height >= 1 && r.left + r.width <= 2 && r.top + r.height <= 2
            );
        }
    }

    #[test]
    fn parse_rejects_bad_files() {
        let ok = r#"{"name":"x","canvas":{"width":100,"height":100},
            "regions":[{"top":0,"left":0,"width":100,"height":100}]}"#;
        let p = Preset::parse("x.json", ok).unwrap();
        assert!(
            p.regions[0].keep_aspect_ratio,
            "default keep_aspect_ratio is true"
        );
        assert_eq!(p.regions[0].z_order, None);
        let bad = [
            ("not json", "{"),
            ("name mismatch", &ok.replace("\"x\"", "\"y\"")),
            (
                "zero canvas",
                &ok.replace(
                    "\"width\":100,\"height\":100}",
                    "\"width\":0,\"height\":100}",
                ),
            ),
            (
                "no regions",
                r#"{"name":"x","canvas":{"width":10,"height":10},"regions":[]}"#,
            ),
            (
                "zero region",
                &ok.replace(
                    "\"width\":100,\"height\":100}]",
                    "\"width\":0,\"height\":100}]",
                ),
            ),
            ("outside", &ok.replace("\"left\":0", "\"left\":1")),
            (
                "unknown field",
                &ok.replace("\"top\":0", "\"top\":0,\"camid\":\"a\""),
            ),
        ];
        for (what, json) in bad {
            let e = Preset::parse("x.json", json);
            assert!(
                matches!(e, Err(PresetError::Invalid { .. })),
                "{what}: {e:?}"
            );
        }
    }

    #[test]
    fn user_presets_from_a_directory() {
        let dir = std::env::temp_dir().join(format!("cloudmixer-presets-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let user = r#"{"name":"top-bottom","canvas":{"width":16,"height":18},
            "regions":[{"top":0,"left":0,"width":16,"height":9},
                       {"top":9,"left":0,"width":16,"height":9}]}"#;
        std::fs::write(dir.join("top-bottom.json"), user).unwrap();
        std::fs::write(dir.join("notes.txt"), "ignored").unwrap();
        let set = PresetSet::with_dir(&dir).unwrap();
        let l = set
            .resolve("top-bottom", &ids(2), 1280, 720, false)
            .unwrap();
        assert_eq!(rect(&l.regions[1]), Rect::new(0, 360, 1280, 360));
        assert!(set.get("side-by-side").is_some());
        // A user preset may not shadow a built-in one.
        let dup = std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("layouts/grid.json"),
        )
        .unwrap();
        std::fs::write(dir.join("grid.json"), dup).unwrap();
        assert!(matches!(
            PresetSet::with_dir(&dir),
            Err(PresetError::Invalid { .. })
        ));
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(load_dir(&dir), Err(PresetError::Io { .. })));
    }
}
