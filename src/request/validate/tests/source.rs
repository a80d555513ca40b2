//! Source rules.

use super::*;

#[test]
fn duplicate_camid() {
    let mut r = req();
    r.sources[1].camid = "Usr1.-1".into();
    rejects(r, "sources[1].camid: duplicate \"Usr1.-1\"");
}

#[test]
fn empty_camid() {
    let mut r = req();
    r.sources[0].camid.clear();
    rejects(r, "sources[0].camid: must not be empty");
}

#[test]
fn unspecified_or_unknown_codec() {
    let mut r = req();
    r.sources[0].video.as_mut().unwrap().codec = 0;
    rejects(r, "sources[0].video.codec: must be set");
    let mut r = req();
    r.sources[1].audio.as_mut().unwrap().codec = 9;
    rejects(r, "sources[1].audio.codec: unknown audio codec 9");
}

#[test]
fn payload_type_above_127() {
    let mut r = req();
    r.sources[1].video.as_mut().unwrap().payload_type = 128;
    rejects(r, "sources[1].video.payload_type: must be 0..=127, got 128");
}

#[test]
fn source_without_media() {
    let mut r = req();
    r.sources[0].video = None;
    r.sources[0].audio = None;
    rejects(r, "sources[0]: must have video, audio or both");
}

#[test]
fn webrtc_transports() {
    use crate::model::SourceTransport;
    let mut r = req();
    r.sources[0].transport = proto::SourceTransport::Whip as i32;
    r.sources[1].transport = proto::SourceTransport::Whep as i32;
    r.sources[1].whep = Some(proto::WhepSource {
        url: "http://sfu:8889/cam/whep".into(),
        bearer_token: "t".into(),
    });
    let spec = create_request(&r, &defaults()).expect("valid");
    assert_eq!(spec.sources[0].transport, SourceTransport::Whip);
    assert_eq!(
        spec.sources[1].transport,
        SourceTransport::Whep {
            url: "http://sfu:8889/cam/whep".into(),
            bearer_token: "t".into()
        }
    );
    let mut r = req();
    r.sources[1].transport = proto::SourceTransport::Whep as i32;
    rejects(r.clone(), "sources[1].whep: must be set");
    r.sources[1].whep = Some(proto::WhepSource {
        url: "ftp://sfu/whep".into(),
        bearer_token: String::new(),
    });
    rejects(r, "sources[1].whep.url: must be an http:// or https:// URL");
    let mut r = req();
    r.sources[0].transport = 7;
    rejects(r, "sources[0].transport: unknown transport 7");
}
