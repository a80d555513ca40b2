//! String limits: every string field has a length and a charset limit naming the field,
//! ids cannot be `.`/`..`, path components are bounded, and no message echoes an
//! unbounded value or a raw control character.

use super::*;
use crate::request::validate::strings::{
    self, MAX_BEARER_TOKEN_LEN, MAX_OPER_USER_ID_LEN, MAX_PATH_COMPONENT_LEN, MAX_PRESET_NAME_LEN,
    MAX_SHOWN_CHARS, MAX_WHEP_URL_LEN,
};

/// The error message of `r`, which must be rejected.
#[track_caller]
fn message(r: proto::CreateCloudMixerRequest) -> String {
    create_request(&r, &defaults())
        .expect_err("request should be rejected")
        .to_string()
}

#[test]
fn huge_oper_user_id_is_refused_without_echo() {
    let mut r = req();
    r.oper_user_id = "x".repeat(5 << 20);
    let m = message(r);
    assert_eq!(
        m,
        format!(
            "oper_user_id: at most {MAX_OPER_USER_ID_LEN} bytes, got {}",
            5 << 20
        )
    );
    let mut r = req();
    r.oper_user_id = "x".repeat(MAX_OPER_USER_ID_LEN);
    create_request(&r, &defaults()).expect("the limit itself is accepted");
    let mut r = req();
    r.oper_user_id = "eve\n2024 INFO forged log line".into();
    let m = message(r);
    assert!(m.starts_with("oper_user_id: control characters in "), "{m}");
    assert!(!m.contains('\n'), "control characters are escaped: {m:?}");
}

#[test]
fn update_checks_oper_user_id() {
    let sources = create_request(&req(), &defaults()).unwrap().sources;
    let u = proto::UpdateCloudMixerContentRequest {
        mixer_id: "m1".into(),
        oper_user_id: "a\u{7}b".into(),
        ..Default::default()
    };
    let e = update_request(&u, current(&sources)).unwrap_err();
    assert!(
        e.to_string()
            .starts_with("oper_user_id: control characters"),
        "{e}"
    );
}

#[test]
fn mixer_ids_dot_dotdot_slash_control_and_length() {
    for (id, want) in [
        (".", "mixer_id: \".\" is not allowed"),
        ("..", "mixer_id: \"..\" is not allowed"),
        ("a/b", "mixer_id: only letters, digits"),
        ("a\u{0}b", "mixer_id: only letters, digits"),
        ("a b", "mixer_id: only letters, digits"),
    ] {
        let mut r = req();
        r.mixer_id = id.into();
        let m = message(r);
        assert!(m.starts_with(want), "{id:?}: {m}");
        assert!(!m.contains('\0'), "{m:?}");
    }
    let mut r = req();
    r.mixer_id = "a".repeat(65);
    assert!(message(r).starts_with("mixer_id: at most 64 characters, got 65"));
    // "..." is a name, not a parent reference: its default file is "....mp4".
    let mut r = req();
    r.mixer_id = "...".into();
    cfg(&mut r).svr_path_name.clear();
    assert_eq!(
        create_request(&r, &defaults()).unwrap().output.rel_path,
        "....mp4"
    );
}

#[test]
fn lookup_ids_are_checked_before_the_lookup() {
    use crate::request::validate::output::existing_mixer_id;
    assert!(existing_mixer_id("nope").is_ok());
    for id in ["", ".", "..", "a/b", "a\nb"] {
        let e = existing_mixer_id(id).unwrap_err();
        assert_eq!(e.field, "mixer_id", "{id:?}");
    }
    let huge = "m".repeat(1 << 20);
    let e = existing_mixer_id(&huge).unwrap_err();
    assert!(e.to_string().len() < 100, "no echo of a huge id: {e}");
}

#[test]
fn path_component_length_and_control_characters() {
    let mut r = req();
    cfg(&mut r).svr_path_name = format!("{}/x.mp4", "d".repeat(MAX_PATH_COMPONENT_LEN + 1));
    let m = message(r);
    assert!(
        m.starts_with("video_file_cfg.svr_path_name: a path component is at most 255 bytes"),
        "{m}"
    );
    let mut r = req();
    cfg(&mut r).svr_path_name = format!("{}.mp4", "d".repeat(MAX_PATH_COMPONENT_LEN - 4));
    create_request(&r, &defaults()).expect("a 255-byte name is accepted");
    let mut r = req();
    cfg(&mut r).svr_path_name = "a\u{1b}[31m/x.mp4".into();
    let m = message(r);
    assert!(
        m.starts_with("video_file_cfg.svr_path_name: control characters"),
        "{m}"
    );
    assert!(!m.contains('\u{1b}'), "{m:?}");
}

