//! Fuzz harnesses: one function per parser that sees network or request bytes.
//!
//! Each `pub fn name(data: &[u8])` takes arbitrary bytes, drives the parser the way the
//! daemon does, and checks the documented invariants of the result with `assert!`. It
//! must never panic: a panic is either a parser panicking on user input (a bug: "never
//! panic on user input") or an invariant the harness checks being broken.
//!
//! The same functions are called by the libFuzzer targets in `tests/fuzz/fuzz_targets/`
//! and by `tests/fuzz_regressions.rs`, which replays the committed corpus and the crash
//! reproducers under plain `cargo test`. See docs/FUZZING.md.
//!
//! Hidden from the docs: this is test support, not engine API.

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use axum::http::{header, HeaderMap, HeaderValue, Uri};
use bytes::Bytes;
use prost::Message;
use webrtc::peer_connection::certificate::RTCCertificate;
use webrtc::peer_connection::configuration::RTCConfiguration;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;

use crate::api::config::OutputDefaults;
use crate::api::validate;
use crate::ingest::depacketize::{FrameAssembler, PayloadFormat, MAX_ACCESS_UNIT_BYTES};
use crate::ingest::jitter::{JitterBuffer, PushOutcome};
use crate::ingest::rtcp::{self as rtcp_in, ReceptionStats};
use crate::ingest::rtp_packet::{self, FIXED_HEADER_LEN};
use crate::ingest::webrtc::{self as rtc, http, whep, whip};
use crate::layout::geometry::{self, Rect};
use crate::layout::preset::Preset;
use crate::layout::{Layout, Region};
use crate::mixer::{SourceSpec, VideoCodec};
use crate::proto;

/// A harness: arbitrary bytes in, whether they were accepted out; panics on a bug.
pub type Harness = fn(&[u8]) -> bool;

/// Every fuzz target, by the name of its directory under `tests/fuzz/corpus/` and
/// `tests/fuzz/artifacts/`, with its harness.
pub const TARGETS: &[(&str, Harness)] = &[
    ("rtp_packet", rtp_packet),
    ("jitter_and_assemble", jitter_and_assemble),
    ("layout_preset_json", layout_preset_json),
    ("validate_create_request", validate_create_request),
    ("validate_update_request", validate_update_request),
    ("rtcp_packet", rtcp_packet),
    ("whip_offer", whip_offer),
    ("sdp_negotiate", sdp_negotiate),
];

/// One UDP datagram on an RTP port through [`rtp_packet::parse`] and
/// [`rtp_packet::parse_bytes`]: both agree, and an accepted packet is version 2 with its
/// payload inside the datagram after the fixed header and CSRC list.
pub fn rtp_packet(data: &[u8]) -> bool {
    let copied = rtp_packet::parse(data);
    let shared = rtp_packet::parse_bytes(Bytes::copy_from_slice(data));
    match (copied, shared) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b, "parse and parse_bytes disagree");
            assert_eq!(a.header.version, 2);
            let header_len = FIXED_HEADER_LEN + 4 * a.header.csrc.len();
            assert!(
                a.payload.len() + header_len <= data.len(),
                "payload of {} bytes does not fit a {}-byte datagram",
                a.payload.len(),
                data.len()
            );
            true
        }
        (Err(a), Err(b)) => {
            assert_eq!(a, b, "parse and parse_bytes disagree");
            false
        }
        (a, b) => panic!("parse and parse_bytes disagree: {a:?} vs {b:?}"),
    }
}

/// Jitter buffer wait used when the input's wait byte is 255: the daemon's value
/// (`mixer::source_worker::REORDER_WAIT`).
const PRODUCTION_WAIT: Duration = Duration::from_millis(60);
/// Capacity used when the input's capacity byte is 255: the daemon's value
/// (`mixer::source_worker::JITTER_CAPACITY`).
const PRODUCTION_CAPACITY: usize = 1024;

