//! `--layout` / `--layout-json` / `--placeholder-image` -> proto `layout_config` /
//! `layout_preset`.
//!
//! The JSON accepts Cloudroom's spelling (`keepAspectRatio: 1`, `zOrder`) and ours
//! (`keep_aspect_ratio: true`, `z_order`), as an array of regions or an object with a
//! `layoutConfig` (or `layout_config`) array.

use serde::Deserialize;
use serde_json::Value;
use tonic::Status;

use crate::cli::args::LayoutArgs;
use crate::cli::placeholder_arg;
use crate::proto;

/// The requested layout: explicit regions, a preset, or neither (both empty), with the
/// `--placeholder-image` on every region. `video_sources`: for create and compose, the
/// number of video sources, whose default preset carries a placeholder given without a
/// layout; None for update (no layout keeps the mixer's, so a placeholder needs one).
/// `given`: regions read from elsewhere (`--cloud-mixer-cfg`), in place of the flags'.
/// Errors: INVALID_ARGUMENT naming the flag.
pub fn from_args(
    a: &LayoutArgs,
    video_sources: Option<usize>,
    given: Option<Vec<proto::LayoutRegion>>,
) -> Result<(Vec<proto::LayoutRegion>, Option<proto::LayoutPreset>), Status> {
    let (mut regions, mut preset) = match given {
        Some(r) => (r, None),
        None => requested(a)?,
    };
    let Some(path) = &a.placeholder_image else {
        return Ok((regions, preset));
    };
    if regions.is_empty() && preset.is_none() {
        preset = Some(placeholder_arg::default_preset(video_sources)?);
    }
    let image = placeholder_arg::read(path)?;
    placeholder_arg::check_request_size(image.len(), regions.len())?;
    for r in &mut regions {
        r.placeholder_image.clone_from(&image);
    }
    if let Some(p) = &mut preset {
        p.placeholder_image = image;
    }
    Ok((regions, preset))
}

/// `--layout` or `--layout-json`, without pictures.
fn requested(
    a: &LayoutArgs,
) -> Result<(Vec<proto::LayoutRegion>, Option<proto::LayoutPreset>), Status> {
    if let Some(name) = &a.layout {
        let preset = proto::LayoutPreset {
            name: name.clone(),
            camids: Vec::new(),
            keep_aspect_ratio: a.keep_aspect_ratio,
            placeholder_image: Vec::new(),
        };
        return Ok((Vec::new(), Some(preset)));
    }
    match &a.layout_json {
        None => Ok((Vec::new(), None)),
        Some(arg) => {
            let text = read_inline_or_file(arg)?;
            let regions = parse_regions(&text, a.keep_aspect_ratio.unwrap_or(false))
                .map_err(|e| Status::invalid_argument(format!("--layout-json: {e}")))?;
            Ok((regions, None))
        }
    }
}

