//! Update requests.

use super::*;

fn current_sources() -> Vec<SourceSpec> {
    create_request(&req(), &defaults()).unwrap().sources
}

#[track_caller]
fn update_rejects(r: proto::UpdateCloudMixerContentRequest, prefix: &str) {
    let sources = current_sources();
    let current = current(&sources);
    let e = update_request(&r, current).expect_err("update should be rejected");
    let message = e.to_string();
    assert!(message.starts_with(prefix), "{message:?} vs {prefix:?}");
}

#[test]
fn update_checks_sources_and_layout_fields() {
    let base = proto::UpdateCloudMixerContentRequest {
        mixer_id: "m1".into(),
        ..Default::default()
    };
    let mut r = base.clone();
    r.add_sources = vec![src("Usr1.-1")];
    update_rejects(r, "add_sources[0].camid: duplicate \"Usr1.-1\"");
    let mut r = base.clone();
    r.remove_camids = vec!["Usr7.-1".into()];
    update_rejects(r, "remove_camids[0]: \"Usr7.-1\" is not a source");
    let mut r = base.clone();
    r.layout_config = vec![region("Usr1.-1", 0, 0, 1282, 720)];
    update_rejects(r, "layout_config[0].width: region left 0 + width 1282");
}

#[test]
fn update_may_replace_a_source_and_keeps_layout_when_unset() {
    let sources = current_sources();
    let r = proto::UpdateCloudMixerContentRequest {
        mixer_id: "m1".into(),
        add_sources: vec![src("Usr1.-1"), src("Usr3.-1")],
        remove_camids: vec!["Usr1.-1".into()],
        ..Default::default()
    };
    let current = current(&sources);
    let u = update_request(&r, current).unwrap();
    assert!(u.layout.is_none());
    let after: Vec<String> = apply_sources(&sources, &u)
        .into_iter()
        .map(|s| s.camid)
        .collect();
    assert_eq!(after, ["Usr2.-1", "Usr1.-1", "Usr3.-1"]);
}
