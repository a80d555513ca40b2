//! Fuzz regressions on stable `cargo test`, no fuzzer needed: every file of
//! `tests/fuzz/corpus/<target>/` (seeds and the interesting inputs the fuzzer found) and
//! `tests/fuzz/artifacts/<target>/` (reproducers of crashes that were fixed) goes through
//! the target's harness in `cloudmixer::fuzzing`, which must not panic. See
//! docs/FUZZING.md.
//!
//! The seed files are made from the real captures in `tests/data/` and the preset files
//! in `layouts/` by the ignored test [`regenerate_seeds`]:
//! `cargo test --test fuzz_regressions -- --ignored regenerate_seeds`.

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use cloudmixer::fuzzing::{self, Harness, TARGETS};
use cloudmixer::proto;
use prost::Message;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz")
}

/// Files directly in `dir`, sorted; none if it does not exist.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// Runs `harness` on every file of `dir`; returns (files, accepted, panicked files).
fn replay(dir: &Path, harness: Harness) -> (usize, usize, Vec<String>) {
    let mut accepted = 0;
    let mut panicked = Vec::new();
    let list = files(dir);
    for path in &list {
        let data = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        match panic::catch_unwind(AssertUnwindSafe(|| harness(&data))) {
            Ok(true) => accepted += 1,
            Ok(false) => {}
            Err(_) => panicked.push(path.display().to_string()),
        }
    }
    (list.len(), accepted, panicked)
}

#[test]
fn corpus_and_artifacts_do_not_panic() {
    let mut failures = Vec::new();
    for &(name, harness) in TARGETS {
        let (n, accepted, mut panicked) = replay(&fuzz_dir().join("corpus").join(name), harness);
        assert!(n > 0, "{name}: empty corpus");
        assert!(
            accepted > 0,
            "{name}: no corpus input gets past the parser, the seeds are stale"
        );
        failures.append(&mut panicked);
        let (_, _, mut panicked) = replay(&fuzz_dir().join("artifacts").join(name), harness);
        failures.append(&mut panicked);
    }
    assert!(failures.is_empty(), "harness panicked on: {failures:#?}");
}

#[test]
fn every_target_has_a_fuzz_binary() {
    for &(name, _) in TARGETS {
        let path = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
        assert!(path.is_file(), "{} missing", path.display());
    }
}

#[test]
fn rtpdump_reader_matches_the_captures() {
    let bytes = std::fs::read(capture("gst_vp8.rtpdump")).expect("capture");
    let records = fuzzing::rtpdump_records(&bytes);
    // gst_vp8.txt lists 34 packets, the first of 1200 bytes.
    assert_eq!(records.len(), 34);
    assert_eq!(records[0].1.len(), 1200);
    assert!(fuzzing::rtp_packet(records[0].1));
    assert!(fuzzing::rtpdump_records(b"not a dump").is_empty());
    let truncated = &bytes[..bytes.len() - 7];
    assert_eq!(fuzzing::rtpdump_records(truncated).len(), 33);
}

fn capture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Captures the RTP seeds are cut from.
const CAPTURES: &[&str] = &[
    "ffmpeg_h264.rtpdump",
    "ffmpeg_opus.rtpdump",
    "ffmpeg_vp8.rtpdump",
    "gst_h264_stapa.rtpdump",
    "gst_vp8.rtpdump",
];
/// Largest jitter seed, bytes: keeps libFuzzer's inputs (and so its speed) small.
const MAX_STREAM_SEED: usize = 12 * 1024;

fn write_seed(target: &str, name: &str, data: &[u8]) {
    let dir = fuzz_dir().join("corpus").join(target);
    std::fs::create_dir_all(&dir).expect("create corpus dir");
    std::fs::write(dir.join(format!("seed-{name}")), data).expect("write seed");
}

/// The first records of a capture whose datagrams add up to at most `max` bytes.
fn head(records: &[(u32, Vec<u8>)], max: usize) -> Vec<(u32, &[u8])> {
    let mut total = 0;
    records
        .iter()
        .take_while(|(_, d)| {
            total += d.len() + 3;
            total <= max
        })
        .map(|(t, d)| (*t, &d[..]))
        .collect()
}