/// Input layout of [`jitter_and_assemble`], built by [`encode_stream`]:
///
/// - byte 0: jitter buffer capacity in packets, `1 + b % 64` (255: the daemon's 1024);
/// - byte 1: jitter buffer wait in ms, `b` (255: the daemon's 60 ms);
/// - then records `{u8 dt_ms, u16 len (big-endian), len bytes}`: `dt_ms` after the
///   previous record a datagram of `len` bytes arrives; `len == 0` is a timer tick (the
///   worker waking up without input). A truncated last record is cut to what is there.
///
/// Every datagram goes through [`rtp_packet::parse_bytes`] (unparsable ones are skipped,
/// as the daemon does), then, like the daemon's source worker, an SSRC change resets
/// the stream, the packet is pushed into a [`JitterBuffer`] and everything due is popped
/// into a [`FrameAssembler`] with the loss flag. The same input runs once per
/// [`PayloadFormat`]. At the end the clock moves 10 s on and the buffer is drained.
///
/// Checks: released extended sequence numbers strictly increase (between resets), match
/// the packet's 16-bit number and add up with `lost_before`; after draining no deadline
/// is in the past; access units are non-empty and at most [`MAX_ACCESS_UNIT_BYTES`].
///
/// Returns whether any access unit was assembled.
pub fn jitter_and_assemble(data: &[u8]) -> bool {
    let mut emitted = false;
    for format in [PayloadFormat::Vp8, PayloadFormat::H264, PayloadFormat::Opus] {
        emitted |= run_stream(data, format);
    }
    emitted
}

/// One format's pipeline state in [`jitter_and_assemble`].
struct Stream {
    jitter: JitterBuffer,
    assembler: FrameAssembler,
    ssrc: Option<u32>,
    prev_ext: Option<u64>,
    /// Access units assembled.
    emitted: u64,
}

impl Stream {
    /// Pops everything due at `now` into the assembler, checking the invariants.
    fn drain(&mut self, now: Instant) {
        while let Some(rel) = self.jitter.pop(now) {
            if let Some(prev) = self.prev_ext {
                assert!(rel.ext_seq > prev, "ext_seq {} after {prev}", rel.ext_seq);
                if !rel.discontinuity {
                    assert_eq!(
                        rel.ext_seq,
                        prev + 1 + rel.lost_before,
                        "lost_before does not add up"
                    );
                }
            }
            assert_eq!(rel.ext_seq as u16, rel.packet.header.sequence_number);
            self.prev_ext = Some(rel.ext_seq);
            if let Ok(Some(au)) = self.assembler.push(&rel.packet, !rel.contiguous()) {
                assert!(!au.data.is_empty(), "empty access unit");
                assert!(au.data.len() <= MAX_ACCESS_UNIT_BYTES, "oversized AU");
                assert_eq!(au.rtp_timestamp, rel.packet.header.timestamp);
                self.emitted += 1;
            }
        }
        if let Some(deadline) = self.jitter.next_deadline() {
            assert!(deadline > now, "deadline in the past after draining");
        }
    }
}

/// One format's run of [`jitter_and_assemble`]; true if an access unit was assembled.
fn run_stream(data: &[u8], format: PayloadFormat) -> bool {
    let (config, mut rest) = data.split_at(data.len().min(2));
    let capacity = match config.first() {
        Some(255) | None => PRODUCTION_CAPACITY,
        Some(&b) => 1 + usize::from(b % 64),
    };
    let max_wait = match config.get(1) {
        Some(255) | None => PRODUCTION_WAIT,
        Some(&b) => Duration::from_millis(u64::from(b)),
    };
    let base = Instant::now();
    let mut now = base;
    let mut s = Stream {
        jitter: JitterBuffer::new(max_wait, capacity),
        assembler: FrameAssembler::new(format),
        ssrc: None,
        prev_ext: None,
        emitted: 0,
    };
    while let Some((&dt, tail)) = rest.split_first() {
        let len = match tail {
            [hi, lo, ..] => usize::from(u16::from_be_bytes([*hi, *lo])),
            _ => 0,
        };
        let body = tail.get(2..).unwrap_or_default();
        let (datagram, after) = body.split_at(len.min(body.len()));
        rest = after;
        now += Duration::from_millis(u64::from(dt));
        if !datagram.is_empty() {
            push_datagram(&mut s, datagram, now);
        }
        s.drain(now);
    }
    s.drain(now + Duration::from_secs(10));
    assert!(s.jitter.is_empty(), "packets left after the final drain");
    s.emitted > 0
}

