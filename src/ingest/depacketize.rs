//! Access-unit assembly on top of the `rtp` crate's depacketizers.
//!
//! [`FrameAssembler`] takes the in-order packets released by the jitter buffer and
//! produces whole access units (AUs) for the decoder:
//!
//! - **VP8** (RFC 7741): the payload descriptor (§4.2) is stripped by
//!   `rtp::codecs::vp8::Vp8Packet`; the AU is the concatenated VP8 frame. A frame
//!   starts at a packet with S=1 and PID=0 (§4.1); it is a key frame when the P bit
//!   of the frame tag, the lowest bit of the first byte, is 0 (§4.3, RFC 6386 §9.1).
//! - **H.264** (RFC 6184, packetization-mode 0 and 1): single NAL unit packets (§5.6),
//!   STAP-A (§5.7.1) and FU-A (§5.8) via `rtp::codecs::h264::H264Packet`; the AU is an
//!   Annex B byte stream (4-byte start codes) with every NAL unit of the picture,
//!   SPS/PPS included as sent. It is a key frame when it contains an IDR slice (type 5).
//!   STAP-B, MTAP and FU-B (interleaved mode) are rejected.
//! - **Opus** (RFC 7587 §4.2): every packet is one AU; `keyframe` is always true.
//!
//! Emission rule for video: the packets of one RTP timestamp are collected and the AU
//! is emitted on the packet carrying the marker bit (RFC 7741 §4.1, RFC 6184 §5.1).
//! If the timestamp changes while a frame is still open (its marker never came), that
//! frame is incomplete and is discarded; the jitter buffer has released everything in
//! order, so a missing marker means the frame's tail is missing.
//!
//! Loss policy: packets lost right before a packet (`lost_before`), a malformed packet
//! inside a frame, or a frame that does not begin at a frame start break the frame:
//! it is discarded, the codec depacketizer state is reset (no half-filled FU-A buffer
//! survives), and [`FrameAssembler::needs_keyframe`] becomes true. While it is true,
//! complete non-key frames are discarded too; the next key frame clears it. Video
//! starts with `needs_keyframe` true, since a decoder cannot start on a delta frame.
//!
//! Every payload is bounds-checked before it reaches the crate's depacketizers (whose
//! STAP-A walk indexes without checks); nothing here panics on network input. Packets
//! of a frame that is already being discarded are not parsed (so they return `Ok(None)`
//! even if malformed).

use bytes::{Bytes, BytesMut};
use rtp::codecs::h264::H264Packet;
use rtp::codecs::opus::OpusPacket;
use rtp::codecs::vp8::Vp8Packet;
use rtp::packet::Packet;
use rtp::packetizer::Depacketizer;

/// Largest access unit assembled, in bytes; a frame growing beyond it is discarded.
pub const MAX_ACCESS_UNIT_BYTES: usize = 4 * 1024 * 1024;

/// H.264 NAL unit types used here (RFC 6184 §5.2, ITU-T H.264 Table 7-1).
mod nal {
    pub const IDR: u8 = 5;
    pub const SEI: u8 = 6;
    pub const SPS: u8 = 7;
    pub const PPS: u8 = 8;
    pub const AUD: u8 = 9;
    pub const END_OF_SEQUENCE: u8 = 10;
    pub const FILLER: u8 = 12;
    pub const STAP_A: u8 = 24;
    pub const FU_A: u8 = 28;
}

/// RTP payload format of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadFormat {
    /// VP8, RFC 7741, 90 kHz RTP clock.
    Vp8,
    /// H.264, RFC 6184 packetization-mode 0 or 1, 90 kHz RTP clock.
    H264,
    /// Opus, RFC 7587, 48 kHz RTP clock.
    Opus,
}

/// One decodable unit: a video frame or an Opus packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessUnit {
    /// VP8: the frame (descriptor stripped). H.264: Annex B byte stream with 4-byte
    /// start codes. Opus: the Opus packet (RFC 6716 §3).
    pub data: Bytes,
    /// RTP timestamp of the AU: 90 kHz ticks for video, 48 kHz samples for Opus.
    pub rtp_timestamp: u32,
    /// VP8 key frame / H.264 AU with an IDR slice; always true for Opus.
    pub keyframe: bool,
}