fn source(camid: &str, video: Option<i32>, audio: bool) -> proto::SourceConfig {
    proto::SourceConfig {
        content_type: 0,
        host: false,
        camid: camid.to_owned(),
        video: video.map(|codec| proto::RtpVideo {
            codec,
            payload_type: 96,
            ssrc: None,
        }),
        audio: audio.then_some(proto::RtpAudio {
            codec: proto::AudioCodec::Opus as i32,
            payload_type: 111,
            ssrc: Some(1234),
        }),
        ..Default::default()
    }
}

fn region(camid: &str, top: i32, left: i32, width: i32, height: i32) -> proto::LayoutRegion {
    proto::LayoutRegion {
        r#type: proto::ContentType::Video as i32,
        top,
        left,
        width,
        height,
        keep_aspect_ratio: true,
        z_order: Some(1),
        placeholder_image: Vec::new(),
        param: Some(proto::RegionParam {
            camid: camid.to_owned(),
        }),
    }
}

fn preset(name: &str, camids: &[&str]) -> proto::LayoutPreset {
    proto::LayoutPreset {
        name: name.to_owned(),
        camids: camids.iter().map(|c| c.to_string()).collect(),
        keep_aspect_ratio: Some(false),
        placeholder_image: Vec::new(),
    }
}

fn create_seeds() -> Vec<(&'static str, proto::CreateCloudMixerRequest)> {
    let vp8 = Some(proto::VideoCodec::Vp8 as i32);
    let h264 = Some(proto::VideoCodec::H264 as i32);
    let cfg = |layout_config, layout_preset| proto::VideoFileCfg {
        svr_path_name: "room1/rec.mp4".to_owned(),
        v_width: 1280,
        v_height: 720,
        v_fps: 25,
        v_bps: 0,
        background_color: "#102030".to_owned(),
        layout_config,
        layout_preset,
        a_bps: 64_000,
        speaking_ring_color: String::new(),
        region_border_color: String::new(),
        region_border_px: 0,
        background_image: Vec::new(),
        loudness_target_lufs: 0,
        snapshot_interval_secs: 0,
        live_push_urls: Vec::new(),
        hls_segment_secs: 0,
    };
    let req = |sources, cfg| proto::CreateCloudMixerRequest {
        conference_id: String::new(),
        record_cfg: None,
        mixer_id: "room-1".to_owned(),
        oper_user_id: "op".to_owned(),
        sources,
        video_file_cfg: Some(cfg),
        playout_delay_ms: 0,
        stale_timeout_ms: 0,
    };
    let two = vec![source("Usr1.-1", vp8, true), source("Usr2.-1", h264, false)];
    vec![
        ("default_layout", req(two.clone(), cfg(vec![], None))),
        (
            "regions",
            req(
                two.clone(),
                cfg(
                    vec![
                        region("Usr1.-1", 0, 0, 640, 720),
                        region("Usr2.-1", 495, 1000, 280, 225),
                    ],
                    None,
                ),
            ),
        ),
        (
            "preset",
            req(two, cfg(vec![], Some(preset("picture-in-picture", &[])))),
        ),
        (
            "grid_audio_only",
            req(
                vec![
                    source("a", vp8, false),
                    source("b", None, true),
                    source("c", h264, true),
                ],
                cfg(vec![], Some(preset("grid", &["a", "c", "x"]))),
            ),
        ),
    ]
}

fn update_seeds() -> Vec<(&'static str, proto::UpdateCloudMixerContentRequest)> {
    let base = proto::UpdateCloudMixerContentRequest {
        mixer_id: "room-1".to_owned(),
        oper_user_id: "op".to_owned(),
        ..Default::default()
    };
    vec![
        (
            "regions",
            proto::UpdateCloudMixerContentRequest {
                layout_config: vec![
                    region("Usr1.-1", 0, 0, 640, 360),
                    region("Usr3.-1", 360, 640, 640, 360),
                ],
                ..base.clone()
            },
        ),
        (
            "replace_source",
            proto::UpdateCloudMixerContentRequest {
                remove_camids: vec!["Usr1.-1".to_owned()],
                add_sources: vec![source(
                    "Usr1.-1",
                    Some(proto::VideoCodec::H264 as i32),
                    true,
                )],
                layout_preset: Some(preset("side-by-side", &[])),
                ..base.clone()
            },
        ),
        (
            "speaker",
            proto::UpdateCloudMixerContentRequest {
                layout_preset: Some(preset("speaker", &["Usr3.-1", "Usr1.-1"])),
                ..base
            },
        ),
    ]
}