fn push_datagram(s: &mut Stream, datagram: &[u8], now: Instant) {
    let Ok(packet) = rtp_packet::parse_bytes(Bytes::copy_from_slice(datagram)) else {
        return;
    };
    let ssrc = packet.header.ssrc;
    if s.ssrc.is_some_and(|old| old != ssrc) {
        s.jitter.reset();
        s.assembler.reset();
        s.prev_ext = None;
    }
    s.ssrc = Some(ssrc);
    let before = s.jitter.len();
    let outcome = s.jitter.push(packet, now);
    let grew = s.jitter.len() > before;
    match outcome {
        PushOutcome::Queued | PushOutcome::Overflow => assert!(grew, "{outcome:?} but not queued"),
        // A confirmed jump queues two packets; a held one queues none.
        PushOutcome::Jump => {}
        PushOutcome::Duplicate | PushOutcome::Late => assert!(!grew, "{outcome:?} but queued"),
    }
}

/// Input of [`jitter_and_assemble`] from a capacity byte, a wait byte and datagrams with
/// their arrival offsets in ms (e.g. the records of an rtpdump file). Datagrams longer
/// than 65535 bytes are cut; gaps over 254 ms are split into ticks.
pub fn encode_stream(capacity: u8, wait_ms: u8, packets: &[(u32, &[u8])]) -> Vec<u8> {
    let mut out = vec![capacity, wait_ms];
    let mut last_ms = packets.first().map_or(0, |p| p.0);
    for &(offset_ms, datagram) in packets {
        let mut dt = offset_ms.saturating_sub(last_ms);
        last_ms = offset_ms.max(last_ms);
        while dt > 254 {
            out.extend_from_slice(&[254, 0, 0]);
            dt -= 254;
        }
        let len = datagram.len().min(usize::from(u16::MAX));
        out.push(dt as u8);
        out.extend_from_slice(&(len as u16).to_be_bytes());
        out.extend_from_slice(&datagram[..len]);
    }
    out
}

/// The records of an rtptools rtpdump file (`#!rtpplay1.0 addr/port\n`, a 16-byte
/// RD_hdr_t, then per packet `{u16 length, u16 plen, u32 offset_ms}` big-endian and the
/// packet) as (arrival offset in ms, datagram). Lenient: stops at the first malformed
/// record; an input that is not an rtpdump file gives no records.
pub fn rtpdump_records(bytes: &[u8]) -> Vec<(u32, &[u8])> {
    let mut records = Vec::new();
    if !bytes.starts_with(b"#!rtpplay1.0 ") {
        return records;
    }
    let Some(line_end) = bytes.iter().position(|&b| b == b'\n') else {
        return records;
    };
    let mut i = line_end + 1 + 16;
    while let Some(h) = bytes.get(i..i + 8) {
        let length = usize::from(u16::from_be_bytes([h[0], h[1]]));
        let plen = usize::from(u16::from_be_bytes([h[2], h[3]]));
        let offset_ms = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
        if length < 8 {
            break;
        }
        let Some(packet) = bytes.get(i + 8..i + 8 + plen.min(length - 8)) else {
            break;
        };
        if !packet.is_empty() {
            records.push((offset_ms, packet));
        }
        i += length;
    }
    records
}

/// Canvases a preset is resolved on in [`layout_preset_json`], pixels: tiny, odd, the
/// largest request canvas and the extremes of `u32`.
const CANVASES: &[(u32, u32)] = &[
    (1, 1),
    (2, 2),
    (3, 5),
    (641, 359),
    (1280, 720),
    (3840, 2160),
    (u32::MAX, 1),
    (u32::MAX, u32::MAX),
];

