//! Real RTP captures (tests/data/*.rtpdump, made by scripts/record-rtp-capture.sh) run
//! through the jitter buffer and the frame assembler; the access units are checked by
//! content and decoded by ffmpeg, which proves the depacketization is right.
//!
//! Video captures: 320x240, 15 fps, 30 frames, a key frame every 10 frames.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::{Duration, Instant};

use cloudmixer::ingest::depacketize::{AccessUnit, FrameAssembler, PayloadFormat};
use cloudmixer::ingest::jitter::{JitterBuffer, PushOutcome};
use cloudmixer::ingest::rtp_packet;
use ffmpeg_next as ff;
use rtp::packet::Packet;

const WIDTH: u32 = 320;
const HEIGHT: u32 = 240;
const FRAMES: usize = 30;
const GOP: usize = 10;
/// Jitter buffer wait for gaps; the captures come over loopback, any value works.
const MAX_WAIT: Duration = Duration::from_millis(100);
const CAPACITY: usize = 256;

/// One packet of an rtptools rtpdump file: arrival offset in ms and the datagram.
struct Record {
    offset_ms: u32,
    data: Vec<u8>,
}

/// Reads an rtpdump file: "#!rtpplay1.0 addr/port\n", a 16-byte RD_hdr_t, then
/// RD_packet_t {u16 length, u16 plen, u32 offset_ms} + packet (big-endian).
fn read_rtpdump(name: &str) -> Vec<Record> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(
        bytes.starts_with(b"#!rtpplay1.0 "),
        "{name}: not an rtpdump file"
    );
    let line_end = bytes.iter().position(|&b| b == b'\n').expect("header line") + 1;
    let mut i = line_end + 16;
    let mut records = Vec::new();
    while i + 8 <= bytes.len() {
        let length = usize::from(u16::from_be_bytes([bytes[i], bytes[i + 1]]));
        let plen = usize::from(u16::from_be_bytes([bytes[i + 2], bytes[i + 3]]));
        let offset_ms =
            u32::from_be_bytes([bytes[i + 4], bytes[i + 5], bytes[i + 6], bytes[i + 7]]);
        assert!(
            length >= 8 && i + length <= bytes.len(),
            "{name}: bad record"
        );
        if plen > 0 {
            records.push(Record {
                offset_ms,
                data: bytes[i + 8..i + 8 + plen].to_vec(),
            });
        }
        i += length;
    }
    assert_eq!(i, bytes.len(), "{name}: trailing bytes");
    records
}

fn parse_all(records: &[Record]) -> Vec<(u32, Packet)> {
    records
        .iter()
        .map(|r| {
            (
                r.offset_ms,
                rtp_packet::parse(&r.data).expect("capture packet parses"),
            )
        })
        .collect()
}

/// What a run through jitter buffer + assembler produced.
struct Run {
    aus: Vec<AccessUnit>,
    /// needs_keyframe after each packet, by RTP timestamp of that packet.
    needs_keyframe_after: Vec<(u32, bool)>,
}

/// Feeds packets (arrival offset in ms, packet) in the given order on a virtual clock.
fn run(format: PayloadFormat, packets: Vec<(u32, Packet)>) -> Run {
    let base = Instant::now();
    let mut jb = JitterBuffer::new(MAX_WAIT, CAPACITY);
    let mut asm = FrameAssembler::new(format);
    let mut out = Run {
        aus: Vec::new(),
        needs_keyframe_after: Vec::new(),
    };
    let mut drain = |jb: &mut JitterBuffer, now: Instant, out: &mut Run| {
        while let Some(r) = jb.pop(now) {
            let ts = r.packet.header.timestamp;
            if let Some(au) = asm.push(&r.packet, !r.contiguous()).expect("valid payload") {
                out.aus.push(au);
            }
            out.needs_keyframe_after.push((ts, asm.needs_keyframe()));
        }
    };
    for (offset_ms, packet) in packets {
        let now = base + Duration::from_millis(u64::from(offset_ms));
        let outcome = jb.push(packet, now);
        assert!(matches!(outcome, PushOutcome::Queued), "{outcome:?}");
        drain(&mut jb, now, &mut out);
    }
    drain(&mut jb, base + Duration::from_secs(3600), &mut out);
    assert!(jb.is_empty());
    out
}