/// Rewrites the `seed-*` files of every corpus from the captures, the preset files and
/// typical requests. Inputs the fuzzer found (other names) are left alone.
#[test]
#[ignore = "writes tests/fuzz/corpus; run by hand after changing a harness input format"]
fn regenerate_seeds() {
    for &(target, _) in TARGETS {
        for path in files(&fuzz_dir().join("corpus").join(target)) {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with("seed-") {
                std::fs::remove_file(&path).expect("remove old seed");
            }
        }
    }
    for capture_name in CAPTURES {
        let stem = capture_name.trim_end_matches(".rtpdump");
        let bytes = std::fs::read(capture(capture_name)).expect("capture");
        let records: Vec<(u32, Vec<u8>)> = fuzzing::rtpdump_records(&bytes)
            .into_iter()
            .map(|(t, d)| (t, d.to_vec()))
            .collect();
        // rtp_packet: the first packet and the first one with the marker bit.
        write_seed("rtp_packet", &format!("{stem}-first"), &records[0].1);
        if let Some((_, d)) = records.iter().find(|(_, d)| d[1] & 0x80 != 0) {
            write_seed("rtp_packet", &format!("{stem}-marker"), d);
        }
        // jitter_and_assemble: the capture's head as sent, with the daemon's settings...
        let packets = head(&records, MAX_STREAM_SEED);
        let seed = fuzzing::encode_stream(255, 255, &packets);
        assert!(fuzzing::jitter_and_assemble(&seed), "{stem}: no AU");
        write_seed("jitter_and_assemble", stem, &seed);
        // ...and reordered in pairs with one packet lost, capacity 4, wait 20 ms.
        let mut shuffled = packets.clone();
        for pair in shuffled.chunks_mut(2) {
            pair.reverse();
        }
        if shuffled.len() > 3 {
            shuffled.remove(3);
        }
        let seed = fuzzing::encode_stream(3, 20, &shuffled);
        write_seed("jitter_and_assemble", &format!("{stem}-reordered"), &seed);
    }
    let layouts = Path::new(env!("CARGO_MANIFEST_DIR")).join("layouts");
    for path in files(&layouts) {
        let file_name = path.file_name().and_then(|n| n.to_str()).expect("name");
        let json = std::fs::read_to_string(&path).expect("preset file");
        let seed = format!("{file_name}\n{json}");
        assert!(fuzzing::layout_preset_json(seed.as_bytes()), "{file_name}");
        write_seed("layout_preset_json", file_name, seed.as_bytes());
    }
    for (name, req) in create_seeds() {
        let bytes = req.encode_to_vec();
        assert!(fuzzing::validate_create_request(&bytes), "create {name}");
        write_seed("validate_create_request", name, &bytes);
    }
    for (name, req) in update_seeds() {
        let bytes = req.encode_to_vec();
        assert!(fuzzing::validate_update_request(&bytes), "update {name}");
        write_seed("validate_update_request", name, &bytes);
    }
    for (name, bytes) in rtcp_seeds() {
        assert!(fuzzing::rtcp_packet(&bytes), "rtcp {name}");
        write_seed("rtcp_packet", name, &bytes);
    }
    for (name, bytes, accepted) in whip_offer_seeds() {
        assert_eq!(fuzzing::whip_offer(&bytes), accepted, "whip_offer {name}");
        write_seed("whip_offer", &name, &bytes);
    }
    for (name, bytes, accepted) in sdp_negotiate_seeds() {
        assert_eq!(
            fuzzing::sdp_negotiate(&bytes),
            accepted,
            "sdp_negotiate {name}"
        );
        write_seed("sdp_negotiate", &name, &bytes);
    }
}

/// Real SDP offers: Chromium and GStreamer webrtcbin publishing to the daemon's WHIP
/// endpoint, and the daemon's own WHEP offer; captured with
/// tests/fuzz/capture/capture_sdp.sh (docs/FUZZING.md).
const SDP_OFFERS: &[&str] = &[
    "chromium_vp8_offer",
    "chromium_h264_offer",
    "gst_vp8_offer",
    "gst_h264_offer",
    "whep_offer",
];
/// The daemon's answers to [`SDP_OFFERS`] (same capture).
const SDP_ANSWERS: &[&str] = &[
    "chromium_vp8_answer",
    "chromium_h264_answer",
    "gst_vp8_answer",
    "gst_h264_answer",
    "whep_answer",
];

