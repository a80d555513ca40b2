//! Layout rules: regions and presets.

use super::*;

#[test]
fn region_with_zero_size() {
    let mut r = req();
    cfg(&mut r).layout_config[0].width = 0;
    rejects(r, "video_file_cfg.layout_config[0].width: must be > 0");
    let mut r = req();
    cfg(&mut r).layout_config[1].height = 0;
    rejects(r, "video_file_cfg.layout_config[1].height: must be > 0");
}

#[test]
fn region_with_negative_position() {
    let mut r = req();
    cfg(&mut r).layout_config[0].top = -1;
    rejects(r, "video_file_cfg.layout_config[0].top: must be >= 0");
    let mut r = req();
    cfg(&mut r).layout_config[0].left = -1;
    rejects(r, "video_file_cfg.layout_config[0].left: must be >= 0");
}

#[test]
fn region_outside_the_canvas() {
    let mut r = req();
    cfg(&mut r).layout_config[1].left = 641;
    rejects(
        r,
        "video_file_cfg.layout_config[1].width: region left 641 + width 640",
    );
    let mut r = req();
    cfg(&mut r).layout_config[0].top = 361;
    rejects(
        r,
        "video_file_cfg.layout_config[0].height: region top 361 + height 360",
    );
}

#[test]
fn region_content_type_must_be_known() {
    // 1 is not a ContentType value (VIDEO 0, SCREEN 2, MEDIA 3).
    for t in [1, 4, -1] {
        let mut r = req();
        cfg(&mut r).layout_config[0].r#type = t;
        rejects(
            r,
            &format!("video_file_cfg.layout_config[0].type: unknown content type {t}"),
        );
    }
}

#[test]
fn region_camid_required_but_need_not_be_a_source() {
    let mut r = req();
    cfg(&mut r).layout_config[0].param = None;
    rejects(
        r,
        "video_file_cfg.layout_config[0].param.camid: must not be empty",
    );
    let mut r = req();
    cfg(&mut r).layout_config[0].param = Some(proto::RegionParam {
        camid: "Usr9.-1".into(),
    });
    assert!(create_request(&r, &defaults()).is_ok());
}

#[test]
fn layout_config_and_preset_are_exclusive() {
    let mut r = req();
    cfg(&mut r).layout_preset = Some(proto::LayoutPreset {
        name: "grid".into(),
        ..Default::default()
    });
    rejects(r, "video_file_cfg.layout_preset: set either");
}

#[test]
fn empty_preset_name() {
    let mut r = req();
    cfg(&mut r).layout_config.clear();
    cfg(&mut r).layout_preset = Some(proto::LayoutPreset::default());
    rejects(r, "video_file_cfg.layout_preset.name: must not be empty");
}

#[test]
fn unknown_preset() {
    let mut r = req();
    cfg(&mut r).layout_config.clear();
    cfg(&mut r).layout_preset = Some(proto::LayoutPreset {
        name: "no-such-preset".into(),
        ..Default::default()
    });
    rejects(r, "video_file_cfg.layout_preset.name:");
}

#[test]
fn no_layout_defaults_to_a_preset_of_the_video_sources() {
    let mut r = req();
    cfg(&mut r).layout_config.clear();
    let s = create_request(&r, &defaults()).unwrap();
    let camids: Vec<&str> = s.layout.regions.iter().map(|r| r.camid.as_str()).collect();
    assert_eq!(camids, ["Usr1.-1", "Usr2.-1"]);
    r.sources.iter_mut().for_each(|s| s.video = None);
    let s = create_request(&r, &defaults()).unwrap();
    assert!(s.layout.regions.is_empty());
}
