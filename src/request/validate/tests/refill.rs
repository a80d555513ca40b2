//! A layout filled from the sources (the Create default, a preset naming no camids)
//! follows joins and leaves; explicit regions and named camids stay as given.

use super::*;

fn camids(l: &crate::layout::Layout) -> Vec<&str> {
    l.regions.iter().map(|r| r.camid.as_str()).collect()
}

fn usr(i: usize) -> String {
    format!("Usr{i}.-1")
}

/// A Create with sources Usr1..Usr`n` and the layout `set` leaves in its cfg.
fn created(n: usize, set: impl FnOnce(&mut proto::VideoFileCfg)) -> MixerSpec {
    let mut r = req();
    r.sources = (1..=n).map(|i| src(&usr(i))).collect();
    cfg(&mut r).layout_config.clear();
    set(cfg(&mut r));
    create_request(&r, &defaults()).expect("valid create")
}

/// An Update of `spec` that removes `remove` and adds `add`, with `set` applied.
fn update_of(
    spec: &MixerSpec,
    remove: &[String],
    add: &[String],
    set: impl FnOnce(&mut proto::UpdateCloudMixerContentRequest),
) -> ContentUpdate {
    let mut r = proto::UpdateCloudMixerContentRequest {
        mixer_id: "m1".into(),
        remove_camids: remove.to_vec(),
        add_sources: add.iter().map(|c| src(c)).collect(),
        ..Default::default()
    };
    set(&mut r);
    let current = Current {
        layout_fill: &spec.layout_fill,
        ..current(&spec.sources)
    };
    update_request(&r, current).expect("valid update")
}

#[test]
fn the_default_grid_of_4_becomes_3_then_5() {
    let spec = created(4, |_| {});
    assert_eq!(spec.layout.regions.len(), 4);
    assert!(matches!(
        spec.layout_fill,
        LayoutFill::FromSources { preset: None, .. }
    ));
    let u = update_of(&spec, &[usr(2)], &[], |_| {});
    let three = u.layout.clone().expect("refilled after a leave");
    assert_eq!(camids(&three), ["Usr1.-1", "Usr3.-1", "Usr4.-1"]);
    // Still the 2x2 grid (640x360 tiles), the fourth cell empty.
    assert!(three.regions.iter().all(|r| r.width == 640));
    assert_eq!(u.layout_fill, None, "the rule is kept");
    let after = apply_sources(&spec.sources, &u);
    let spec = MixerSpec {
        sources: after,
        ..spec
    };
    let u = update_of(&spec, &[], &[usr(5), usr(6)], |_| {});
    let five = u.layout.expect("refilled after joins");
    assert_eq!(
        camids(&five),
        ["Usr1.-1", "Usr3.-1", "Usr4.-1", "Usr5.-1", "Usr6.-1"]
    );
    // The 3x3 grid.
    assert!(five.regions.iter().all(|r| r.height == 240));
}

#[test]
fn the_default_of_two_is_side_by_side_and_of_one_single() {
    let spec = created(3, |_| {});
    let u = update_of(&spec, &[usr(3)], &[], |_| {});
    let two = u.layout.unwrap();
    assert_eq!(
        two.regions.iter().map(|r| r.width).collect::<Vec<_>>(),
        [640, 640]
    );
    let u = update_of(&spec, &[usr(2), usr(3)], &[], |_| {});
    assert_eq!(u.layout.unwrap().regions[0].width, 1280);
    // No video source left: background only.
    let u = update_of(&spec, &[usr(1), usr(2), usr(3)], &[], |_| {});
    assert_eq!(u.layout.unwrap().regions.len(), 0);
}

#[test]
fn a_preset_without_camids_is_refilled_with_its_own_name() {
    let spec = created(2, |c| {
        c.layout_preset = Some(proto::LayoutPreset {
            name: "grid-3x3".into(),
            ..Default::default()
        })
    });
    let u = update_of(&spec, &[], &[usr(3)], |_| {});
    let l = u.layout.unwrap();
    assert_eq!(camids(&l), ["Usr1.-1", "Usr2.-1", "Usr3.-1"]);
    assert!(l.regions.iter().all(|r| r.height == 240));
}

#[test]
fn explicit_regions_and_named_camids_stay_as_given() {
    let spec = created(3, |c| {
        c.layout_config = vec![region("Usr1.-1", 0, 0, 640, 360)]
    });
    assert_eq!(spec.layout_fill, LayoutFill::Fixed);
    assert_eq!(update_of(&spec, &[usr(2)], &[usr(4)], |_| {}).layout, None);
    let spec = created(3, |c| {
        c.layout_preset = Some(proto::LayoutPreset {
            name: "grid".into(),
            camids: vec![usr(1), usr(2)],
            ..Default::default()
        })
    });
    assert_eq!(spec.layout_fill, LayoutFill::Fixed);
    assert_eq!(update_of(&spec, &[usr(3)], &[], |_| {}).layout, None);
}

#[test]
fn an_update_with_a_layout_sets_the_rule_and_one_without_changes_keeps_it() {
    let spec = created(3, |_| {});
    // A mix-only update: no join or leave, no new layout.
    let u = update_of(&spec, &[], &[], |_| {});
    assert_eq!((u.layout, u.layout_fill), (None, None));
    let u = update_of(&spec, &[], &[], |r| {
        r.layout_config = vec![region("Usr1.-1", 0, 0, 640, 360)]
    });
    assert_eq!(u.layout_fill, Some(LayoutFill::Fixed));
    let u = update_of(&spec, &[], &[], |r| {
        r.layout_preset = Some(proto::LayoutPreset {
            name: "speaker".into(),
            ..Default::default()
        })
    });
    assert!(matches!(
        u.layout_fill,
        Some(LayoutFill::FromSources { preset: Some(ref p), .. }) if p == "speaker"
    ));
}