/// Source picture sizes fitted into the regions, pixels (0 has no aspect ratio).
const SOURCE_SIZES: &[(u32, u32)] = &[(0, 0), (1, 1), (640, 480), (1, 4000), (u32::MAX, 3)];

/// A user preset file through [`Preset::parse`]: the input is the file name, a newline,
/// then the JSON text (invalid UTF-8 is skipped, as the loader refuses it). An accepted
/// preset is resolved with 0..=all camids on [`CANVASES`]; each region must keep at least
/// 1x1 pixel inside the canvas, and then goes through the compositor's geometry
/// ([`check_layout`]).
pub fn layout_preset_json(data: &[u8]) -> bool {
    let Ok(text) = std::str::from_utf8(data) else {
        return false;
    };
    let (file_name, json) = text.split_once('\n').unwrap_or(("fuzz.json", text));
    let Ok(preset) = Preset::parse(file_name, json) else {
        return false;
    };
    assert!(preset.canvas_width > 0 && preset.canvas_height > 0);
    assert!(!preset.regions.is_empty());
    let camids: Vec<String> = (0..=preset.regions.len())
        .map(|i| format!("c{i}"))
        .collect();
    for &(w, h) in CANVASES {
        for n in [0, 1, preset.regions.len()] {
            let layout = preset
                .layout(&camids[..n], w, h, None)
                .expect("camid count is within the regions and the canvas is non-zero");
            assert_eq!(layout.regions.len(), n);
            for r in &layout.regions {
                assert!(r.width >= 1 && r.height >= 1, "collapsed region {r:?}");
                assert!(
                    u64::from(r.left) + u64::from(r.width) <= u64::from(w)
                        && u64::from(r.top) + u64::from(r.height) <= u64::from(h),
                    "region {r:?} outside the {w}x{h} canvas"
                );
            }
            check_layout(&layout, w, h);
        }
        let too_many = preset.layout(&camids, w, h, Some(true));
        assert!(too_many.is_err(), "more camids than regions accepted");
    }
    true
}

/// The compositor's geometry on every region of `layout` for a `canvas_w` x `canvas_h`
/// canvas: [`geometry::clip`] gives an even-aligned rectangle of at least 2x2 inside the
/// canvas, [`geometry::fit`] one inside the snapped region; draw order is a permutation.
pub fn check_layout(layout: &Layout, canvas_w: u32, canvas_h: u32) {
    let canvas = Rect::new(0, 0, canvas_w, canvas_h);
    for r in &layout.regions {
        let rect = Rect::new(r.left, r.top, r.width, r.height);
        if let Some(c) = geometry::clip(rect, canvas_w, canvas_h) {
            assert!(
                c.is_even_aligned() && c.w >= 2 && c.h >= 2,
                "clip {rect:?} -> {c:?}"
            );
            assert!(canvas.contains(&c), "clip {rect:?} -> {c:?} off canvas");
        }
        let snapped = geometry::clip(rect, u32::MAX, u32::MAX);
        for &(sw, sh) in SOURCE_SIZES {
            let f = geometry::fit(rect, sw, sh, r.keep_aspect_ratio);
            match snapped {
                Some(s) => {
                    assert!(f.is_even_aligned() && f.w >= 2 && f.h >= 2, "fit -> {f:?}");
                    assert!(s.contains(&f), "fit {f:?} outside snapped {s:?}");
                }
                None => assert!(f.is_empty(), "fit of an empty region -> {f:?}"),
            }
        }
    }
    assert_eq!(layout.draw_order().len(), layout.regions.len());
}

/// Recordings root for the validation harnesses; validation is pure, nothing is created.
fn defaults() -> OutputDefaults {
    OutputDefaults {
        recordings_root: "/nonexistent/recordings".into(),
        x264_preset: "veryfast".to_owned(),
        encoder_threads: 0,
    }
}

