//! RTP packet parsing glue around the `rtp` crate (webrtc-rs).
//!
//! [`parse`] checks a datagram received on an RTP port before handing it to
//! `rtp::packet::Packet`'s `Unmarshal`:
//!
//! - RFC 3550 §5.1 fixed header: version must be 2, the CSRC list must fit.
//! - RFC 5761 §4: RTP and RTCP multiplexed on one port are told apart by the second
//!   octet; a payload type of 72..=76 after masking the marker bit is RTCP (packet
//!   types 200..=204) and is rejected with [`ParseError::Rtcp`] so the caller can route it.
//! - RFC 3550 §5.3.1 / RFC 8285 §4.2 (one-byte) and §4.3 (two-byte) header extensions:
//!   every element must lie inside the extension block. The element walk is done here
//!   first because the crate's own walk indexes past the block on malformed input
//!   (which would panic), and it keeps unread bytes after an ID-15 element in the
//!   payload; the payload is therefore sliced here from the validated offsets.
//! - RFC 3550 §5.1 padding: the count in the last octet must be 1..=the bytes after the
//!   header.
//!
//! Nothing here panics on any input (see the randomized test).

use bytes::Bytes;
use rtp::packet::Packet;
use webrtc_util::marshal::Unmarshal;

/// Length of the fixed RTP header in bytes (RFC 3550 §5.1).
pub const FIXED_HEADER_LEN: usize = 12;
/// RFC 8285 §4.2 one-byte header extension profile.
const PROFILE_ONE_BYTE: u16 = 0xBEDE;
/// RFC 8285 §4.3 two-byte header extension profile (the low 4 "appbits" must be 0 for
/// the `rtp` crate to recognise it; other values are kept as one opaque extension).
const PROFILE_TWO_BYTE: u16 = 0x1000;

/// Why a datagram is not an acceptable RTP packet.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// Shorter than the fixed header plus CSRC list (lengths in bytes).
    #[error("RTP packet too short: {len} bytes, header needs {needed}")]
    TooShort { len: usize, needed: usize },
    /// The version field is not 2.
    #[error("RTP version {0}, expected 2")]
    BadVersion(u8),
    /// An RTCP packet (RFC 5761 §4: packet type 200..=204) on the RTP port.
    #[error("RTCP packet type {packet_type} received on the RTP port")]
    Rtcp { packet_type: u8 },
    /// The header extension block or one of its elements overruns its declared length.
    #[error("malformed RTP header extension: {0}")]
    BadExtension(&'static str),
    /// The padding count is 0 or larger than the bytes after the header.
    #[error("bad RTP padding count {count} with {available} bytes after the header")]
    BadPadding { count: u8, available: usize },
    /// The `rtp` crate refused the packet after our checks passed.
    #[error("RTP unmarshal failed: {0}")]
    Unmarshal(String),
}

/// Parses one datagram received on an RTP port. Copies `buf` once; see [`parse_bytes`]
/// for the zero-copy variant.
pub fn parse(buf: &[u8]) -> Result<Packet, ParseError> {
    parse_bytes(Bytes::copy_from_slice(buf))
}

/// Parses one datagram; the returned packet's payload (without padding) is a slice
/// of `buf`.
pub fn parse_bytes(buf: Bytes) -> Result<Packet, ParseError> {
    let (start, end) = payload_range(&buf)?;
    let mut reader = buf.clone();
    let mut packet =
        Packet::unmarshal(&mut reader).map_err(|e| ParseError::Unmarshal(e.to_string()))?;
    packet.payload = buf.slice(start..end);
    Ok(packet)
}

