//! Unit tests of `depacketize`.

use super::*;
use rand::{rngs::StdRng, Rng, SeedableRng};
use rtp::codecs::h264::H264Payloader;
use rtp::codecs::vp8::Vp8Payloader;
use rtp::packetizer::Payloader;

const MTU: usize = 500;

fn packet(seq: u16, ts: u32, marker: bool, payload: Bytes) -> Packet {
    let mut p = Packet::default();
    p.header.version = 2;
    p.header.sequence_number = seq;
    p.header.timestamp = ts;
    p.header.marker = marker;
    p.payload = payload;
    p
}

/// Payloads of one frame as RTP packets, the marker on the last.
fn packets(payloads: Vec<Bytes>, ts: u32) -> Vec<Packet> {
    let n = payloads.len();
    payloads
        .into_iter()
        .enumerate()
        .map(|(i, p)| packet(i as u16, ts, i + 1 == n, p))
        .collect()
}

/// Bytes without zeros (so no accidental start codes), `len` long, first byte `first`.
fn body(first: u8, len: usize) -> Vec<u8> {
    let mut v: Vec<u8> = (0..len).map(|i| (i % 251) as u8 + 1).collect();
    v[0] = first;
    v
}

#[derive(Clone, Copy)]
enum Kind {
    Key,
    Delta,
}

/// (kind, index of a packet lost inside the frame) -> (emitted keyframe flag or
/// None if discarded, needs_keyframe afterwards)
type Row = ((Kind, Option<usize>), (Option<bool>, bool));

fn loss_table() -> Vec<Row> {
    use Kind::{Delta, Key};
    vec![
        ((Delta, None), (None, true)), // no key frame yet
        ((Key, None), (Some(true), false)),
        ((Delta, None), (Some(false), false)),
        ((Key, Some(2)), (None, true)),   // loss inside a frame
        ((Delta, None), (None, true)),    // waiting for a key frame
        ((Delta, Some(0)), (None, true)), // first packet lost
        ((Key, None), (Some(true), false)),
        ((Delta, Some(3)), (None, true)),
        ((Key, Some(0)), (None, true)),
        ((Key, None), (Some(true), false)),
    ]
}

fn run_table(format: PayloadFormat, frame: impl Fn(Kind) -> (Vec<u8>, Vec<Bytes>)) {
    let mut asm = FrameAssembler::new(format);
    assert!(asm.needs_keyframe());
    for (n, ((kind, lose), (expect_key, expect_needs))) in loss_table().into_iter().enumerate() {
        let ts = n as u32 * 3000;
        let (expected, payloads) = frame(kind);
        assert!(payloads.len() > 4, "frames must span several packets");
        let mut out = Vec::new();
        let mut lost = false;
        for (i, p) in packets(payloads, ts).iter().enumerate() {
            if Some(i) == lose {
                lost = true;
                continue;
            }
            if let Some(au) = asm.push(p, std::mem::take(&mut lost)).unwrap() {
                out.push(au);
            }
        }
        assert!(out.len() <= 1, "frame {n}");
        let au = out.pop();
        assert_eq!(au.as_ref().map(|a| a.keyframe), expect_key, "frame {n}");
        if let Some(au) = au {
            assert_eq!(&au.data[..], &expected[..], "frame {n}");
            assert_eq!(au.rtp_timestamp, ts);
        }
        assert_eq!(asm.needs_keyframe(), expect_needs, "frame {n}");
    }
}

#[test]
fn vp8_frames_and_loss() {
    run_table(PayloadFormat::Vp8, |kind| {
        // Frame tag P bit (lowest bit of byte 0): 0 = key frame.
        let data = body(
            if matches!(kind, Kind::Key) {
                0x50
            } else {
                0x51
            },
            2200,
        );
        let mut payloader = Vp8Payloader::default();
        payloader.enable_picture_id = true;
        let payloads = payloader.payload(MTU, &Bytes::from(data.clone())).unwrap();
        (data, payloads)
    });
}

