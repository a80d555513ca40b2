//! `cloudmixer presets`: the layout presets `--layout` (and `LayoutPreset.name`) accept,
//! with their tiles, from the daemon (ListPresets) or, with `--offline`, those compiled
//! into this binary (what `compose` uses).

use serde_json::{json, Value};
use tonic::{Request, Status};

use crate::api::convert::preset_infos;
use crate::cli::args::PresetsArgs;
use crate::cli::connect::connect;
use crate::layout::preset::PresetSet;
use crate::proto;

/// Runs `presets`. Errors: those of the ListPresets call (UNAVAILABLE without a daemon:
/// the message suggests `--offline`).
pub async fn run(a: PresetsArgs) -> Result<(), Status> {
    let presets = if a.offline {
        preset_infos(PresetSet::embedded())
    } else {
        let listed = async {
            connect(&a.client)
                .await?
                .list_presets(Request::new(proto::ListPresetsRequest {}))
                .await
        };
        listed
            .await
            .map_err(|s| match s.code() {
                tonic::Code::Unavailable => Status::unavailable(format!(
                    "{} (no daemon at {}? `cloudmixer presets --offline` lists this \
                     binary's presets)",
                    s.message(),
                    a.client.server
                )),
                _ => s,
            })?
            .into_inner()
            .presets
    };
    if a.client.json {
        let list: Vec<Value> = presets.iter().map(preset_json).collect();
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({ "presets": list })).unwrap_or_default()
        );
    } else {
        print!("{}", text(&presets));
    }
    Ok(())
}

/// One preset as proto3 JSON (lowerCamelCase).
pub fn preset_json(p: &proto::PresetInfo) -> Value {
    json!({
        "name": p.name,
        "description": p.description,
        "canvasWidth": p.canvas_width,
        "canvasHeight": p.canvas_height,
        "tiles": p.tiles.iter().map(|t| json!({
            "top": t.top, "left": t.left, "width": t.width, "height": t.height,
            "keepAspectRatio": t.keep_aspect_ratio, "zOrder": t.z_order,
        })).collect::<Vec<_>>(),
    })
}

/// The human listing: per preset its name, tile count, reference canvas, description and
/// each tile as `WxH+LEFT+TOP`.
pub fn text(presets: &[proto::PresetInfo]) -> String {
    let mut out = String::new();
    for p in presets {
        out.push_str(&format!(
            "{}  {} tile{} on {}x{}\n  {}\n",
            p.name,
            p.tiles.len(),
            if p.tiles.len() == 1 { "" } else { "s" },
            p.canvas_width,
            p.canvas_height,
            p.description
        ));
        let tiles: Vec<String> = p
            .tiles
            .iter()
            .map(|t| {
                let fit = if t.keep_aspect_ratio { "" } else { " stretch" };
                let z = t.z_order.map(|z| format!(" z{z}")).unwrap_or_default();
                format!("{}x{}+{}+{}{fit}{z}", t.width, t.height, t.left, t.top)
            })
            .collect();
        out.push_str(&format!("  tiles: {}\n", tiles.join("  ")));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_listing_names_every_embedded_preset_with_its_tiles() {
        let infos = preset_infos(PresetSet::embedded());
        let t = text(&infos);
        for name in crate::layout::preset::names() {
            assert!(
                t.contains(&format!("\n{name}  ")) || t.starts_with(&format!("{name}  ")),
                "{name} in {t}"
            );
        }
        assert!(t.contains("side-by-side  2 tiles on 1280x720"), "{t}");
        assert!(t.contains("640x360+0+180  640x360+640+180"), "{t}");
        let j = preset_json(&infos[0]);
        assert_eq!(
            j["tiles"].as_array().map(Vec::len),
            Some(infos[0].tiles.len())
        );
    }
}
