//! JSON Schemas (draft 2020-12, generated with `schemars` from the types that read the
//! files) published in `layouts/schema/` (beside the presets, not among them):
//! `preset.schema.json` for preset files and `layout-config.schema.json` for the
//! regions a caller sends (`--layout-json`, the `layoutConfig` of a Cloudroom
//! `videoFileCfg`, as `cli::layout_arg` reads them).
//! A unit test keeps the committed files equal to what the types generate; regenerate
//! with `cargo test --lib layout::schema -- --ignored`.

use schemars::JsonSchema;

/// A `layoutConfig` region as the CLI and Cloudroom callers write it (camelCase or
/// snake_case names; `keepAspectRatio` true/false or 1/0).
#[derive(JsonSchema)]
#[allow(dead_code)]
struct RegionDoc {
    /// MIXER_VCONTENT_TYPE: 0 (camera video); 2 screen share and 3 media share resolve
    /// the first source of that kind when `param.camid` is empty.
    #[serde(rename = "type")]
    kind: Option<u8>,
    /// Pixels from the canvas top.
    top: i32,
    /// Pixels from the canvas left edge.
    left: i32,
    /// Pixels, > 0.
    width: i32,
    /// Pixels, > 0.
    height: i32,
    /// Fit inside with bars (true or 1) or stretch (false or 0).
    #[serde(rename = "keepAspectRatio", alias = "keep_aspect_ratio")]
    keep_aspect_ratio: Option<BoolOrBit>,
    /// Higher is drawn on top; unset = list order.
    #[serde(rename = "zOrder", alias = "z_order")]
    z_order: Option<i32>,
    param: ParamDoc,
}

/// Cloudroom's `param` object.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct ParamDoc {
    /// The source shown, e.g. "Usr1.-1".
    camid: String,
}

/// true/false, or Cloudroom's 1/0.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum BoolOrBit {
    Bool(bool),
    Bit(#[schemars(range(max = 1))] u8),
}

/// An array of regions, or an object holding it as `layoutConfig`.
#[derive(JsonSchema)]
#[serde(untagged)]
#[allow(dead_code)]
enum LayoutConfigDoc {
    Regions(Vec<RegionDoc>),
    Wrapped {
        #[serde(rename = "layoutConfig")]
        layout_config: Vec<RegionDoc>,
    },
}

/// `layouts/schema/preset.schema.json`'s text.
pub fn preset_schema() -> String {
    pretty(schemars::schema_for!(super::preset::PresetFile))
}

/// `layouts/schema/layout-config.schema.json`'s text.
pub fn layout_config_schema() -> String {
    pretty(schemars::schema_for!(LayoutConfigDoc))
}

fn pretty(s: schemars::Schema) -> String {
    let mut t = serde_json::to_string_pretty(&s).unwrap_or_default();
    t.push('\n');
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/layouts/schema/");

    #[test]
    fn published_schemas_are_current() {
        for (file, text) in [
            ("preset.schema.json", preset_schema()),
            ("layout-config.schema.json", layout_config_schema()),
        ] {
            let committed = std::fs::read_to_string(format!("{DIR}{file}")).expect(file);
            assert_eq!(
                committed, text,
                "layouts/schema/{file} is stale: run the ignored test"
            );
        }
    }

    #[test]
    #[ignore = "writes layouts/schema/*.json; run by hand after changing a schema type"]
    fn regenerate_schemas() {
        std::fs::write(format!("{DIR}preset.schema.json"), preset_schema()).unwrap();
        std::fs::write(
            format!("{DIR}layout-config.schema.json"),
            layout_config_schema(),
        )
        .unwrap();
    }

    #[test]
    fn the_schemas_describe_the_fields() {
        let p = preset_schema();
        assert!(
            p.contains("\"keep_aspect_ratio\"") && p.contains("\"canvas\""),
            "{p}"
        );
        let l = layout_config_schema();
        assert!(
            l.contains("\"keepAspectRatio\"") && l.contains("\"camid\""),
            "{l}"
        );
        assert!(l.contains("\"maximum\": 1"), "1/0 booleans: {l}");
    }
}