/// Validates the header and returns the payload's byte range `start..end`.
fn payload_range(buf: &[u8]) -> Result<(usize, usize), ParseError> {
    let len = buf.len();
    if len < FIXED_HEADER_LEN {
        return Err(ParseError::TooShort {
            len,
            needed: FIXED_HEADER_LEN,
        });
    }
    let version = buf[0] >> 6;
    if version != 2 {
        return Err(ParseError::BadVersion(version));
    }
    if (72..=76).contains(&(buf[1] & 0x7F)) {
        return Err(ParseError::Rtcp {
            packet_type: buf[1],
        });
    }
    let csrc_count = usize::from(buf[0] & 0x0F);
    let mut offset = FIXED_HEADER_LEN + 4 * csrc_count;
    if len < offset {
        return Err(ParseError::TooShort {
            len,
            needed: offset,
        });
    }
    if buf[0] & 0x10 != 0 {
        offset = extension_end(buf, offset)?;
    }
    let mut end = len;
    if buf[0] & 0x20 != 0 {
        let available = len - offset;
        let count = buf[len - 1];
        if count == 0 || usize::from(count) > available {
            return Err(ParseError::BadPadding { count, available });
        }
        end = len - usize::from(count);
    }
    Ok((offset, end))
}

/// Checks the header extension starting at `offset` and returns the offset after it.
fn extension_end(buf: &[u8], offset: usize) -> Result<usize, ParseError> {
    let header = buf
        .get(offset..offset + 4)
        .ok_or(ParseError::BadExtension("extension header truncated"))?;
    let profile = u16::from_be_bytes([header[0], header[1]]);
    let block_len = 4 * usize::from(u16::from_be_bytes([header[2], header[3]]));
    let start = offset + 4;
    let end = start + block_len;
    let block = buf.get(start..end).ok_or(ParseError::BadExtension(
        "extension block longer than packet",
    ))?;
    match profile {
        PROFILE_ONE_BYTE => check_one_byte_elements(block)?,
        PROFILE_TWO_BYTE => check_two_byte_elements(block)?,
        _ => {}
    }
    Ok(end)
}

/// RFC 8285 §4.2: `ID(4) L(4)` then L+1 bytes; 0x00 octets are padding; ID 15 stops
/// processing.
fn check_one_byte_elements(block: &[u8]) -> Result<(), ParseError> {
    let mut i = 0;
    while i < block.len() {
        let b = block[i];
        if b == 0 {
            i += 1;
            continue;
        }
        if b >> 4 == 0x0F {
            return Ok(());
        }
        let data_len = usize::from(b & 0x0F) + 1;
        i += 1 + data_len;
        if i > block.len() {
            return Err(ParseError::BadExtension("one-byte element overruns block"));
        }
    }
    Ok(())
}

