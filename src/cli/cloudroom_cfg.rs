//! `--cloud-mixer-cfg`: Cloudroom's own `cloudMixerCfg` object (seed 002,
//! `CRVideo_CreateCloudMixer(cfg)` and `CRVideo_UpdateCloudMixerContent(mixerID, cfg)`),
//! as a caller copies it from the vendor's guide, read into the request's fields.
//!
//! The text is JSON5 (a superset of JSON), so the guide's JavaScript object literal
//! works verbatim: unquoted keys, `//` comments, trailing commas. Recognised keys:
//! `mode` (0 only: a recording to a file) and `videoFileCfg` with `svrPathName`,
//! `vWidth`, `vHeight`, `vFps`, `vBps`, `aBps`, `backgroundColor` and `layoutConfig`
//! (regions as `--layout-json` reads them: `keepAspectRatio` 1/0, `param.camid`).
//! `svrPathName` keeps its leading `/`: the daemon reads it as the recordings root.
//! Any other key is an error naming it, so a misspelt field is never silently ignored.

use serde_json::{Map, Value};

use crate::cli::layout_arg;
use crate::proto;

/// The fields a `cloudMixerCfg` gives; None where it is silent.
#[derive(Debug, Default, PartialEq)]
pub struct CloudMixerCfg {
    pub svr_path_name: Option<String>,
    /// (vWidth, vHeight), pixels: both or neither.
    pub size: Option<(u32, u32)>,
    pub fps: Option<u32>,
    /// Video bit rate, bit/s.
    pub v_bps: Option<u32>,
    /// Audio bit rate, bit/s.
    pub a_bps: Option<u32>,
    /// "#RRGGBB".
    pub background_color: Option<String>,
    /// `layoutConfig` regions.
    pub regions: Option<Vec<proto::LayoutRegion>>,
}

/// `arg` inline (starts with `{`) or the file it names, parsed; `keep_default` is the
/// keep-aspect-ratio of regions that do not give `keepAspectRatio`.
/// Errors: unreadable file, invalid JSON5, an unknown key, a value of the wrong type,
/// `mode` other than 0, only one of vWidth/vHeight; each names the key.
pub fn read(arg: &str, keep_default: bool) -> Result<CloudMixerCfg, String> {
    let text = if arg.trim_start().starts_with('{') {
        arg.to_owned()
    } else {
        std::fs::read_to_string(arg).map_err(|e| format!("cannot read {arg:?}: {e}"))?
    };
    parse(&text, keep_default)
}

/// Parses the text of a `cloudMixerCfg` object. Errors: as [`read`].
pub fn parse(text: &str, keep_default: bool) -> Result<CloudMixerCfg, String> {
    let doc: Value = json5::from_str(text).map_err(|e| format!("invalid JSON5: {e}"))?;
    let Value::Object(mut top) = doc else {
        return Err("expected an object {mode, videoFileCfg: {...}}".into());
    };
    match top.remove("mode") {
        None => {}
        Some(v) if v.as_i64() == Some(0) => {}
        Some(v) => {
            return Err(format!(
                "mode: only 0 (record to a file) is supported, got {v}"
            ))
        }
    }
    let mut cfg = CloudMixerCfg::default();
    match top.remove("videoFileCfg") {
        None => {}
        Some(Value::Object(v)) => video_file_cfg(v, keep_default, &mut cfg)?,
        Some(other) => return Err(format!("videoFileCfg: expected an object, got {other}")),
    }
    if let Some(k) = top.keys().next() {
        return Err(format!("unknown key {k:?} (known: mode, videoFileCfg)"));
    }
    Ok(cfg)
}

fn video_file_cfg(
    mut v: Map<String, Value>,
    keep_default: bool,
    cfg: &mut CloudMixerCfg,
) -> Result<(), String> {
    cfg.svr_path_name = take_string(&mut v, "svrPathName")?;
    let w = take_u32(&mut v, "vWidth")?;
    let h = take_u32(&mut v, "vHeight")?;
    cfg.size = match (w, h) {
        (Some(w), Some(h)) => Some((w, h)),
        (None, None) => None,
        _ => return Err("videoFileCfg: give both vWidth and vHeight, or neither".into()),
    };
    cfg.fps = take_u32(&mut v, "vFps")?;
    cfg.v_bps = take_u32(&mut v, "vBps")?;
    cfg.a_bps = take_u32(&mut v, "aBps")?;
    cfg.background_color = take_string(&mut v, "backgroundColor")?;
    cfg.regions = match v.remove("layoutConfig") {
        None => None,
        Some(Value::Array(list)) => Some(
            layout_arg::region_list(list, keep_default)
                .map_err(|e| format!("videoFileCfg.layoutConfig {e}"))?,
        ),
        Some(other) => {
            return Err(format!(
                "videoFileCfg.layoutConfig: expected an array, got {other}"
            ))
        }
    };
    if let Some(k) = v.keys().next() {
        return Err(format!(
            "unknown key videoFileCfg.{k} (known: svrPathName, vWidth, vHeight, vFps, vBps, \
             aBps, backgroundColor, layoutConfig)"
        ));
    }
    Ok(())
}

fn take_u32(v: &mut Map<String, Value>, key: &str) -> Result<Option<u32>, String> {
    match v.remove(key) {
        None => Ok(None),
        Some(x) => x
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| format!("videoFileCfg.{key}: expected a whole number, got {x}")),
    }
}

fn take_string(v: &mut Map<String, Value>, key: &str) -> Result<Option<String>, String> {
    match v.remove(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(x) => Err(format!("videoFileCfg.{key}: expected a string, got {x}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_create_example_of_seed_002() {
        let cfg = parse(CREATE_EXAMPLE, false).unwrap();
        assert_eq!(
            cfg.svr_path_name.as_deref(),
            Some("/2021-09-24/2021-09-24_13-47-41_Win32_73542046.mp4")
        );
        assert_eq!((cfg.size, cfg.fps), (Some((1280, 720)), Some(15)));
        let r = cfg.regions.unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(
            (r[1].left, r[1].top, r[1].width, r[1].height),
            (640, 180, 640, 360)
        );
        assert!(r[0].keep_aspect_ratio && r[1].keep_aspect_ratio);
        assert_eq!(r[1].param.as_ref().unwrap().camid, "Usr2.-1");
    }

    #[test]
    fn names_what_is_wrong() {
        let e = parse("{mode: 1}", false).unwrap_err();
        assert!(e.starts_with("mode:"), "{e}");
        let e = parse("{videoFileCfg: {vWidht: 1280}}", false).unwrap_err();
        assert!(e.contains("videoFileCfg.vWidht"), "{e}");
        let e = parse("{videoFileCfg: {vWidth: 1280}}", false).unwrap_err();
        assert!(e.contains("vHeight"), "{e}");
        let e = parse("{videoFileCfg: {vFps: -1}}", false).unwrap_err();
        assert!(e.contains("videoFileCfg.vFps"), "{e}");
        let e = parse("{videoFileCfg: {layoutConfig: [{top: 0}]}}", false).unwrap_err();
        assert!(e.contains("layoutConfig region [0]"), "{e}");
        let e = parse("{mode: 0, video: {}}", false).unwrap_err();
        assert!(e.contains("\"video\""), "{e}");
        assert!(parse("{mode: 0,", false)
            .unwrap_err()
            .starts_with("invalid JSON5"));
    }

    /// Seed 002's `CRVideo_CreateCloudMixer` example object, verbatim.
    const CREATE_EXAMPLE: &str = include_str!("../../tests/data/cloudroom/create.json5");
}