/// Why a packet's payload was refused. The caller counts and drops the packet; the
/// assembler has already discarded the frame it belonged to.
#[derive(Debug, thiserror::Error)]
pub enum DepacketizeError {
    /// Zero-length payload.
    #[error("empty RTP payload")]
    Empty,
    /// The `rtp` crate's depacketizer refused the payload.
    #[error("{format:?} payload rejected: {source}")]
    Codec {
        format: PayloadFormat,
        #[source]
        source: rtp::Error,
    },
    /// A VP8 payload too short for its own descriptor (length in bytes).
    #[error("VP8 payload of {0} bytes is shorter than its descriptor")]
    Vp8Truncated(usize),
    /// An H.264 packet type outside packetization-mode 0/1 (STAP-B, MTAP, FU-B, 0, 30, 31).
    #[error("H.264 NAL unit type {0} not supported (packetization-mode 0/1)")]
    UnsupportedNalType(u8),
    /// A STAP-A whose aggregation units overrun the payload or are empty.
    #[error("malformed STAP-A")]
    BadStapA,
    /// An FU-A fragment without the start fragment of its NAL unit.
    #[error("FU-A fragment without its start fragment")]
    FragmentWithoutStart,
    /// The frame grew beyond [`MAX_ACCESS_UNIT_BYTES`].
    #[error("access unit larger than {MAX_ACCESS_UNIT_BYTES} bytes")]
    TooLarge,
}

/// Counters in access units (frames) since creation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AssemblerStats {
    /// AUs emitted.
    pub emitted: u64,
    /// Key frames among them.
    pub keyframes: u64,
    /// Frames discarded because they were broken (loss, malformed packet, no start,
    /// no marker).
    pub discarded_broken: u64,
    /// Complete delta frames discarded while waiting for a key frame.
    pub discarded_waiting_keyframe: u64,
}

/// The video frame being collected.
#[derive(Debug)]
struct OpenFrame {
    rtp_timestamp: u32,
    data: BytesMut,
    keyframe: bool,
    broken: bool,
}

/// Assembles RTP packets of one stream, released in order, into access units.
#[derive(Debug)]
pub struct FrameAssembler {
    format: PayloadFormat,
    h264: H264Packet,
    /// An H.264 FU-A NAL unit is half received.
    fu_open: bool,
    frame: Option<OpenFrame>,
    /// After a loss (or at start) a new frame must begin with a recognisable start.
    need_start: bool,
    needs_keyframe: bool,
    stats: AssemblerStats,
}

impl FrameAssembler {
    /// An assembler for one stream of `format`.
    pub fn new(format: PayloadFormat) -> Self {
        Self {
            format,
            h264: H264Packet::default(),
            fu_open: false,
            frame: None,
            need_start: true,
            needs_keyframe: format != PayloadFormat::Opus,
            stats: AssemblerStats::default(),
        }
    }

    /// Offers the next packet in sequence order. `lost_before`: packets were lost right
    /// before this one (from the jitter buffer). Returns an AU when this packet
    /// completes one.
    pub fn push(
        &mut self,
        packet: &Packet,
        lost_before: bool,
    ) -> Result<Option<AccessUnit>, DepacketizeError> {
        if self.format == PayloadFormat::Opus {
            return self.push_opus(packet).map(Some);
        }
        let ts = packet.header.timestamp;
        if lost_before {
            self.break_frame();
            if let Some(frame) = &mut self.frame {
                frame.broken = true;
            }
        }
        if self.frame.as_ref().is_some_and(|f| f.rtp_timestamp != ts) {
            // The open frame never saw its marker: its tail is missing.
            if let Some(frame) = &mut self.frame {
                frame.broken = true;
            }
            self.close_frame();
            self.break_frame();
        }
        let result = self.add_to_frame(packet);
        if result.is_err() {
            self.break_frame();
            if let Some(frame) = &mut self.frame {
                frame.broken = true;
            }
        }
        let au = if packet.header.marker {
            self.close_frame()
        } else {
            None
        };
        result.map(|()| au)
    }

    /// True while video frames are discarded for want of a key frame: from the start,
    /// and after loss broke a frame, until a key frame is assembled. Always false for Opus.
    pub fn needs_keyframe(&self) -> bool {
        self.needs_keyframe
    }