fn distinct_timestamps(packets: &[(u32, Packet)]) -> Vec<u32> {
    let mut seen = BTreeSet::new();
    packets
        .iter()
        .map(|(_, p)| p.header.timestamp)
        .filter(|ts| seen.insert(*ts))
        .collect()
}

/// NAL unit types of an Annex B access unit (4-byte start codes, as assembled).
fn nal_types(au: &[u8]) -> Vec<u8> {
    let mut types = Vec::new();
    let mut i = 0;
    while i + 4 < au.len() {
        if au[i..i + 4] == [0, 0, 0, 1] {
            types.push(au[i + 4] & 0x1F);
            i += 4;
        } else {
            i += 1;
        }
    }
    types
}

/// Decodes every AU; returns (width, height) per decoded picture, or samples per
/// Opus packet. Bitstream errors fail (AV_EF_EXPLODE).
fn decode_all(format: PayloadFormat, aus: &[AccessUnit]) -> Vec<(u32, u32)> {
    ff::init().expect("ffmpeg init");
    let id = match format {
        PayloadFormat::Vp8 => ff::codec::Id::VP8,
        PayloadFormat::H264 => ff::codec::Id::H264,
        PayloadFormat::Opus => ff::codec::Id::OPUS,
    };
    let codec = ff::codec::decoder::find(id).expect("decoder present");
    let mut ctx = ff::codec::Context::new_with_codec(codec);
    ctx.set_threading(ff::codec::threading::Config::count(1));
    ctx.set_flags(ff::codec::Flags::LOW_DELAY);
    // SAFETY: `ctx` owns a valid, not yet opened AVCodecContext; setting an int field
    // before avcodec_open2 is how ffmpeg expects error detection to be configured.
    unsafe {
        (*ctx.as_mut_ptr()).err_recognition = ff::ffi::AV_EF_EXPLODE;
    }
    let mut out = Vec::new();
    if format == PayloadFormat::Opus {
        let mut dec = ctx.decoder().audio().expect("open opus decoder");
        let mut frame = ff::frame::Audio::empty();
        for au in aus {
            dec.send_packet(&ff::Packet::copy(&au.data))
                .expect("opus packet decodes");
            while dec.receive_frame(&mut frame).is_ok() {
                out.push((frame.samples() as u32, frame.rate()));
            }
        }
        return out;
    }
    let mut dec = ctx.decoder().video().expect("open video decoder");
    let mut frame = ff::frame::Video::empty();
    for (n, au) in aus.iter().enumerate() {
        dec.send_packet(&ff::Packet::copy(&au.data))
            .unwrap_or_else(|e| panic!("AU {n} does not decode: {e}"));
        while dec.receive_frame(&mut frame).is_ok() {
            out.push((frame.width(), frame.height()));
        }
    }
    dec.send_eof().expect("eof");
    while dec.receive_frame(&mut frame).is_ok() {
        out.push((frame.width(), frame.height()));
    }
    out
}

/// The common checks of a full video capture.
fn check_video(name: &str, format: PayloadFormat) -> Vec<AccessUnit> {
    let packets = parse_all(&read_rtpdump(name));
    let timestamps = distinct_timestamps(&packets);
    assert_eq!(
        timestamps.len(),
        FRAMES,
        "{name}: capture has {FRAMES} frames"
    );
    let run = run(format, packets);
    let aus = run.aus;
    assert_eq!(
        aus.len(),
        timestamps.len(),
        "{name}: one AU per RTP timestamp"
    );
    let au_ts: Vec<u32> = aus.iter().map(|a| a.rtp_timestamp).collect();
    assert_eq!(au_ts, timestamps, "{name}: AUs in timestamp order");
    let keys: Vec<usize> = (0..aus.len()).filter(|&i| aus[i].keyframe).collect();
    assert_eq!(
        keys,
        vec![0, GOP, 2 * GOP],
        "{name}: a key frame every {GOP} frames"
    );
    let pictures = decode_all(format, &aus);
    assert_eq!(
        pictures.len(),
        aus.len(),
        "{name}: every AU decodes to a picture"
    );
    assert!(
        pictures.iter().all(|&p| p == (WIDTH, HEIGHT)),
        "{name}: pictures are {WIDTH}x{HEIGHT}: {pictures:?}"
    );
    aus
}