#[test]
fn preset_name_and_background_color_limits() {
    let mut r = req();
    cfg(&mut r).layout_config.clear();
    cfg(&mut r).layout_preset = Some(proto::LayoutPreset {
        name: "g".repeat(MAX_PRESET_NAME_LEN + 1),
        ..Default::default()
    });
    assert!(message(r).starts_with("video_file_cfg.layout_preset.name: at most 64 bytes, got 65"));
    let mut r = req();
    cfg(&mut r).layout_config.clear();
    cfg(&mut r).layout_preset = Some(proto::LayoutPreset {
        name: "grid\r".into(),
        ..Default::default()
    });
    assert!(message(r).starts_with("video_file_cfg.layout_preset.name: control characters"));
    let mut r = req();
    cfg(&mut r).background_color = "#".repeat(1 << 20);
    let m = message(r);
    assert!(
        m.starts_with("video_file_cfg.background_color: at most 7 bytes"),
        "{m}"
    );
    assert!(m.len() < 100, "{m}");
}

fn whep(url: &str, token: &str) -> proto::CreateCloudMixerRequest {
    let mut r = req();
    r.sources[1].transport = proto::SourceTransport::Whep as i32;
    r.sources[1].whep = Some(proto::WhepSource {
        url: url.into(),
        bearer_token: token.into(),
    });
    r
}

#[test]
fn whep_url_and_token_limits() {
    let ok = "http://sfu:8889/cam/whep";
    create_request(&whep(ok, "eyJhbGciOi.J9-_~+/x=="), &defaults()).expect("b64token");
    let long = format!("http://h/{}", "p".repeat(MAX_WHEP_URL_LEN));
    let m = message(whep(&long, ""));
    assert!(
        m.starts_with("sources[1].whep.url: at most 2048 bytes"),
        "{m}"
    );
    let m = message(whep("http://h/a b", ""));
    assert!(m.starts_with("sources[1].whep.url: whitespace in"), "{m}");
    let m = message(whep("http://h/\u{85}", ""));
    assert!(
        m.starts_with("sources[1].whep.url: control characters"),
        "{m}"
    );
    for token in ["two\nlines", "with space", "quote\"", "=="] {
        let m = message(whep(ok, token));
        assert!(
            m.starts_with("sources[1].whep.bearer_token: must be an RFC 6750 b64token"),
            "{m}"
        );
        assert!(!m.contains(token), "the token is never echoed: {m}");
    }
    let m = message(whep(ok, &"t".repeat(MAX_BEARER_TOKEN_LEN + 1)));
    assert!(
        m.starts_with("sources[1].whep.bearer_token: at most 4096 bytes"),
        "{m}"
    );
}

#[test]
fn camids_are_bounded_everywhere() {
    let huge = "c".repeat(129);
    let mut r = req();
    r.sources[0].camid = huge.clone();
    assert!(message(r).starts_with("sources[0].camid: at most 128 bytes"));
    let mut r = req();
    cfg(&mut r).layout_config[0].param = Some(proto::RegionParam {
        camid: huge.clone(),
    });
    assert!(message(r).starts_with("video_file_cfg.layout_config[0].param.camid: at most 128"));
    let mut r = req();
    cfg(&mut r).layout_config.clear();
    cfg(&mut r).layout_preset = Some(proto::LayoutPreset {
        name: "grid".into(),
        camids: vec![huge],
        ..Default::default()
    });
    assert!(message(r).starts_with("video_file_cfg.layout_preset.camids[0]: at most 128"));
}

#[test]
fn shown_escapes_and_cuts() {
    assert_eq!(strings::shown("a\nb"), "\"a\\nb\"");
    let long = "é".repeat(MAX_SHOWN_CHARS + 10);
    let s = strings::shown(&long);
    assert!(s.ends_with(&format!("... ({} bytes)", long.len())), "{s}");
    assert_eq!(s.matches('é').count(), MAX_SHOWN_CHARS);
}