    /// Forgets the open frame and codec state (e.g. on an SSRC change); stats are kept.
    pub fn reset(&mut self) {
        self.frame = None;
        self.reset_codec();
        self.need_start = true;
        self.needs_keyframe = self.format != PayloadFormat::Opus;
    }

    /// Counters so far.
    pub fn stats(&self) -> AssemblerStats {
        self.stats
    }

    fn push_opus(&mut self, packet: &Packet) -> Result<AccessUnit, DepacketizeError> {
        if packet.payload.is_empty() {
            return Err(DepacketizeError::Empty);
        }
        let data =
            OpusPacket
                .depacketize(&packet.payload)
                .map_err(|source| DepacketizeError::Codec {
                    format: PayloadFormat::Opus,
                    source,
                })?;
        self.stats.emitted += 1;
        self.stats.keyframes += 1;
        Ok(AccessUnit {
            data,
            rtp_timestamp: packet.header.timestamp,
            keyframe: true,
        })
    }

    /// Loss or a malformed packet: reset the codec state, ask for a key frame.
    fn break_frame(&mut self) {
        self.reset_codec();
        self.need_start = true;
        self.needs_keyframe = true;
    }

    fn reset_codec(&mut self) {
        self.h264 = H264Packet::default();
        self.fu_open = false;
    }

    /// Depacketizes `packet` into the open frame, opening one if needed.
    fn add_to_frame(&mut self, packet: &Packet) -> Result<(), DepacketizeError> {
        let payload = &packet.payload;
        if payload.is_empty() {
            return Err(DepacketizeError::Empty);
        }
        if self.frame.is_none() {
            let start = match self.format {
                PayloadFormat::Vp8 => vp8_frame_start(payload),
                // Without loss, the packet after a marker starts the next frame.
                PayloadFormat::H264 => !self.need_start || h264_frame_start(payload),
                PayloadFormat::Opus => true,
            };
            if start {
                self.need_start = false;
            } else {
                self.break_frame();
            }
            self.frame = Some(OpenFrame {
                rtp_timestamp: packet.header.timestamp,
                data: BytesMut::new(),
                keyframe: false,
                broken: !start,
            });
        }
        if self.frame.as_ref().is_some_and(|f| f.broken) {
            return Ok(());
        }
        let (chunk, keyframe) = match self.format {
            PayloadFormat::Vp8 => depacketize_vp8(payload)?,
            PayloadFormat::H264 => self.depacketize_h264(payload)?,
            PayloadFormat::Opus => (payload.clone(), true),
        };
        if let Some(frame) = &mut self.frame {
            if frame.data.len() + chunk.len() > MAX_ACCESS_UNIT_BYTES {
                return Err(DepacketizeError::TooLarge);
            }
            frame.data.extend_from_slice(&chunk);
            frame.keyframe |= keyframe;
        }
        Ok(())
    }

    /// Ends the open frame: returns it if complete and decodable, else discards it.
    fn close_frame(&mut self) -> Option<AccessUnit> {
        let frame = self.frame.take()?;
        if frame.broken || self.fu_open || frame.data.is_empty() {
            self.stats.discarded_broken += 1;
            if self.fu_open {
                self.break_frame();
            }
            return None;
        }
        if self.needs_keyframe && !frame.keyframe {
            self.stats.discarded_waiting_keyframe += 1;
            return None;
        }
        self.needs_keyframe = false;
        self.stats.emitted += 1;
        self.stats.keyframes += u64::from(frame.keyframe);
        Some(AccessUnit {
            data: frame.data.freeze(),
            rtp_timestamp: frame.rtp_timestamp,
            keyframe: frame.keyframe,
        })
    }