#[test]
fn h264_frames_and_loss() {
    let sps = body(0x67, 12);
    let pps = body(0x68, 5);
    run_table(PayloadFormat::H264, |kind| {
        let nals: Vec<Vec<u8>> = match kind {
            Kind::Key => vec![sps.clone(), pps.clone(), body(0x65, 2300)],
            // Two slices: first_mb_in_slice = 0 (bit 1), then a later one (bit 0).
            Kind::Delta => {
                let (mut first, mut second) = (body(0x41, 1200), body(0x41, 900));
                first[1] = 0x9A;
                second[1] = 0x40;
                vec![first, second]
            }
        };
        let mut annexb = Vec::new();
        for nal in &nals {
            annexb.extend_from_slice(&[0, 0, 0, 1]);
            annexb.extend_from_slice(nal);
        }
        let mut payloads = Vec::new();
        let mut payloader = H264Payloader::default();
        for nal in nals {
            let mut with_code = vec![0, 0, 0, 1];
            with_code.extend_from_slice(&nal);
            payloads.extend(payloader.payload(MTU, &Bytes::from(with_code)).unwrap());
        }
        (annexb, payloads)
    });
}

#[test]
fn h264_second_delta_slice_does_not_start_a_frame() {
    let mut second = body(0x41, 10);
    second[1] = 0x40; // first_mb_in_slice != 0
    assert!(!h264_frame_start(&second));
    let mut first = body(0x41, 10);
    first[1] = 0x9A;
    assert!(h264_frame_start(&first));
    assert!(h264_frame_start(&[0x78, 0, 2, 0x67, 1]));
    assert!(h264_frame_start(&[0x7C, 0x85, 0x88]));
    assert!(!h264_frame_start(&[0x7C, 0x05, 0x88]));
}

#[test]
fn h264_stap_a_single_packet_frame() {
    let mut asm = FrameAssembler::new(PayloadFormat::H264);
    let stap = Bytes::from_static(&[0x18, 0, 3, 0x67, 1, 2, 0, 2, 0x68, 3, 0, 3, 0x65, 0x88, 4]);
    let au = asm
        .push(&packet(1, 90, true, stap), false)
        .unwrap()
        .unwrap();
    assert!(au.keyframe);
    assert_eq!(
        &au.data[..],
        &[0, 0, 0, 1, 0x67, 1, 2, 0, 0, 0, 1, 0x68, 3, 0, 0, 0, 1, 0x65, 0x88, 4]
    );
    assert!(!asm.needs_keyframe());
}

#[test]
fn malformed_payloads_are_errors() {
    type Check = fn(&DepacketizeError) -> bool;
    let cases: Vec<(PayloadFormat, &'static [u8], Check)> = vec![
        (PayloadFormat::H264, &[], |e| {
            matches!(e, DepacketizeError::Empty)
        }),
        (PayloadFormat::H264, &[0x18, 0x00], |e| {
            matches!(e, DepacketizeError::BadStapA)
        }),
        (PayloadFormat::H264, &[0x18, 0x00, 0x05, 0x67], |e| {
            matches!(e, DepacketizeError::BadStapA)
        }),
        (PayloadFormat::H264, &[0x18, 0x00, 0x00], |e| {
            matches!(e, DepacketizeError::BadStapA)
        }),
        (PayloadFormat::H264, &[0x19, 1, 2, 3], |e| {
            matches!(e, DepacketizeError::UnsupportedNalType(25))
        }),
        (PayloadFormat::H264, &[0x7C, 0x45, 1, 2], |e| {
            matches!(e, DepacketizeError::FragmentWithoutStart)
        }),
        (PayloadFormat::H264, &[0x7C, 0x85], |e| {
            matches!(e, DepacketizeError::Codec { .. })
        }),
        (PayloadFormat::Vp8, &[0x90, 0x80, 1], |e| {
            matches!(e, DepacketizeError::Vp8Truncated(3))
        }),
        (PayloadFormat::Vp8, &[0x10], |e| {
            matches!(e, DepacketizeError::Vp8Truncated(1))
        }),
        (PayloadFormat::Vp8, &[0x90, 0x80, 0x81, 0x01], |e| {
            matches!(e, DepacketizeError::Codec { .. })
        }),
        (PayloadFormat::Opus, &[], |e| {
            matches!(e, DepacketizeError::Empty)
        }),
    ];
    for (i, (format, payload, check)) in cases.into_iter().enumerate() {
        let mut asm = FrameAssembler::new(format);
        // Open a frame first: packets of a frame already being discarded are skipped.
        let start: &'static [u8] = match format {
            PayloadFormat::H264 => &[0x67, 1, 2],
            PayloadFormat::Vp8 => &[0x10, 0x50, 1, 2],
            PayloadFormat::Opus => &[0xFC],
        };
        let _ = asm.push(&packet(0, 0, false, Bytes::from_static(start)), false);
        let err = asm
            .push(&packet(1, 0, true, Bytes::from_static(payload)), false)
            .expect_err(&format!("case {i}"));
        assert!(check(&err), "case {i}: {err:?}");
    }
}