/// A gRPC `CreateCloudMixer` request body: decoded with `prost` (undecodable bytes are
/// refused by tonic before validation, so they are skipped) and validated by
/// [`validate::create_request`]. An accepted spec has unique camids, an even canvas
/// within limits, a relative `.mp4` path under the root and every region inside the
/// canvas ([`check_layout`]).
pub fn validate_create_request(data: &[u8]) -> bool {
    let Ok(req) = proto::CreateCloudMixerRequest::decode(data) else {
        return false;
    };
    let defaults = defaults();
    let Ok(spec) = validate::create_request(&req, &defaults) else {
        return false;
    };
    let out = &spec.output;
    assert!(out.width > 0 && out.height > 0 && out.width % 2 == 0 && out.height % 2 == 0);
    assert!(out.abs_path.starts_with(&defaults.recordings_root));
    assert!(out.rel_path.to_ascii_lowercase().ends_with(".mp4"));
    assert!(!spec.mixer_id.is_empty());
    check_sources(&spec.sources);
    check_request_layout(&spec.layout, out.width, out.height);
    true
}

/// The sources of the mixer an Update is checked against: a VP8 camera, an audio-only
/// source and an H.264 camera (the camids the seeds use).
fn current_sources() -> Vec<SourceSpec> {
    let video = |codec| {
        Some(crate::mixer::RtpStreamSpec {
            codec,
            payload_type: 96,
            ssrc: None,
        })
    };
    vec![
        SourceSpec {
            camid: "Usr1.-1".to_owned(),
            video: video(VideoCodec::Vp8),
            audio: None,
            transport: Default::default(),
        },
        SourceSpec {
            camid: "Usr2.-1".to_owned(),
            video: None,
            audio: Some(crate::mixer::RtpStreamSpec {
                codec: crate::mixer::AudioCodec::Opus,
                payload_type: 111,
                ssrc: Some(7),
            }),
            transport: Default::default(),
        },
        SourceSpec {
            camid: "Usr3.-1".to_owned(),
            video: video(VideoCodec::H264),
            audio: None,
            transport: Default::default(),
        },
    ]
}

/// A gRPC `UpdateCloudMixerContent` request body, decoded with `prost` and validated by
/// [`validate::update_request`] against a 1280x720 mixer with [`current_sources`]. An
/// accepted update leaves unique camids and a layout inside the canvas.
pub fn validate_update_request(data: &[u8]) -> bool {
    let Ok(req) = proto::UpdateCloudMixerContentRequest::decode(data) else {
        return false;
    };
    let sources = current_sources();
    let canvas = validate::Canvas {
        width: 1280,
        height: 720,
        background: Default::default(),
    };
    let current = validate::Current {
        canvas,
        sources: &sources,
    };
    let Ok(update) = validate::update_request(&req, current) else {
        return false;
    };
    check_sources(&validate::apply_sources(&sources, &update));
    if let Some(layout) = &update.layout {
        check_request_layout(layout, canvas.width, canvas.height);
    }
    true
}

fn check_sources(sources: &[SourceSpec]) {
    for (i, s) in sources.iter().enumerate() {
        assert!(!s.camid.is_empty(), "empty camid accepted");
        assert!(
            s.video.is_some() || s.audio.is_some(),
            "source without media"
        );
        assert!(
            sources[..i].iter().all(|t| t.camid != s.camid),
            "duplicate camid {:?} accepted",
            s.camid
        );
        let pts = [
            s.video.as_ref().map(|v| v.payload_type),
            s.audio.as_ref().map(|a| a.payload_type),
        ];
        assert!(
            pts.iter().flatten().all(|&pt| pt <= 127),
            "payload type > 127"
        );
    }
}

fn check_request_layout(layout: &Layout, w: u32, h: u32) {
    for Region {
        camid,
        top,
        left,
        width,
        height,
        ..
    } in &layout.regions
    {
        assert!(!camid.is_empty(), "region without camid");
        assert!(*width > 0 && *height > 0, "empty region accepted");
        assert!(
            u64::from(*left) + u64::from(*width) <= u64::from(w)
                && u64::from(*top) + u64::from(*height) <= u64::from(h),
            "region outside the {w}x{h} canvas accepted"
        );
    }
    check_layout(layout, w, h);
}