fn check_h264(name: &str) {
    let aus = check_video(name, PayloadFormat::H264);
    for (n, au) in aus.iter().enumerate() {
        assert_eq!(
            &au.data[..4],
            &[0, 0, 0, 1],
            "{name}: AU {n} starts with a start code"
        );
        let types = nal_types(&au.data);
        if au.keyframe {
            for t in [7, 8, 5] {
                assert!(
                    types.contains(&t),
                    "{name}: key AU {n} lacks NAL type {t}: {types:?}"
                );
            }
        } else {
            assert!(!types.contains(&5), "{name}: delta AU {n} has an IDR");
            assert!(
                types.contains(&1),
                "{name}: delta AU {n} has no slice: {types:?}"
            );
        }
    }
}

fn check_vp8(name: &str) {
    let aus = check_video(name, PayloadFormat::Vp8);
    for (n, au) in aus.iter().enumerate() {
        let d = &au.data;
        // RFC 6386 §9.1: frame tag bit 0 is 0 for key frames, which carry the start
        // code 9d 01 2a and the 14-bit width and height.
        assert_eq!(d[0] & 1 == 0, au.keyframe, "{name}: AU {n} frame tag");
        if au.keyframe {
            assert_eq!(&d[3..6], &[0x9D, 0x01, 0x2A], "{name}: AU {n} start code");
            let w = u16::from_le_bytes([d[6], d[7]]) & 0x3FFF;
            let h = u16::from_le_bytes([d[8], d[9]]) & 0x3FFF;
            assert_eq!((u32::from(w), u32::from(h)), (WIDTH, HEIGHT));
        }
    }
}

#[test]
fn ffmpeg_vp8_capture() {
    check_vp8("ffmpeg_vp8.rtpdump");
}

#[test]
fn gstreamer_vp8_capture() {
    check_vp8("gst_vp8.rtpdump");
}

#[test]
fn ffmpeg_h264_capture_single_nal_stap_a_fu_a() {
    check_h264("ffmpeg_h264.rtpdump");
}

#[test]
fn gstreamer_h264_capture_stap_a() {
    // The capture must really exercise STAP-A (RTP payload type octet & 0x1F == 24).
    let packets = parse_all(&read_rtpdump("gst_h264_stapa.rtpdump"));
    assert!(packets.iter().any(|(_, p)| p.payload[0] & 0x1F == 24));
    check_h264("gst_h264_stapa.rtpdump");
}

#[test]
fn ffmpeg_opus_capture() {
    let packets = parse_all(&read_rtpdump("ffmpeg_opus.rtpdump"));
    let timestamps = distinct_timestamps(&packets);
    let aus = run(PayloadFormat::Opus, packets.clone()).aus;
    assert_eq!(aus.len(), packets.len(), "one AU per Opus packet");
    assert_eq!(aus.len(), timestamps.len());
    assert!(aus.len() >= 50, "1 s of 20 ms packets");
    for pair in aus.windows(2) {
        // 20 ms at 48 kHz.
        assert_eq!(
            pair[1].rtp_timestamp.wrapping_sub(pair[0].rtp_timestamp),
            960
        );
    }
    assert!(aus.iter().all(|a| a.keyframe));
    let decoded = decode_all(PayloadFormat::Opus, &aus);
    assert_eq!(decoded.len(), aus.len());
    assert!(decoded
        .iter()
        .all(|&(samples, rate)| samples == 960 && rate == 48_000));
}

