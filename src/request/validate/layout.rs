//! Layouts: `layout_config` (explicit regions) or `layout_preset` -> [`Layout`].
//!
//! Rules: not both; at most [`MAX_REGIONS`] regions; each region with `top`/`left` >= 0,
//! `width`/`height` > 0, inside the canvas, and a known `type` (a [`ContentType`]):
//! - `CONTENT_TYPE_VIDEO`: a non-empty `param.camid`, which need not be a source (such a
//!   tile shows the placeholder or background) and may name a screen or media source (a
//!   screen is a picture like any other);
//! - `CONTENT_TYPE_SCREEN` / `CONTENT_TYPE_MEDIA`: an empty `param.camid` is resolved here
//!   to the mixer's first source of that content type (none: an error naming the region's
//!   `type`); a non-empty one must name a source of that content type (else an error
//!   naming `param.camid`). The sources are the mixer's after the request (Create, or
//!   Update's kept and added sources).
//!
//! Presets resolve through [`crate::layout::preset::resolve`]; a preset without camids
//! is filled with the mixer's video sources in order, the host first for the `speaker`
//! and `single` presets ([`crate::layout::preset::default_camids`]); when there are more
//! of them than the preset has tiles, the first ones are shown (logged). The preset
//! file's `keep_aspect_ratio` holds unless the request sets it. A region's or preset's
//! `placeholder_image` is checked and decoded by [`super::placeholder`].

use crate::model::FieldError;

use super::field::{self, invalid};
use super::placeholder::Placeholders;
use super::source;
use super::strings;
use crate::layout::{preset, Layout, Region};
use crate::model::{ContentType, LayoutFill, Rgb, SourceSpec, StillImage};
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

/// What a layout is filled from and checked against: the mixer's sources (on Update, the
/// sources after the update).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayoutSources {
    /// Camids of the sources that send video, in source order: they fill a preset that
    /// names no camids.
    pub video_camids: Vec<String>,
    /// The host's camid, if any: the `speaker` preset's main tile when it names no camids.
    pub host: Option<String>,
    /// Every source's camid and content type, in source order: what `CONTENT_TYPE_SCREEN`
    /// and `CONTENT_TYPE_MEDIA` regions resolve against.
    pub content: Vec<(String, ContentType)>,
}

impl LayoutSources {
    /// The layout view of validated sources.
    pub fn of(sources: &[SourceSpec]) -> LayoutSources {
        LayoutSources {
            video_camids: source::video_camids(sources),
            host: source::host(sources).map(str::to_owned),
            content: sources
                .iter()
                .map(|s| (s.camid.clone(), s.content))
                .collect(),
        }
    }

    /// Camera sources with video named `camids`, no host (the inputs of offline compose).
    pub fn cameras(camids: &[String]) -> LayoutSources {
        LayoutSources {
            video_camids: camids.to_vec(),
            host: None,
            content: camids
                .iter()
                .map(|c| (c.clone(), ContentType::Camera))
                .collect(),
        }
    }

    /// The first source whose content type is `kind`.
    fn first_of(&self, kind: ContentType) -> Option<&str> {
        self.content
            .iter()
            .find(|(_, t)| *t == kind)
            .map(|(c, _)| c.as_str())
    }

    /// Whether `camid` is a source whose content type is `kind`.
    fn is_of(&self, camid: &str, kind: ContentType) -> bool {
        self.content.iter().any(|(c, t)| c == camid && *t == kind)
    }
}

/// The layout requested by `config` / `preset` (request fields `{prefix}layout_config` and
/// `{prefix}layout_preset`; `prefix` is `"video_file_cfg."` or empty). `sources` fill a
/// preset that names no camids and resolve screen and media regions. None when neither
/// is set. Errors: a [`FieldError`] naming the field.
pub fn requested(
    config: &[proto::LayoutRegion],
    preset: Option<&proto::LayoutPreset>,
    prefix: &str,
    canvas: Canvas,
    sources: &LayoutSources,
) -> Result<Option<Layout>, FieldError> {
    let config_field = format!("{prefix}layout_config");
    let preset_field = format!("{prefix}layout_preset");
    match (config.is_empty(), preset) {
        (true, None) => Ok(None),
        (false, Some(_)) => Err(invalid(
            preset_field,
            format!("set either {config_field} or layout_preset, not both"),
        )),
        (false, None) => regions(config, &config_field, canvas, sources).map(Some),
        (true, Some(p)) => from_preset(p, &preset_field, canvas, sources).map(Some),
    }
}