fn sdp(name: &str) -> Vec<u8> {
    std::fs::read(capture(&format!("sdp/{name}.sdp"))).expect("SDP capture")
}

/// A session description without media sections.
const NO_MEDIA: &[u8] = b"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n";

/// The Chromium offer with an 8 KiB attribute line after the session part.
fn huge_line_offer() -> Vec<u8> {
    let offer = String::from_utf8(sdp("chromium_vp8_offer")).expect("ASCII capture");
    let (session, media) = offer.split_once("m=").expect("media sections");
    format!("{session}a=x-fuzz:{}\r\nm={media}", "x".repeat(8 * 1024)).into_bytes()
}

/// `whip_offer` seeds: (name, input, accepted). The captured offers and answers POSTed
/// as the publishers did, then the edge cases: no or a wrong token, another content
/// type, not UTF-8, empty body, no media sections, LF line ends, a huge line.
fn whip_offer_seeds() -> Vec<(String, Vec<u8>, bool)> {
    let bearer = format!("Bearer {}", fuzzing::WHIP_TOKEN);
    let post = |ct: &str, auth: &str, body: &[u8]| fuzzing::encode_whip_post(ct, auth, body);
    let mut v = Vec::new();
    for name in SDP_OFFERS.iter().chain(SDP_ANSWERS) {
        let body = sdp(name);
        v.push((
            name.to_string(),
            post("application/sdp", &bearer, &body),
            true,
        ));
    }
    let offer = sdp("gst_vp8_offer");
    let lf_only = String::from_utf8(offer.clone())
        .expect("ASCII capture")
        .replace("\r\n", "\n");
    let mut not_utf8 = offer.clone();
    not_utf8.extend_from_slice(b"a=x:\xff\xfe\r\n");
    let cases: Vec<(&str, &str, String, Vec<u8>, bool)> = vec![
        (
            "no_token",
            "application/sdp",
            String::new(),
            offer.clone(),
            false,
        ),
        (
            "wrong_token",
            "application/sdp",
            format!("{bearer}0"),
            offer.clone(),
            false,
        ),
        (
            "basic_auth",
            "application/sdp",
            "Basic YTpi".into(),
            offer.clone(),
            false,
        ),
        (
            "text_plain",
            "text/plain",
            bearer.clone(),
            offer.clone(),
            false,
        ),
        (
            "charset",
            "application/sdp; charset=utf-8",
            bearer.clone(),
            offer,
            true,
        ),
        (
            "not_utf8",
            "application/sdp",
            bearer.clone(),
            not_utf8,
            false,
        ),
        (
            "empty_body",
            "application/sdp",
            bearer.clone(),
            Vec::new(),
            false,
        ),
        (
            "no_media",
            "application/sdp",
            bearer.clone(),
            NO_MEDIA.to_vec(),
            true,
        ),
        (
            "lf_only",
            "application/sdp",
            bearer.clone(),
            lf_only.into_bytes(),
            true,
        ),
        (
            "huge_line",
            "application/sdp",
            bearer.clone(),
            huge_line_offer(),
            true,
        ),
    ];
    for (name, ct, auth, body, accepted) in cases {
        v.push((name.to_owned(), post(ct, &auth, &body), accepted));
    }
    v
}

/// An `sdp_negotiate` input: mode byte, then the body.
fn negotiate(mode: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![mode];
    v.extend_from_slice(body);
    v
}

