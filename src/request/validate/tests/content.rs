//! Host speaker and content types (issue 11): at most one host per mixer, the `speaker`
//! preset's main tile for the host, and screen-share / media regions resolved to sources.

use super::*;
use crate::model::ContentType;

const SPEAKER_MAIN: (u32, u32, u32, u32) = (0, 160, 960, 540);

/// [`src`] with content type `t`.
fn src_of(camid: &str, t: proto::ContentType) -> proto::SourceConfig {
    proto::SourceConfig {
        content_type: t as i32,
        ..src(camid)
    }
}

/// A region of content type `t` showing `camid` (empty: the first source of that type).
fn region_of(t: proto::ContentType, camid: &str) -> proto::LayoutRegion {
    proto::LayoutRegion {
        r#type: t as i32,
        ..region(camid, 0, 0, 640, 360)
    }
}

/// Three sources Usr1..Usr3, the second the host, with `layout_preset` `name` and no camids.
fn three_with_host(name: &str) -> proto::CreateCloudMixerRequest {
    let mut r = req();
    r.sources = vec![src("Usr1.-1"), src("Usr2.-1"), src("Usr3.-1")];
    r.sources[1].host = true;
    cfg(&mut r).layout_config.clear();
    cfg(&mut r).layout_preset = Some(proto::LayoutPreset {
        name: name.into(),
        keep_aspect_ratio: Some(true),
        ..Default::default()
    });
    r
}

fn camids(l: &crate::layout::Layout) -> Vec<&str> {
    l.regions.iter().map(|r| r.camid.as_str()).collect()
}

fn rect(r: &crate::layout::Region) -> (u32, u32, u32, u32) {
    (r.top, r.left, r.width, r.height)
}

#[test]
fn at_most_one_host() {
    let mut r = req();
    r.sources[0].host = true;
    let spec = create_request(&r, &defaults()).expect("one host");
    assert_eq!(
        spec.sources.iter().map(|s| s.host).collect::<Vec<_>>(),
        [true, false]
    );
    r.sources[1].host = true;
    rejects(
        r,
        "sources[1].host: a mixer has at most one host, and \"Usr1.-1\" already is",
    );
}

#[test]
fn speaker_preset_without_camids_gives_the_host_the_main_tile() {
    let s = create_request(&three_with_host("speaker"), &defaults()).unwrap();
    assert_eq!(camids(&s.layout), ["Usr2.-1", "Usr1.-1", "Usr3.-1"]);
    assert_eq!(rect(&s.layout.regions[0]), SPEAKER_MAIN);
    // Without a host: source order.
    let mut r = three_with_host("speaker");
    r.sources[1].host = false;
    let s = create_request(&r, &defaults()).unwrap();
    assert_eq!(camids(&s.layout), ["Usr1.-1", "Usr2.-1", "Usr3.-1"]);
    // A host without video is not in the layout: the video sources in order.
    let mut r = three_with_host("speaker");
    r.sources[1].video = None;
    let s = create_request(&r, &defaults()).unwrap();
    assert_eq!(camids(&s.layout), ["Usr1.-1", "Usr3.-1"]);
}

#[test]
fn host_does_not_reorder_listed_camids_other_presets_or_the_default() {
    // Camids named by the request are used as given.
    let mut r = three_with_host("speaker");
    cfg(&mut r).layout_preset.as_mut().unwrap().camids = vec!["Usr3.-1".into(), "Usr2.-1".into()];
    let s = create_request(&r, &defaults()).unwrap();
    assert_eq!(camids(&s.layout), ["Usr3.-1", "Usr2.-1"]);
    // Presets without a main tile keep source order.
    let s = create_request(&three_with_host("grid"), &defaults()).unwrap();
    assert_eq!(camids(&s.layout), ["Usr1.-1", "Usr2.-1", "Usr3.-1"]);
    // The default layout (grid) too.
    let mut r = three_with_host("grid");
    cfg(&mut r).layout_preset = None;
    let s = create_request(&r, &defaults()).unwrap();
    assert_eq!(camids(&s.layout), ["Usr1.-1", "Usr2.-1", "Usr3.-1"]);
}

#[test]
fn screen_region_without_camid_shows_the_first_screen_source() {
    let mut r = req();
    r.sources = vec![
        src("Usr1.-1"),
        src_of("Scr1", proto::ContentType::Screen),
        src_of("Scr2", proto::ContentType::Screen),
    ];
    cfg(&mut r).layout_config = vec![
        region("Usr1.-1", 0, 0, 640, 360),
        region_of(proto::ContentType::Screen, ""),
    ];
    let s = create_request(&r, &defaults()).expect("valid");
    assert_eq!(s.sources[1].content, ContentType::Screen);
    assert_eq!(camids(&s.layout), ["Usr1.-1", "Scr1"]);
    // Without a screen-share source: the region's type is named.
    r.sources.truncate(1);
    rejects(
        r,
        "video_file_cfg.layout_config[1].type: no screen-share source",
    );
}

#[test]
fn screen_region_with_camid_must_name_a_screen_source() {
    let mut r = req();
    r.sources = vec![src("Usr1.-1"), src_of("Scr1", proto::ContentType::Screen)];
    cfg(&mut r).layout_config = vec![region_of(proto::ContentType::Screen, "Scr1")];
    let s = create_request(&r, &defaults()).expect("names a screen source");
    assert_eq!(camids(&s.layout), ["Scr1"]);
    for camid in ["Usr1.-1", "Nobody"] {
        cfg(&mut r).layout_config = vec![region_of(proto::ContentType::Screen, camid)];
        rejects(
            r.clone(),
            &format!(
                "video_file_cfg.layout_config[0].param.camid: {camid:?} is not a screen-share source"
            ),
        );
    }
}