/// Swapping neighbouring packets (arriving out of order) gives the same AUs.
#[test]
fn reordered_capture_gives_identical_access_units() {
    for (name, format) in [
        ("ffmpeg_h264.rtpdump", PayloadFormat::H264),
        ("ffmpeg_vp8.rtpdump", PayloadFormat::Vp8),
    ] {
        let packets = parse_all(&read_rtpdump(name));
        let in_order = run(format, packets.clone()).aus;
        let mut shuffled = packets;
        // From the second packet on: the very first packet is released at once, so a
        // packet reordered before it would be late.
        for i in (1..shuffled.len() - 1).step_by(3) {
            shuffled.swap(i, i + 1);
            let t = shuffled[i + 1].0;
            shuffled[i].0 = t; // both arrive at the later packet's time
        }
        assert_eq!(run(format, shuffled).aus, in_order, "{name}");
    }
}

/// Drops one packet in the middle of a delta frame of the second GOP: that frame is
/// discarded, needs_keyframe becomes true, the rest of the GOP is discarded, and the
/// next key frame clears it; everything emitted still decodes.
#[test]
fn packet_loss_discards_frame_until_next_keyframe() {
    for (name, format) in [
        ("ffmpeg_h264.rtpdump", PayloadFormat::H264),
        ("ffmpeg_vp8.rtpdump", PayloadFormat::Vp8),
        ("gst_h264_stapa.rtpdump", PayloadFormat::H264),
    ] {
        let packets = parse_all(&read_rtpdump(name));
        let timestamps = distinct_timestamps(&packets);
        // The first frame after frame GOP+1 that spans 3+ packets; drop its second one.
        let (victim_frame, victim_ts) = timestamps
            .iter()
            .enumerate()
            .skip(GOP + 1)
            .find(|(_, ts)| {
                packets
                    .iter()
                    .filter(|(_, p)| p.header.timestamp == **ts)
                    .count()
                    >= 3
            })
            .map(|(i, ts)| (i, *ts))
            .unwrap_or_else(|| panic!("{name}: no multi-packet delta frame"));
        assert!(
            victim_frame < 2 * GOP,
            "{name}: victim must be in the second GOP"
        );
        let drop_at = packets
            .iter()
            .position(|(_, p)| p.header.timestamp == victim_ts)
            .expect("victim frame present")
            + 1;
        let mut lossy = packets.clone();
        lossy.remove(drop_at);
        let result = run(format, lossy);

        let emitted: Vec<u32> = result.aus.iter().map(|a| a.rtp_timestamp).collect();
        let expected: Vec<u32> = timestamps
            .iter()
            .enumerate()
            .filter(|(i, _)| !(victim_frame..2 * GOP).contains(i))
            .map(|(_, ts)| *ts)
            .collect();
        assert_eq!(
            emitted,
            expected,
            "{name}: frames {victim_frame}..{} discarded",
            2 * GOP
        );
        assert!(result.aus.iter().all(|a| a.rtp_timestamp != victim_ts));

        let needs = |ts: u32| {
            result
                .needs_keyframe_after
                .iter()
                .filter(|(t, _)| *t == ts)
                .map(|(_, n)| *n)
                .collect::<Vec<_>>()
        };
        assert!(
            needs(timestamps[victim_frame - 1]).iter().all(|n| !n),
            "{name}"
        );
        // The packet before the hole leaves it false; the one after the hole sets it.
        assert_eq!(needs(victim_ts).first(), Some(&false), "{name}");
        assert_eq!(
            needs(victim_ts).last(),
            Some(&true),
            "{name}: set by the loss"
        );
        assert!(
            needs(timestamps[2 * GOP - 1]).iter().all(|n| *n),
            "{name}: still waiting"
        );
        assert_eq!(
            needs(timestamps[2 * GOP]).last(),
            Some(&false),
            "{name}: key frame clears"
        );

        let pictures = decode_all(format, &result.aus);
        assert_eq!(
            pictures.len(),
            result.aus.len(),
            "{name}: all emitted AUs decode"
        );
    }
}