/// A datagram on an RTCP port (or RTCP multiplexed on the RTP port, RFC 5761) through
/// [`rtcp_in::sender_reports`] (the `rtcp` crate's compound-packet unmarshal). Each
/// sender report found is fed to [`ReceptionStats`] as the daemon does, and a receiver
/// report is built from it; the report's DLSR/LSR must come from that sender report.
/// Returns whether the datagram was valid RTCP.
pub fn rtcp_packet(data: &[u8]) -> bool {
    let Ok(reports) = rtcp_in::sender_reports(data) else {
        return false;
    };
    let now = Instant::now();
    let mut stats = ReceptionStats::new(1);
    stats.on_packet(70_000, 3000, 90_000);
    for sr in &reports {
        let _ = sr.ntp_micros();
        stats.on_sender_report(sr, now);
        let block = stats.report(now + Duration::from_millis(500));
        assert_eq!(block.last_sender_report, sr.lsr());
        assert_eq!(block.delay, 32_768, "DLSR of 0.5 s in 1/65536 s");
        let rr = rtcp_in::receiver_report(2, vec![block]);
        assert!(!rr.is_empty(), "receiver report did not encode");
    }
    // RTCP on the RTP port is told apart and refused by the RTP parser (RFC 5761 §4).
    if data.len() >= FIXED_HEADER_LEN && data[0] >> 6 == 2 && (200..=204).contains(&data[1]) {
        assert!(rtp_packet::parse(data).is_err(), "RTCP accepted as RTP");
    }
    true
}

/// Bearer token of the WHIP endpoint in [`whip_offer`] (the shape of the daemon's:
/// 32 hex digits).
pub const WHIP_TOKEN: &str = "0123456789abcdef0123456789abcdef";

/// A WHIP POST to an existing endpoint, as the daemon handles it before the offer
/// reaches a peer connection. Input: the `Content-Type` header value, a newline, the
/// `Authorization` header value, a newline, then the body (see [`encode_whip_post`]). A
/// missing line or a value hyper would refuse (control characters) is a missing header.
///
/// Runs [`whip::authorized`] with [`WHIP_TOKEN`], [`whip::offer_from_request`]
/// (content type, size, UTF-8) and the `webrtc` crate's SDP parse
/// ([`RTCSessionDescription::offer`], the `sdp` crate's unmarshal, the first thing
/// `set_remote_description` does). Checks: only the exact token authorizes (never a
/// different one); an accepted body is `application/sdp`, within
/// [`whip::MAX_OFFER_BYTES`] and returned unchanged.
///
/// Returns whether the offer got through our checks and parsed as SDP.
pub fn whip_offer(data: &[u8]) -> bool {
    let (content_type, rest) = split_line(data);
    let (authorization, body) = split_line(rest);
    let mut headers = HeaderMap::new();
    for (name, value) in [
        (header::CONTENT_TYPE, content_type),
        (header::AUTHORIZATION, authorization),
    ] {
        if let Some(v) = value.and_then(|v| HeaderValue::from_bytes(v).ok()) {
            headers.insert(name, v);
        }
    }
    let authorized = whip::authorized(WHIP_TOKEN, &headers);
    let auth = headers.get(header::AUTHORIZATION).map(|v| v.as_bytes());
    if authorized {
        let auth = auth.expect("authorized without a header");
        assert!(auth.starts_with(b"Bearer "), "authorized: {auth:?}");
        assert!(
            auth.windows(WHIP_TOKEN.len())
                .any(|w| w == WHIP_TOKEN.as_bytes()),
            "authorized without the token"
        );
    }
    assert!(
        !whip::authorized("ffffffffffffffffffffffffffffffff", &headers) || !authorized,
        "two tokens authorize the same request"
    );
    if !authorized {
        return false;
    }
    let offer = match whip::offer_from_request(&headers, body) {
        Ok(offer) => offer,
        Err(whip::OfferRejection::TooLarge) => {
            assert!(body.len() > whip::MAX_OFFER_BYTES);
            return false;
        }
        Err(_) => return false,
    };
    let ct = headers[header::CONTENT_TYPE].to_str().expect("checked");
    assert!(ct.trim().starts_with("application/sdp"), "accepted {ct:?}");
    assert!(
        body.len() <= whip::MAX_OFFER_BYTES,
        "oversized body accepted"
    );
    assert_eq!(offer.as_bytes(), body, "offer changed");
    RTCSessionDescription::offer(offer).is_ok()
}

