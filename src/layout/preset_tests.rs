//! Unit tests of `preset`.

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
        placeholder: None,
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
    let sbs = resolve("side-by-side", &ids(2), 1280, 720, Some(true)).unwrap();
    assert_eq!(
        sbs.regions,
        vec![
            region("Usr1.-1", 180, 0, 640, 360, None),
            region("Usr2.-1", 180, 640, 640, 360, None)
        ]
    );
    let pip = resolve("picture-in-picture", &ids(2), 1280, 720, Some(true)).unwrap();
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
    let l = resolve("side-by-side", &ids(2), 1920, 1080, Some(true)).unwrap();
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
    let e = resolve("mosaic", &ids(1), 1280, 720, Some(true)).unwrap_err();
    assert!(
        matches!(e, PresetError::Unknown { ref name, ref valid } if name == "mosaic" && valid.iter().any(|v| v == "side-by-side")),
        "{e}"
    );
}

#[test]
fn too_many_sources() {
    let e = resolve("side-by-side", &ids(3), 1280, 720, Some(true)).unwrap_err();
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
    let e = resolve("grid", &ids(17), 1280, 720, Some(true)).unwrap_err();
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
    let e = resolve("grid", &ids(1), 0, 720, Some(true)).unwrap_err();
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
    let l = resolve("speaker", &ids(2), 1280, 720, Some(true)).unwrap();
    assert_eq!(l.regions.len(), 2);
    assert_eq!(rect(&l.regions[0]), Rect::new(160, 0, 960, 540));
    assert_eq!(rect(&l.regions[1]), Rect::new(0, 540, 320, 180));
    assert!(resolve("grid-3x3", &[], 1280, 720, Some(true))
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
        let l = resolve("grid", &ids(n), 1280, 720, Some(true)).unwrap();
        assert_eq!(l.regions.len(), n);
        assert_eq!(rect(&l.regions[0]), first, "{n} camids");
    }
    assert!(resolve("grid", &[], 1280, 720, Some(true))
        .unwrap()
        .regions
        .is_empty());
}

#[test]
fn request_keep_aspect_ratio_applies_to_every_region() {
    for keep in [false, true] {
        let l = resolve("grid-3x3", &ids(9), 1280, 720, Some(keep)).unwrap();
        assert!(l.regions.iter().all(|r| r.keep_aspect_ratio == keep));
    }
}

#[test]
fn tiny_canvas_keeps_every_region_inside() {
    let l = resolve("grid-4x4", &ids(16), 2, 2, Some(true)).unwrap();
    for r in &l.regions {
        assert!(r.width >= 1 && r.height >= 1 && r.left + r.width <= 2 && r.top + r.height <= 2);
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
        .resolve("top-bottom", &ids(2), 1280, 720, Some(false))
        .unwrap();
    assert_eq!(rect(&l.regions[1]), Rect::new(0, 360, 1280, 360));
    assert!(set.get("side-by-side").is_some());
    // A user preset may not shadow a built-in one.
    let dup =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("layouts/grid.json"))
            .unwrap();
    std::fs::write(dir.join("grid.json"), dup).unwrap();
    assert!(matches!(
        PresetSet::with_dir(&dir),
        Err(PresetError::Invalid { .. })
    ));
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(matches!(load_dir(&dir), Err(PresetError::Io { .. })));
}

#[test]
fn speaker_preset_default_camids_put_the_host_first() {
    let camids = ids(3);
    let filled = default_camids("speaker", &camids, Some("Usr2.-1"));
    assert_eq!(filled, ["Usr2.-1", "Usr1.-1", "Usr3.-1"]);
    // The host gets the main (first, 960x540) tile of the speaker preset.
    let l = resolve("speaker", &filled, 1280, 720, Some(true)).unwrap();
    assert_eq!(l.regions[0], region("Usr2.-1", 0, 160, 960, 540, None));
    assert_eq!(l.regions[1].camid, "Usr1.-1");
    assert_eq!(l.regions[2].camid, "Usr3.-1");
    // Already first, or the last one.
    assert_eq!(default_camids("speaker", &camids, Some("Usr1.-1")), camids);
    assert_eq!(
        default_camids("speaker", &camids, Some("Usr3.-1")),
        ["Usr3.-1", "Usr1.-1", "Usr2.-1"]
    );
}

#[test]
fn default_camids_keep_source_order_without_a_host_or_main_tile() {
    let camids = ids(3);
    // No host, or a host that sends no video (not among the video camids).
    assert_eq!(default_camids("speaker", &camids, None), camids);
    assert_eq!(default_camids("speaker", &camids, Some("Usr9.-1")), camids);
    // Presets without a main tile keep source order, host or not.
    for name in ["grid", "grid-3x3", "side-by-side", "picture-in-picture"] {
        assert_eq!(
            default_camids(name, &camids, Some("Usr2.-1")),
            camids,
            "{name}"
        );
    }
    assert_eq!(HOST_FIRST, ["speaker", "single"]);
    // single shows the host (its one tile) when there is one.
    assert_eq!(
        default_camids("single", &camids, Some("Usr2.-1"))[0],
        "Usr2.-1"
    );
}