#[test]
fn video_region_may_show_a_screen_source() {
    let mut r = req();
    r.sources = vec![src("Usr1.-1"), src_of("Scr1", proto::ContentType::Screen)];
    cfg(&mut r).layout_config = vec![
        region("Scr1", 0, 0, 640, 360),
        region_of(proto::ContentType::Screen, ""),
    ];
    let s = create_request(&r, &defaults()).expect("a screen is a picture like any other");
    assert_eq!(camids(&s.layout), ["Scr1", "Scr1"]);
}

#[test]
fn media_region_follows_the_screen_rules_for_media_sources() {
    let mut r = req();
    r.sources = vec![
        src_of("Scr1", proto::ContentType::Screen),
        src_of("Med1", proto::ContentType::Media),
    ];
    cfg(&mut r).layout_config = vec![region_of(proto::ContentType::Media, "")];
    let s = create_request(&r, &defaults()).expect("valid");
    assert_eq!(camids(&s.layout), ["Med1"]);
    cfg(&mut r).layout_config = vec![region_of(proto::ContentType::Media, "Scr1")];
    rejects(
        r.clone(),
        "video_file_cfg.layout_config[0].param.camid: \"Scr1\" is not a media-share source",
    );
    r.sources.truncate(1);
    cfg(&mut r).layout_config = vec![region_of(proto::ContentType::Media, "")];
    rejects(
        r,
        "video_file_cfg.layout_config[0].type: no media-share source",
    );
}

/// Update: the sources of the default `req()` (Usr1 and Usr2, cameras), Usr1 the host.
fn hosted() -> Vec<SourceSpec> {
    let mut r = req();
    r.sources[0].host = true;
    create_request(&r, &defaults()).unwrap().sources
}

fn update(
    sources: &[SourceSpec],
    f: impl FnOnce(&mut proto::UpdateCloudMixerContentRequest),
) -> Result<ContentUpdate, FieldError> {
    let mut r = proto::UpdateCloudMixerContentRequest {
        mixer_id: "m1".into(),
        ..Default::default()
    };
    f(&mut r);
    update_request(&r, current(sources))
}

#[test]
fn update_allows_one_host_counting_the_kept_sources() {
    let sources = hosted();
    let host = |c: &str| proto::SourceConfig {
        host: true,
        ..src(c)
    };
    let e = update(&sources, |r| r.add_sources = vec![host("Usr3.-1")]).unwrap_err();
    assert!(
        e.to_string().starts_with(
            "add_sources[0].host: a mixer has at most one host, and \"Usr1.-1\" already is"
        ),
        "{e}"
    );
    // Removing the host makes room for a new one, but only one.
    let u = update(&sources, |r| {
        r.remove_camids = vec!["Usr1.-1".into()];
        r.add_sources = vec![host("Usr3.-1")];
    })
    .expect("the old host is removed");
    assert!(u.add_sources[0].host);
    let e = update(&sources, |r| {
        r.remove_camids = vec!["Usr1.-1".into()];
        r.add_sources = vec![host("Usr3.-1"), host("Usr4.-1")];
    })
    .unwrap_err();
    assert!(e.to_string().starts_with("add_sources[1].host:"), "{e}");
}

#[test]
fn update_speaker_preset_puts_the_host_after_the_update_first() {
    let sources = hosted();
    let speaker = || proto::LayoutPreset {
        name: "speaker".into(),
        keep_aspect_ratio: Some(true),
        ..Default::default()
    };
    let u = update(&sources, |r| r.layout_preset = Some(speaker())).unwrap();
    assert_eq!(camids(u.layout.as_ref().unwrap()), ["Usr1.-1", "Usr2.-1"]);
    // The host is replaced by an added one: the new host gets the main tile.
    let u = update(&sources, |r| {
        r.remove_camids = vec!["Usr1.-1".into()];
        r.add_sources = vec![
            src("Usr3.-1"),
            proto::SourceConfig {
                host: true,
                ..src("Usr4.-1")
            },
        ];
        r.layout_preset = Some(speaker());
    })
    .unwrap();
    let l = u.layout.unwrap();
    assert_eq!(camids(&l), ["Usr4.-1", "Usr2.-1", "Usr3.-1"]);
    assert_eq!(rect(&l.regions[0]), SPEAKER_MAIN);
}

#[test]
fn update_resolves_screen_regions_against_the_sources_after_it() {
    let sources = hosted();
    let screen_layout = |r: &mut proto::UpdateCloudMixerContentRequest| {
        r.layout_config = vec![
            region("Usr2.-1", 0, 0, 640, 360),
            region_of(proto::ContentType::Screen, ""),
        ];
    };
    let e = update(&sources, screen_layout).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("layout_config[1].type: no screen-share source"),
        "{e}"
    );
    let u = update(&sources, |r| {
        screen_layout(r);
        r.add_sources = vec![src_of("Scr1", proto::ContentType::Screen)];
    })
    .expect("the added screen source");
    assert_eq!(camids(u.layout.as_ref().unwrap()), ["Usr2.-1", "Scr1"]);
    // A screen source removed by the same update no longer counts.
    let after = apply_sources(&sources, &u);
    let e = update(&after, |r| {
        screen_layout(r);
        r.remove_camids = vec!["Scr1".into()];
    })
    .unwrap_err();
    assert!(e.to_string().starts_with("layout_config[1].type:"), "{e}");
    let e = update(&after, |r| {
        r.layout_config = vec![region_of(proto::ContentType::Screen, "Usr2.-1")];
    })
    .unwrap_err();
    assert!(
        e.to_string().starts_with("layout_config[0].param.camid:"),
        "{e}"
    );
}