/// The first line of `data` (without the `\n`) and the rest; no line if there is no
/// newline (then the rest is empty).
fn split_line(data: &[u8]) -> (Option<&[u8]>, &[u8]) {
    match data.iter().position(|&b| b == b'\n') {
        Some(i) => (Some(&data[..i]), &data[i + 1..]),
        None => (None, &[]),
    }
}

/// Input of [`whip_offer`]: a POST with these header values and body.
pub fn encode_whip_post(content_type: &str, authorization: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!("{content_type}\n{authorization}\n").into_bytes();
    out.extend_from_slice(body);
    out
}

/// Base URL a WHEP `Location` is resolved against in [`sdp_negotiate`].
pub const WHEP_URL: &str = "http://127.0.0.1:8889/whep/cam1";

/// Source specs of [`sdp_negotiate`], by bits 1..=2 of its mode byte: what the
/// peer connection offers/accepts.
fn negotiate_spec(mode: u8) -> SourceSpec {
    use crate::mixer::{AudioCodec, RtpStreamSpec};
    let video = |codec| {
        Some(RtpStreamSpec {
            codec,
            payload_type: 96,
            ssrc: None,
        })
    };
    let audio = Some(RtpStreamSpec {
        codec: AudioCodec::Opus,
        payload_type: 111,
        ssrc: None,
    });
    let (video, audio) = match (mode >> 1) & 3 {
        0 => (video(VideoCodec::Vp8), audio),
        1 => (video(VideoCodec::H264), audio),
        2 => (video(VideoCodec::Vp8), None),
        _ => (None, audio),
    };
    SourceSpec {
        camid: "fuzz".to_owned(),
        video,
        audio,
        transport: Default::default(),
    }
}

/// Runtime of [`sdp_negotiate`], made once: the `webrtc` crate is async.
fn negotiate_runtime() -> &'static tokio::runtime::Runtime {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio runtime")
    })
}

/// The daemon's peer-connection settings without any network: no mDNS, no interface
/// to gather candidates on (and no STUN/TURN servers), so no socket is opened.
fn offline_api(spec: &SourceSpec) -> webrtc::api::API {
    let mut se = rtc::setting_engine(rtc::RtcSettings::default());
    se.set_ice_multicast_dns_mode(webrtc::ice::mdns::MulticastDnsMode::Disabled);
    se.set_interface_filter(Box::new(|_| false));
    se.set_ip_filter(Box::new(|_| false));
    rtc::build_api(spec, se).expect("API for the fixed specs")
}

/// A peer connection configuration with one DTLS certificate made once (a new
/// connection would otherwise generate an ECDSA key each time).
fn offline_config() -> RTCConfiguration {
    static CERT: OnceLock<RTCCertificate> = OnceLock::new();
    let cert = CERT.get_or_init(|| {
        let dtls = webrtc::dtls::crypto::Certificate::generate_self_signed(vec![
            "cloudmixer-fuzz".to_owned()
        ])
        .expect("self-signed certificate");
        let expires = std::time::SystemTime::now() + Duration::from_secs(365 * 24 * 3600);
        RTCCertificate::from_existing(dtls, expires)
    });
    RTCConfiguration {
        certificates: vec![cert.clone()],
        ..Default::default()
    }
}