#[test]
fn short_vp8_last_fragment_is_accepted() {
    let mut asm = FrameAssembler::new(PayloadFormat::Vp8);
    let first = packet(1, 0, false, Bytes::from_static(&[0x10, 0x50, 1, 2, 3]));
    let last = packet(2, 0, true, Bytes::from_static(&[0x00, 9]));
    assert!(asm.push(&first, false).unwrap().is_none());
    let au = asm.push(&last, false).unwrap().unwrap();
    assert_eq!(&au.data[..], &[0x50, 1, 2, 3, 9]);
    assert!(au.keyframe);
}

#[test]
fn timestamp_change_without_marker_discards_frame() {
    let mut asm = FrameAssembler::new(PayloadFormat::Vp8);
    let key = |ts, marker| packet(0, ts, marker, Bytes::from_static(&[0x10, 0x50, 1, 2]));
    assert!(asm.push(&key(0, true), false).unwrap().is_some());
    assert!(asm.push(&key(3000, false), false).unwrap().is_none()); // marker never comes
    assert!(asm.push(&key(6000, true), false).unwrap().is_some());
    assert_eq!(asm.stats().discarded_broken, 1);
    assert_eq!(asm.stats().emitted, 2);
}

#[test]
fn opus_packets_are_access_units() {
    let mut asm = FrameAssembler::new(PayloadFormat::Opus);
    assert!(!asm.needs_keyframe());
    for (i, lost) in [false, true, false].into_iter().enumerate() {
        let p = packet(
            i as u16,
            i as u32 * 960,
            false,
            Bytes::from_static(&[0xFC, 1, 2]),
        );
        let au = asm.push(&p, lost).unwrap().unwrap();
        assert_eq!(au.rtp_timestamp, i as u32 * 960);
        assert!(au.keyframe);
        assert_eq!(&au.data[..], &[0xFC, 1, 2]);
        assert!(!asm.needs_keyframe());
    }
}

#[test]
fn never_panics_on_random_payloads() {
    let mut rng = StdRng::seed_from_u64(0xDE9A);
    for format in [PayloadFormat::Vp8, PayloadFormat::H264, PayloadFormat::Opus] {
        let mut asm = FrameAssembler::new(format);
        for i in 0..100_000u32 {
            let len = rng.gen_range(0..24);
            let mut payload: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            if len > 0 && format == PayloadFormat::H264 && rng.gen_bool(0.6) {
                payload[0] = (payload[0] & 0xE0) | [24, 28, 5, 7][rng.gen_range(0..4)];
            }
            let p = packet(
                i as u16,
                (i / 4) * 3000,
                rng.gen_bool(0.3),
                Bytes::from(payload),
            );
            if let Ok(Some(au)) = asm.push(&p, rng.gen_bool(0.05)) {
                assert!(!au.data.is_empty());
                assert!(au.data.len() <= MAX_ACCESS_UNIT_BYTES);
            }
        }
    }
}