/// The Create default (see [`DEFAULT_PRESET`]), filled like any preset without camids.
/// Errors: a [`FieldError`] naming `video_file_cfg.layout_preset.name` if the preset
/// cannot hold the sources.
pub fn default_layout(canvas: Canvas, sources: &LayoutSources) -> Result<Layout, FieldError> {
    if sources.video_camids.is_empty() {
        return Ok(Layout::default());
    }
    let p = proto::LayoutPreset {
        name: default_preset_name(sources.video_camids.len()).to_owned(),
        camids: Vec::new(),
        keep_aspect_ratio: Some(true),
        placeholder_image: Vec::new(),
    };
    from_preset(&p, "video_file_cfg.layout_preset", canvas, sources)
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

/// Explicit regions (field `f`, e.g. `video_file_cfg.layout_config`); screen and media
/// regions resolved against `sources`.
pub fn regions(
    config: &[proto::LayoutRegion],
    f: &str,
    canvas: Canvas,
    sources: &LayoutSources,
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
        .map(|(i, r)| region(r, &field::index(f, i), canvas, sources, &mut images))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Layout { regions })
}

fn region<'a>(
    r: &'a proto::LayoutRegion,
    at: &str,
    canvas: Canvas,
    sources: &LayoutSources,
    images: &mut Placeholders<'a>,
) -> Result<Region, FieldError> {
    let f = |name: &str| field::join(at, name);
    let kind = source::content_type(r.r#type, &f("type"))?;
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
    let given = r.param.as_ref().map(|p| p.camid.as_str()).unwrap_or("");
    let camid = region_camid(kind, given, at, sources)?;
    let placeholder = images.decode(&r.placeholder_image, &f("placeholder_image"))?;
    Ok(Region {
        camid,
        top,
        left,
        width,
        height,
        keep_aspect_ratio: r.keep_aspect_ratio,
        z_order: r.z_order,
        placeholder,
    })
}

/// The camid a region of content type `kind` shows, `given` its `param.camid` (see the
/// module docs).
fn region_camid(
    kind: ContentType,
    given: &str,
    at: &str,
    sources: &LayoutSources,
) -> Result<String, FieldError> {
    let camid_field = field::join(at, "param.camid");
    let (what, enum_name) = match kind {
        ContentType::Camera => {
            field::camid(&camid_field, given)?;
            return Ok(given.to_owned());
        }
        ContentType::Screen => ("screen-share", "CONTENT_TYPE_SCREEN"),
        ContentType::Media => ("media-share", "CONTENT_TYPE_MEDIA"),
    };
    if given.is_empty() {
        return sources.first_of(kind).map(str::to_owned).ok_or_else(|| {
            invalid(
                field::join(at, "type"),
                format!(
                    "no {what} source: a {enum_name} region without param.camid shows \
                     the mixer's first source with content_type {enum_name}"
                ),
            )
        });
    }
    field::camid(&camid_field, given)?;
    if !sources.is_of(given, kind) {
        return Err(invalid(
            camid_field,
            format!(
                "{given:?} is not a {what} source of this mixer (content_type {enum_name}), \
                 as a {enum_name} region needs"
            ),
        ));
    }
    Ok(given.to_owned())
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
/// when it names none with the video sources (host first for the `speaker` preset,
/// [`preset::default_camids`]); its placeholder picture on every region.
fn from_preset(
    p: &proto::LayoutPreset,
    f: &str,
    canvas: Canvas,
    sources: &LayoutSources,
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
    let image = Placeholders::new(canvas.background)
        .decode(&p.placeholder_image, &field::join(f, "placeholder_image"))?;
    let preset = Preset {
        name: &p.name,
        keep_aspect_ratio: p.keep_aspect_ratio,
        placeholder: image.as_ref(),
    };
    fill(&preset, &p.camids, canvas, sources).map_err(|e| invalid(name_field, e))
}

/// A preset request after its fields were checked.
struct Preset<'a> {
    name: &'a str,
    keep_aspect_ratio: Option<bool>,
    placeholder: Option<&'a StillImage>,
}

/// The layout of `preset` showing `camids`, or, when it names none, the video sources
/// (the host first for single and speaker; when there are more of them than the preset
/// has tiles, the first ones). Errors: the preset's own (unknown, too many camids).
fn fill(
    preset: &Preset<'_>,
    camids: &[String],
    canvas: Canvas,
    sources: &LayoutSources,
) -> Result<Layout, preset::PresetError> {
    let filled = camids.is_empty();
    let camids = if filled {
        preset::default_camids(preset.name, &sources.video_camids, sources.host.as_deref())
    } else {
        camids.to_vec()
    };
    let resolve = |camids: &[String]| {
        preset::resolve(
            preset.name,
            camids,
            canvas.width,
            canvas.height,
            preset.keep_aspect_ratio,
        )
    };
    let mut layout = match resolve(&camids) {
        // Filled by default with more video sources than it has tiles: the first ones
        // (the host first for single and speaker) are shown.
        Err(preset::PresetError::TooManySources { regions, .. }) if filled => {
            tracing::info!(
                preset = %preset.name,
                shown = ?&camids[..regions],
                hidden = ?&camids[regions..],
                "the preset has fewer tiles than video sources; showing the first"
            );
            resolve(&camids[..regions])
        }
        r => r,
    }?;
    for r in &mut layout.regions {
        r.placeholder = preset.placeholder.cloned();
    }
    Ok(layout)
}

/// How the layout a Create or Update asked for (`config` / `preset`, both unset: the
/// Create default) follows later joins and leaves: a preset naming no camids is
/// filled again ([`LayoutFill::FromSources`]), explicit regions and named camids stay.
/// Call with the `layout` [`requested`] (or [`default_layout`]) made of the same fields:
/// its placeholder is reused (decoded again only when it has no region).
pub fn fill_rule(
    config: &[proto::LayoutRegion],
    preset: Option<&proto::LayoutPreset>,
    layout: &Layout,
    canvas: Canvas,
) -> LayoutFill {
    match (config.is_empty(), preset) {
        (true, None) => LayoutFill::FromSources {
            preset: None,
            keep_aspect_ratio: Some(true),
            placeholder: None,
        },
        (true, Some(p)) if p.camids.is_empty() => LayoutFill::FromSources {
            preset: Some(p.name.clone()),
            keep_aspect_ratio: p.keep_aspect_ratio,
            placeholder: match layout.regions.first() {
                Some(r) => r.placeholder.clone(),
                None => Placeholders::new(canvas.background)
                    .decode(&p.placeholder_image, "layout_preset.placeholder_image")
                    .ok()
                    .flatten(),
            },
        },
        _ => LayoutFill::Fixed,
    }
}

/// The layout `rule` gives for `sources` after a join or leave; None for a
/// [`LayoutFill::Fixed`] layout (kept as it is). No video source: an empty layout
/// (background only). Errors: the preset's own, named as `layout_preset.name`.
pub fn refill(
    rule: &LayoutFill,
    canvas: Canvas,
    sources: &LayoutSources,
) -> Result<Option<Layout>, FieldError> {
    let LayoutFill::FromSources {
        preset,
        keep_aspect_ratio,
        placeholder,
    } = rule
    else {
        return Ok(None);
    };
    if sources.video_camids.is_empty() {
        return Ok(Some(Layout::default()));
    }
    let name = preset
        .as_deref()
        .unwrap_or_else(|| default_preset_name(sources.video_camids.len()));
    let p = Preset {
        name,
        keep_aspect_ratio: *keep_aspect_ratio,
        placeholder: placeholder.as_ref(),
    };
    fill(&p, &[], canvas, sources)
        .map(Some)
        .map_err(|e| invalid("layout_preset.name", e))
}