/// Remote SDP through a real `webrtc` peer connection built like the daemon's
/// (same codecs and interceptors, [`rtc::setting_engine`]) but offline (no mDNS, no
/// interface to gather on: no socket is opened). Byte 0 is the mode: bit 0 clear:
/// WHIP, the rest is a publisher's offer, answered by [`whip::apply_offer`] on a
/// connection with the spec's receivers, as [`whip`] does; bit 0 set: WHEP, the rest
/// is a `Location` header value, a newline and the server's answer (bytes as received:
/// converted lossily like the client does), resolved by [`http::resolve`] against
/// [`WHEP_URL`] and applied by [`whep::apply_answer`] after [`whep::set_offer`]. Bits
/// 1..=2: the source's codecs (VP8+Opus, H.264+Opus, VP8, Opus).
///
/// What runs is everything the daemon does with the SDP before ICE connects: the `sdp`
/// crate's parse, the signalling state machine, codec matching
/// (`update_from_remote_description`), transceiver/mid matching, ICE credentials and
/// candidates, DTLS fingerprint and role, and for WHIP the answer's generation.
/// Checks: an accepted offer gets an answer that parses as SDP with one media section
/// per offered one (RFC 3264 §6); a resolved `Location` is an absolute URL.
///
/// Returns whether the remote description was accepted.
pub fn sdp_negotiate(data: &[u8]) -> bool {
    let Some((&mode, rest)) = data.split_first() else {
        return false;
    };
    let spec = negotiate_spec(mode);
    if mode & 1 == 0 {
        // The daemon refuses a body that is not UTF-8 before any SDP parsing.
        let Ok(offer) = std::str::from_utf8(rest) else {
            return false;
        };
        negotiate_runtime().block_on(whip_negotiate(&spec, offer.to_owned()))
    } else {
        let (location, body) = match split_line(rest) {
            (Some(l), b) => (Some(l), b),
            (None, _) => (None, rest),
        };
        // The client only reads a `Location` hyper accepted and that is visible ASCII.
        if let Some(l) = location
            .and_then(|l| HeaderValue::from_bytes(l).ok())
            .and_then(|v| v.to_str().ok().map(str::to_owned))
        {
            let base: Uri = WHEP_URL.parse().expect("valid URL");
            let url = http::resolve(&base, &l);
            assert!(url.contains("://"), "{l:?} resolved to {url:?}");
        }
        let answer = String::from_utf8_lossy(body).into_owned();
        negotiate_runtime().block_on(whep_negotiate(&spec, answer))
    }
}

async fn whip_negotiate(spec: &SourceSpec, offer: String) -> bool {
    let pc = offline_api(spec)
        .new_peer_connection(offline_config())
        .await
        .expect("peer connection");
    rtc::add_receivers(&pc, spec).await.expect("receivers");
    let accepted = whip::apply_offer(&pc, offer.clone()).await.is_ok();
    if accepted {
        let answer = pc
            .local_description()
            .await
            .expect("answer set as the local description");
        let answer = RTCSessionDescription::answer(answer.sdp).expect("our answer parses");
        let parsed_answer = answer.unmarshal().expect("our answer parses");
        let parsed_offer = RTCSessionDescription::offer(offer)
            .and_then(|o| o.unmarshal())
            .expect("an accepted offer parses");
        assert_eq!(
            parsed_answer.media_descriptions.len(),
            parsed_offer.media_descriptions.len(),
            "answer and offer differ in media sections"
        );
    }
    let _ = pc.close().await;
    accepted
}

async fn whep_negotiate(spec: &SourceSpec, answer: String) -> bool {
    let pc = offline_api(spec)
        .new_peer_connection(offline_config())
        .await
        .expect("peer connection");
    whep::set_offer(&pc, spec).await.expect("our own offer");
    let accepted = whep::apply_answer(&pc, answer).await.is_ok();
    if accepted {
        assert!(pc.remote_description().await.is_some());
    }
    let _ = pc.close().await;
    accepted
}