/// `sdp_negotiate` seeds: (name, input, accepted). WHIP (even modes): each captured
/// publisher offer on a source with its codecs, and with a narrower spec (video only,
/// audio only, the other video codec); edge cases: no media sections, empty. WHEP (odd
/// modes): the daemon's WHIP answer to its own WHEP offer after an absolute and a
/// relative `Location`, and with no `Location` line; an answer to a Chromium offer (other
/// mids); no media sections.
fn sdp_negotiate_seeds() -> Vec<(String, Vec<u8>, bool)> {
    // Mode bits 1..=2: 0 VP8+Opus, 1 H.264+Opus, 2 VP8, 3 Opus.
    let (vp8, h264, vp8_only, opus_only) = (0u8, 2u8, 4u8, 6u8);
    let mut v = Vec::new();
    let mut whip = |name: &str, mode: u8, body: Vec<u8>, accepted: bool| {
        v.push((format!("whip-{name}"), negotiate(mode, &body), accepted));
    };
    whip("chromium_vp8", vp8, sdp("chromium_vp8_offer"), true);
    whip("chromium_h264", h264, sdp("chromium_h264_offer"), true);
    whip("gst_vp8", vp8, sdp("gst_vp8_offer"), true);
    whip("gst_h264", h264, sdp("gst_h264_offer"), true);
    whip(
        "chromium_vp8_video_only",
        vp8_only,
        sdp("chromium_vp8_offer"),
        true,
    );
    whip("gst_vp8_audio_only", opus_only, sdp("gst_vp8_offer"), true);
    whip("gst_vp8_for_h264", h264, sdp("gst_vp8_offer"), true);
    whip("huge_line", vp8, huge_line_offer(), true);
    whip("no_media", vp8, NO_MEDIA.to_vec(), false);
    whip("empty", vp8, Vec::new(), false);
    let with_location = |location: &str, body: &[u8]| {
        let mut b = format!("{location}\n").into_bytes();
        b.extend_from_slice(body);
        b
    };
    let answer = sdp("whep_answer");
    let absolute = "http://127.0.0.1:18480/whip/f6bc1c280cb54003a5a4dee18f9c9650/0fdb896c8c7b40719b88dcba26ac142d";
    let cases: Vec<(&str, u8, Vec<u8>, bool)> = vec![
        ("daemon", vp8 | 1, with_location(absolute, &answer), true),
        (
            "daemon_relative_location",
            vp8 | 1,
            with_location("../s/1", &answer),
            true,
        ),
        (
            "daemon_empty_location",
            vp8 | 1,
            with_location("", &answer),
            true,
        ),
        (
            "daemon_for_h264",
            h264 | 1,
            with_location("/s/1", &answer),
            true,
        ),
        (
            "chromium_answer",
            vp8 | 1,
            with_location("/s/1", &sdp("chromium_vp8_answer")),
            true,
        ),
        ("no_media", vp8 | 1, with_location("/s/1", NO_MEDIA), false),
    ];
    for (name, mode, body, accepted) in cases {
        v.push((format!("whep-{name}"), negotiate(mode, &body), accepted));
    }
    v
}

/// Compound RTCP packets a sender sends (SR with a report block, SDES-less BYE) and the
/// ones the daemon itself builds (RR, PLI, FIR).
fn rtcp_seeds() -> Vec<(&'static str, Vec<u8>)> {
    use cloudmixer::ingest::rtcp as ours;
    use rtcp::goodbye::Goodbye;
    use rtcp::reception_report::ReceptionReport;
    use rtcp::sender_report::SenderReport;
    use webrtc_util::marshal::Marshal;

    let sr = SenderReport {
        ssrc: 0x1234_5678,
        ntp_time: 0xE8F0_0000_8000_0000,
        rtp_time: 3_881_598_870,
        packet_count: 34,
        octet_count: 10_000,
        reports: vec![ReceptionReport {
            ssrc: 9,
            fraction_lost: 3,
            total_lost: 7,
            last_sequence_number: 70_000,
            jitter: 12,
            last_sender_report: 0,
            delay: 0,
        }],
        ..Default::default()
    };
    let bye = Goodbye {
        sources: vec![0x1234_5678],
        reason: bytes::Bytes::from_static(b"camera off"),
    };
    let sr_bytes = sr.marshal().expect("SR encodes").to_vec();
    let mut sr_bye = sr_bytes.clone();
    sr_bye.extend_from_slice(&bye.marshal().expect("BYE encodes"));
    vec![
        ("sr", sr_bytes),
        ("sr_bye", sr_bye),
        ("rr", ours::receiver_report(5, vec![]).to_vec()),
        ("pli", ours::pli(5, 0x1234_5678).to_vec()),
        ("fir", ours::fir(5, 0x1234_5678, 3).to_vec()),
    ]
}