/// `arg` itself if it looks like JSON (starts with `[` or `{`), else the file it names.
fn read_inline_or_file(arg: &str) -> Result<String, Status> {
    let t = arg.trim_start();
    if t.starts_with('[') || t.starts_with('{') {
        return Ok(arg.to_owned());
    }
    std::fs::read_to_string(arg)
        .map_err(|e| Status::invalid_argument(format!("--layout-json: cannot read {arg:?}: {e}")))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionJson {
    #[serde(default, rename = "type")]
    kind: Option<Value>,
    top: i32,
    left: i32,
    width: i32,
    height: i32,
    #[serde(default, alias = "keepAspectRatio")]
    keep_aspect_ratio: Option<Value>,
    #[serde(default, alias = "zOrder")]
    z_order: Option<i32>,
    param: ParamJson,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParamJson {
    camid: String,
}

/// Parses regions; `keep_default` applies to regions without a keep-aspect-ratio field.
pub fn parse_regions(text: &str, keep_default: bool) -> Result<Vec<proto::LayoutRegion>, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    let list = match doc {
        Value::Array(a) => a,
        Value::Object(mut o) => match o
            .remove("layoutConfig")
            .or_else(|| o.remove("layout_config"))
        {
            Some(Value::Array(a)) => a,
            _ => return Err("expected an array of regions or {\"layoutConfig\": [...]}".into()),
        },
        _ => return Err("expected an array of regions or {\"layoutConfig\": [...]}".into()),
    };
    region_list(list, keep_default)
}

/// Parses a `layoutConfig` array's regions; `keep_default` as for [`parse_regions`].
/// Errors name the region's index.
pub fn region_list(
    list: Vec<Value>,
    keep_default: bool,
) -> Result<Vec<proto::LayoutRegion>, String> {
    list.into_iter()
        .enumerate()
        .map(|(i, v)| region(v).map_err(|e| format!("region [{i}]: {e}")))
        .map(|r| {
            r.map(|(mut region, keep)| {
                region.keep_aspect_ratio = keep.unwrap_or(keep_default);
                region
            })
        })
        .collect()
}

fn region(v: Value) -> Result<(proto::LayoutRegion, Option<bool>), String> {
    let r: RegionJson = serde_json::from_value(v).map_err(|e| e.to_string())?;
    let kind = match &r.kind {
        None => 0,
        Some(Value::Number(n)) => n
            .as_i64()
            .and_then(|n| i32::try_from(n).ok())
            .ok_or("type must be 0 (video)")?,
        Some(Value::String(s))
            if matches!(s.as_str(), "video" | "VIDEO" | "CONTENT_TYPE_VIDEO") =>
        {
            0
        }
        Some(other) => return Err(format!("type must be 0 (video), got {other}")),
    };
    let keep = match &r.keep_aspect_ratio {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(Value::Number(n)) if n.as_i64() == Some(0) => Some(false),
        Some(Value::Number(n)) if n.as_i64() == Some(1) => Some(true),
        Some(other) => {
            return Err(format!(
                "keepAspectRatio must be true/false or 1/0, got {other}"
            ))
        }
    };
    let region = proto::LayoutRegion {
        r#type: kind,
        top: r.top,
        left: r.left,
        width: r.width,
        height: r.height,
        keep_aspect_ratio: false,
        z_order: r.z_order,
        param: Some(proto::RegionParam {
            camid: r.param.camid,
        }),
        placeholder_image: Vec::new(),
    };
    Ok((region, keep))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_cloudroom_spelling() {
        let j = r#"{"layoutConfig":[{"type":0,"top":495,"left":880,"width":400,"height":225,
            "keepAspectRatio":1,"zOrder":2,"param":{"camid":"Usr2.-1"}}]}"#;
        let r = parse_regions(j, false).unwrap();
        assert_eq!(
            (r[0].top, r[0].left, r[0].width, r[0].height),
            (495, 880, 400, 225)
        );
        assert!(r[0].keep_aspect_ratio);
        assert_eq!(r[0].z_order, Some(2));
        assert_eq!(r[0].param.as_ref().unwrap().camid, "Usr2.-1");
    }

    #[test]
    fn accepts_snake_case_and_defaults_keep() {
        let j = r#"[{"top":0,"left":0,"width":2,"height":2,"z_order":1,"param":{"camid":"a"}}]"#;
        let r = parse_regions(j, true).unwrap();
        assert!(r[0].keep_aspect_ratio);
        let j = r#"[{"top":0,"left":0,"width":2,"height":2,"keep_aspect_ratio":false,"param":{"camid":"a"}}]"#;
        assert!(!parse_regions(j, true).unwrap()[0].keep_aspect_ratio);
    }

    #[test]
    fn reports_the_region_index() {
        let j = r#"[{"top":0,"left":0,"width":2,"height":2,"param":{"camid":"a"}},{"top":0}]"#;
        let e = parse_regions(j, false).unwrap_err();
        assert!(e.starts_with("region [1]: missing field"), "{e}");
    }
}