    /// One H.264 RTP payload to Annex B bytes (empty for a non-final FU-A fragment),
    /// and whether it carried an IDR slice.
    fn depacketize_h264(&mut self, payload: &Bytes) -> Result<(Bytes, bool), DepacketizeError> {
        let packet_type = payload[0] & 0x1F;
        let idr = match packet_type {
            nal::END_OF_SEQUENCE..=nal::FILLER => return Ok((Bytes::new(), false)),
            1..=23 => packet_type == nal::IDR,
            nal::STAP_A => stap_a_nal_types(payload)?.any(|t| t == nal::IDR),
            nal::FU_A => {
                if payload.len() < 3 {
                    return Err(DepacketizeError::Codec {
                        format: PayloadFormat::H264,
                        source: rtp::Error::ErrShortPacket,
                    });
                }
                let fu_header = payload[1];
                if fu_header & 0x80 != 0 {
                    self.reset_codec();
                    self.fu_open = true;
                } else if !self.fu_open {
                    return Err(DepacketizeError::FragmentWithoutStart);
                }
                if fu_header & 0x40 != 0 {
                    self.fu_open = false;
                }
                fu_header & 0x1F == nal::IDR
            }
            other => return Err(DepacketizeError::UnsupportedNalType(other)),
        };
        let data = self
            .h264
            .depacketize(payload)
            .map_err(|source| DepacketizeError::Codec {
                format: PayloadFormat::H264,
                source,
            })?;
        Ok((data, idr))
    }
}

/// VP8 payload to frame bytes, and whether it starts a key frame.
///
/// The crate rejects payloads under 4 bytes, which a valid last fragment can be (a
/// 1-byte descriptor and 1-2 bytes of frame); those are handled here when the
/// descriptor is the single mandatory octet (RFC 7741 §4.2, X=0).
fn depacketize_vp8(payload: &Bytes) -> Result<(Bytes, bool), DepacketizeError> {
    if payload.len() < 4 {
        if payload[0] & 0x80 != 0 || payload.len() < 2 {
            return Err(DepacketizeError::Vp8Truncated(payload.len()));
        }
        let data = payload.slice(1..);
        let key = vp8_frame_start(payload) && data[0] & 0x01 == 0;
        return Ok((data, key));
    }
    let mut descriptor = Vp8Packet::default();
    let data = descriptor
        .depacketize(payload)
        .map_err(|source| DepacketizeError::Codec {
            format: PayloadFormat::Vp8,
            source,
        })?;
    let key = descriptor.s == 1 && descriptor.pid == 0 && data.first().is_some_and(|b| b & 1 == 0);
    Ok((data, key))
}

/// RFC 7741 §4.1: the first packet of a frame has S=1 and PID=0.
fn vp8_frame_start(payload: &[u8]) -> bool {
    payload
        .first()
        .is_some_and(|b| b & 0x10 != 0 && b & 0x07 == 0)
}

/// Whether an H.264 payload surely begins an access unit: its first NAL unit is an
/// SEI, SPS, PPS or AUD (ITU-T H.264 §7.4.1.2.3), or a slice with
/// `first_mb_in_slice == 0` (its ue(v) code is the single bit 1).
fn h264_frame_start(payload: &[u8]) -> bool {
    let (header, first_byte) = match payload.first().map(|b| b & 0x1F) {
        Some(nal::STAP_A) => (payload.get(3), payload.get(4)),
        Some(nal::FU_A) => match payload.get(1) {
            Some(fu) if fu & 0x80 != 0 => (Some(fu), payload.get(2)),
            _ => return false,
        },
        _ => (payload.first(), payload.get(1)),
    };
    match (header.map(|h| h & 0x1F), first_byte) {
        (Some(nal::SEI | nal::SPS | nal::PPS | nal::AUD), _) => true,
        (Some(1..=5), Some(b)) => b & 0x80 != 0,
        _ => false,
    }
}

/// Validates a STAP-A (RFC 6184 §5.7.1: 1-byte header, then 16-bit size + NAL unit,
/// repeated) and returns the types of its NAL units.
fn stap_a_nal_types(payload: &[u8]) -> Result<impl Iterator<Item = u8>, DepacketizeError> {
    let mut types = Vec::new();
    let mut i = 1;
    while i < payload.len() {
        let size_bytes = payload.get(i..i + 2).ok_or(DepacketizeError::BadStapA)?;
        let size = usize::from(u16::from_be_bytes([size_bytes[0], size_bytes[1]]));
        let unit = payload
            .get(i + 2..i + 2 + size)
            .filter(|u| !u.is_empty())
            .ok_or(DepacketizeError::BadStapA)?;
        types.push(unit[0] & 0x1F);
        i += 2 + size;
    }
    if types.is_empty() {
        return Err(DepacketizeError::BadStapA);
    }
    Ok(types.into_iter())
}

#[cfg(test)]
#[path = "depacketize_tests.rs"]
mod tests;
