//! Layouts: `layout_config` (explicit regions) or `layout_preset` -> [`Layout`].
//!
//! Rules: not both; at most [`MAX_REGIONS`] regions; each region of type
//! `CONTENT_TYPE_VIDEO`, `top`/`left` >= 0, `width`/`height` > 0, inside the canvas, with a
//! non-empty `param.camid` (which need not be a source: such a tile shows the background).
//! Presets resolve through [`crate::layout::preset::resolve`]; a preset without camids
//! is filled with the mixer's video sources in order. A region's or preset's
//! `placeholder_image` is checked and decoded by [`super::placeholder`].

use crate::model::FieldError;

use super::field::{self, invalid};
use super::placeholder::Placeholders;
use super::strings;
use crate::layout::{preset, Layout, Region};
use crate::model::Rgb;
use crate::proto;

/// Most regions one layout may have.
pub const MAX_REGIONS: usize = 64;

/// The layout used when a Create request gives none: [`DEFAULT_PRESET_TWO`] for exactly
/// two video sources, otherwise [`DEFAULT_PRESET`]; aspect ratio kept. No video source:
/// an empty layout (background only).
pub const DEFAULT_PRESET: &str = "grid";
/// Default preset for exactly two video sources.
pub const DEFAULT_PRESET_TWO: &str = "side-by-side";

/// The canvas a layout is checked against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Canvas {
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// The mixer's background colour: placeholder pictures' transparency is blended over it.
    pub background: Rgb,
}

/// The layout requested by `config` / `preset` (request fields `{prefix}layout_config` and
/// `{prefix}layout_preset`; `prefix` is `"video_file_cfg."` or empty). `video_camids` fill a
/// preset that names none. None when neither is set.
/// Errors: a [`FieldError`] naming the field.
pub fn requested(
    config: &[proto::LayoutRegion],
    preset: Option<&proto::LayoutPreset>,
    prefix: &str,
    canvas: Canvas,
    video_camids: &[String],
) -> Result<Option<Layout>, FieldError> {
    let config_field = format!("{prefix}layout_config");
    let preset_field = format!("{prefix}layout_preset");
    match (config.is_empty(), preset) {
        (true, None) => Ok(None),
        (false, Some(_)) => Err(invalid(
            preset_field,
            format!("set either {config_field} or layout_preset, not both"),
        )),
        (false, None) => regions(config, &config_field, canvas).map(Some),
        (true, Some(p)) => from_preset(p, &preset_field, canvas, video_camids).map(Some),
    }
}

/// The Create default (see [`DEFAULT_PRESET`]).
/// Errors: a [`FieldError`] naming `video_file_cfg.layout_preset.name` if the preset
/// cannot hold the sources.
pub fn default_layout(canvas: Canvas, video_camids: &[String]) -> Result<Layout, FieldError> {
    if video_camids.is_empty() {
        return Ok(Layout::default());
    }
    let p = proto::LayoutPreset {
        name: default_preset_name(video_camids.len()).to_owned(),
        camids: Vec::new(),
        keep_aspect_ratio: true,
        placeholder_image: Vec::new(),
    };
    from_preset(&p, "video_file_cfg.layout_preset", canvas, video_camids)
}

/// The preset of the Create default for `video_sources` (> 0) video sources:
/// [`DEFAULT_PRESET_TWO`] for two, otherwise [`DEFAULT_PRESET`].
pub fn default_preset_name(video_sources: usize) -> &'static str {
    if video_sources == 2 {
        DEFAULT_PRESET_TWO
    } else {
        DEFAULT_PRESET
    }
}

/// Explicit regions (field `f`, e.g. `video_file_cfg.layout_config`).
pub fn regions(
    config: &[proto::LayoutRegion],
    f: &str,
    canvas: Canvas,
) -> Result<Layout, FieldError> {
    if config.len() > MAX_REGIONS {
        return Err(invalid(
            f,
            format!("at most {MAX_REGIONS} regions, got {}", config.len()),
        ));
    }
    let mut images = Placeholders::new(canvas.background);
    let regions = config
        .iter()
        .enumerate()
        .map(|(i, r)| region(r, &field::index(f, i), canvas, &mut images))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Layout { regions })
}

fn region<'a>(
    r: &'a proto::LayoutRegion,
    at: &str,
    canvas: Canvas,
    images: &mut Placeholders<'a>,
) -> Result<Region, FieldError> {
    let f = |name: &str| field::join(at, name);
    if r.r#type != proto::ContentType::Video as i32 {
        return Err(invalid(
            f("type"),
            format!("only CONTENT_TYPE_VIDEO (0) is supported, got {}", r.r#type),
        ));
    }
    let top = non_negative(r.top, &f("top"))?;
    let left = non_negative(r.left, &f("left"))?;
    let width = positive(r.width, &f("width"))?;
    let height = positive(r.height, &f("height"))?;
    if u64::from(left) + u64::from(width) > u64::from(canvas.width) {
        return Err(invalid(
            f("width"),
            format!(
                "region left {left} + width {width} exceeds the canvas width {}",
                canvas.width
            ),
        ));
    }
    if u64::from(top) + u64::from(height) > u64::from(canvas.height) {
        return Err(invalid(
            f("height"),
            format!(
                "region top {top} + height {height} exceeds the canvas height {}",
                canvas.height
            ),
        ));
    }
    let camid = r.param.as_ref().map(|p| p.camid.as_str()).unwrap_or("");
    field::camid(&f("param.camid"), camid)?;
    let placeholder = images.decode(&r.placeholder_image, &f("placeholder_image"))?;
    Ok(Region {
        camid: camid.to_owned(),
        top,
        left,
        width,
        height,
        keep_aspect_ratio: r.keep_aspect_ratio,
        z_order: r.z_order,
        placeholder,
    })
}

fn non_negative(v: i32, f: &str) -> Result<u32, FieldError> {
    u32::try_from(v).map_err(|_| invalid(f, format!("must be >= 0, got {v}")))
}

fn positive(v: i32, f: &str) -> Result<u32, FieldError> {
    match u32::try_from(v) {
        Ok(v) if v > 0 => Ok(v),
        _ => Err(invalid(f, format!("must be > 0, got {v}"))),
    }
}

/// A preset (field `f`, e.g. `video_file_cfg.layout_preset`) filled with its camids, or
/// with `video_camids` when it names none; its placeholder picture on every region.
fn from_preset(
    p: &proto::LayoutPreset,
    f: &str,
    canvas: Canvas,
    video_camids: &[String],
) -> Result<Layout, FieldError> {
    let name_field = field::join(f, "name");
    strings::text(&name_field, &p.name, strings::MAX_PRESET_NAME_LEN)?;
    if p.name.is_empty() {
        return Err(invalid(
            name_field,
            "must not be empty (side-by-side, picture-in-picture, grid, ...)",
        ));
    }
    for (i, c) in p.camids.iter().enumerate() {
        field::camid(&field::index(&field::join(f, "camids"), i), c)?;
    }
    let camids = if p.camids.is_empty() {
        video_camids
    } else {
        &p.camids[..]
    };
    let image = Placeholders::new(canvas.background)
        .decode(&p.placeholder_image, &field::join(f, "placeholder_image"))?;
    let mut layout = preset::resolve(
        &p.name,
        camids,
        canvas.width,
        canvas.height,
        p.keep_aspect_ratio,
    )
    .map_err(|e| invalid(name_field, e))?;
    for r in &mut layout.regions {
        r.placeholder.clone_from(&image);
    }
    Ok(layout)
}