/// RFC 8285 §4.3: `ID(8) L(8)` then L bytes; 0x00 octets are padding.
fn check_two_byte_elements(block: &[u8]) -> Result<(), ParseError> {
    let mut i = 0;
    while i < block.len() {
        if block[i] == 0 {
            i += 1;
            continue;
        }
        let data_len = block
            .get(i + 1)
            .ok_or(ParseError::BadExtension("two-byte element length missing"))?;
        i += 2 + usize::from(*data_len);
        if i > block.len() {
            return Err(ParseError::BadExtension("two-byte element overruns block"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, Rng, SeedableRng};

    fn header(b0: u8, b1: u8) -> Vec<u8> {
        vec![b0, b1, 0x12, 0x34, 0, 0, 0x0B, 0xB8, 0xDE, 0xAD, 0xBE, 0xEF]
    }

    #[test]
    fn parses_plain_packet() {
        let mut buf = header(0x80, 0x80 | 96);
        buf.extend_from_slice(&[1, 2, 3]);
        let p = parse(&buf).unwrap();
        assert_eq!(p.header.sequence_number, 0x1234);
        assert_eq!(p.header.timestamp, 3000);
        assert_eq!(p.header.ssrc, 0xDEAD_BEEF);
        assert_eq!(p.header.payload_type, 96);
        assert!(p.header.marker);
        assert_eq!(&p.payload[..], &[1, 2, 3]);
    }

    #[test]
    fn parses_one_byte_extension_with_id15_stop() {
        let mut buf = header(0x90, 96);
        // profile BEDE, 2 words: id 1 len 2 (3 bytes: 1 hdr + 2 data), then ID 15, junk.
        buf.extend_from_slice(&[0xBE, 0xDE, 0, 2, 0x11, 0xAA, 0xBB, 0xF0, 9, 9, 9, 9]);
        buf.extend_from_slice(&[7, 8]);
        let p = parse(&buf).unwrap();
        assert_eq!(
            p.header.get_extension(1).as_deref(),
            Some(&[0xAA, 0xBB][..])
        );
        assert_eq!(&p.payload[..], &[7, 8]);
    }

    #[test]
    fn parses_two_byte_extension_and_padding() {
        let mut buf = header(0xB0, 96); // P and X
        buf.extend_from_slice(&[0x10, 0x00, 0, 2, 5, 3, 1, 2, 3, 0, 0, 0]);
        buf.extend_from_slice(&[42, 43, 0, 0, 3]);
        let p = parse(&buf).unwrap();
        assert_eq!(p.header.get_extension(5).as_deref(), Some(&[1, 2, 3][..]));
        assert_eq!(&p.payload[..], &[42, 43]);
    }

    #[test]
    fn rejects_bad_input() {
        type Check = fn(&ParseError) -> bool;
        let cases: Vec<(Vec<u8>, Check)> = vec![
            (vec![0x80, 96], |e| matches!(e, ParseError::TooShort { .. })),
            (header(0x40, 96), |e| matches!(e, ParseError::BadVersion(1))),
            (header(0x80, 200), |e| {
                matches!(e, ParseError::Rtcp { packet_type: 200 })
            }),
            (header(0x81, 201), |e| {
                matches!(e, ParseError::Rtcp { packet_type: 201 })
            }),
            (header(0x80, 76), |e| matches!(e, ParseError::Rtcp { .. })),
            (header(0x82, 96), |e| {
                matches!(e, ParseError::TooShort { .. })
            }),
            (header(0x90, 96), |e| {
                matches!(e, ParseError::BadExtension(_))
            }),
            (
                [header(0x90, 96), vec![0xBE, 0xDE, 0, 1, 0x13, 0, 0, 0]].concat(),
                |e| matches!(e, ParseError::BadExtension(_)),
            ),
            (
                [header(0x90, 96), vec![0x10, 0, 0, 1, 0, 0, 0, 7]].concat(),
                |e| matches!(e, ParseError::BadExtension(_)),
            ),
            ([header(0xA0, 96), vec![1, 0]].concat(), |e| {
                matches!(e, ParseError::BadPadding { count: 0, .. })
            }),
            ([header(0xA0, 96), vec![1, 3]].concat(), |e| {
                matches!(e, ParseError::BadPadding { count: 3, .. })
            }),
            (header(0xA0, 96), |e| {
                matches!(e, ParseError::BadPadding { .. })
            }),
        ];
        for (i, (buf, check)) in cases.iter().enumerate() {
            let err = parse(buf).expect_err(&format!("case {i} should fail"));
            assert!(check(&err), "case {i}: unexpected {err:?}");
        }
        // The marker bit does not hide RTCP: 0x80|72 is still RTCP type 200.
        assert!(parse(&header(0x80, 200)).is_err());
        // PT 77 with marker is RTP.
        assert!(parse(&header(0x80, 0x80 | 77)).is_ok());
    }

    #[test]
    fn never_panics_on_random_or_truncated_input() {
        let mut rng = StdRng::seed_from_u64(0x5EED);
        let mut valid = header(0xB1, 96); // P, X, CC=1
        valid.extend_from_slice(&[1, 2, 3, 4]);
        valid.extend_from_slice(&[0xBE, 0xDE, 0, 1, 0x10, 0xAA, 0, 0]);
        valid.extend_from_slice(&[9, 9, 9, 0, 2]);
        assert_eq!(&parse(&valid).unwrap().payload[..], &[9, 9, 9]);
        for cut in 0..valid.len() {
            let _ = parse(&valid[..cut]);
        }
        for _ in 0..200_000 {
            let len = rng.gen_range(0..48);
            let mut buf: Vec<u8> = (0..len).map(|_| rng.gen()).collect();
            if len > 0 && rng.gen_bool(0.8) {
                buf[0] = (buf[0] & 0x3F) | 0x80; // mostly version 2 to reach deeper code
            }
            if len > 13 && rng.gen_bool(0.5) {
                buf[12] = if rng.gen() { 0xBE } else { 0x10 };
                buf[13] = if buf[12] == 0xBE { 0xDE } else { 0x00 };
            }
            if let Ok(p) = parse(&buf) {
                assert!(p.payload.len() <= buf.len());
                assert_eq!(p.header.version, 2);
            }
        }
    }
}
