//! What a receiver can show of a video stream after loss, computed from the packets a
//! lossy relay ([`super::lossy_relay`]) forwarded and dropped: the model the mixer's
//! tiles must follow, written independently of the mixer's own depacketizers.
//!
//! Model (issue 4): a frame (all RTP packets with one timestamp) is shown if none of its
//! packets was dropped and it is a keyframe, or the frame before it was shown; after any
//! loss the tile holds its last shown picture until the next intact keyframe. Keyframes:
//! VP8 (RFC 7741 §4.2-4.3: descriptor, then the payload header's P bit = 0 on the first
//! packet of partition 0) and H.264 (RFC 6184: an IDR slice, NAL type 5, alone, in a
//! STAP-A or starting an FU-A).

use std::time::Instant;

use super::lossy_relay::Logged;
use super::sender::Codec;

/// One frame of the stream, in sending order.
#[derive(Debug, Clone, Copy)]
pub struct Frame {
    /// RTP timestamp (90 kHz).
    pub ts: u32,
    /// When the relay received its first packet.
    pub at: Instant,
    pub keyframe: bool,
    /// Every packet of it was forwarded.
    pub intact: bool,
    /// The model above says a receiver shows it.
    pub shown: bool,
}

/// The RTP payload of datagram `d` (header, CSRCs and extension skipped), or None.
fn payload(d: &[u8]) -> Option<&[u8]> {
    if d.len() < 12 || d[0] >> 6 != 2 {
        return None;
    }
    let mut at = 12 + 4 * usize::from(d[0] & 0x0F);
    if d[0] & 0x10 != 0 {
        let ext = d.get(at + 2..at + 4)?;
        at += 4 + 4 * usize::from(u16::from_be_bytes([ext[0], ext[1]]));
    }
    d.get(at..)
}

/// True if this RTP datagram carries the start of a keyframe.
pub fn starts_keyframe(codec: Codec, datagram: &[u8]) -> bool {
    let Some(p) = payload(datagram) else {
        return false;
    };
    match codec {
        Codec::Vp8 => {
            let Some(&b0) = p.first() else { return false };
            let (start, partition) = (b0 & 0x10 != 0, b0 & 0x07);
            let mut at = 1;
            if b0 & 0x80 != 0 {
                let Some(&x) = p.get(1) else { return false };
                at = 2;
                if x & 0x80 != 0 {
                    at += if p.get(at).is_some_and(|b| b & 0x80 != 0) {
                        2
                    } else {
                        1
                    };
                }
                if x & 0x40 != 0 {
                    at += 1;
                }
                if x & 0x30 != 0 {
                    at += 1;
                }
            }
            start && partition == 0 && p.get(at).is_some_and(|b| b & 0x01 == 0)
        }
        Codec::H264 => {
            let Some(&b0) = p.first() else { return false };
            match b0 & 0x1F {
                5 => true,
                // STAP-A: [16-bit size][NAL]...
                24 => {
                    let mut at = 1;
                    while let Some(sz) = p.get(at..at + 2) {
                        let n = usize::from(u16::from_be_bytes([sz[0], sz[1]]));
                        if p.get(at + 2).is_some_and(|h| h & 0x1F == 5) {
                            return true;
                        }
                        at += 2 + n;
                    }
                    false
                }
                // FU-A: start bit and the fragmented NAL's type.
                28 => p.get(1).is_some_and(|h| h & 0x80 != 0 && h & 0x1F == 5),
                _ => false,
            }
        }
    }
}

/// The frames of one relayed stream (`log`: datagrams in arrival order, dropped or not)
/// with what the model says is shown.
pub fn frames(codec: Codec, log: &[Logged]) -> Vec<Frame> {
    let mut out: Vec<Frame> = Vec::new();
    for l in log {
        let (d, dropped) = (&l.head, l.dropped);
        if d.len() < 12 {
            continue;
        }
        let ts = u32::from_be_bytes([d[4], d[5], d[6], d[7]]);
        let key = starts_keyframe(codec, d);
        match out.last_mut() {
            Some(f) if f.ts == ts => {
                f.intact &= !dropped;
                f.keyframe |= key;
            }
            _ => out.push(Frame {
                ts,
                at: l.at,
                keyframe: key,
                intact: !dropped,
                shown: false,
            }),
        }
    }
    let mut prev_shown = false;
    for f in &mut out {
        f.shown = f.intact && (f.keyframe || prev_shown);
        prev_shown = f.shown;
    }
    out
}

/// Media times (s since the first frame) at which the tile turns from dark to bright
/// under the model: each frame shows the newest shown frame at or before it (held), or
/// nothing (dark) once that is older than `stale_s`; `bright(t)` says whether the
/// picture sent at media time t was a flash.
pub fn expected_onsets(frames: &[Frame], bright: impl Fn(f64) -> bool, stale_s: f64) -> Vec<f64> {
    let Some(first) = frames.first() else {
        return Vec::new();
    };
    let t = |f: &Frame| f64::from(f.ts.wrapping_sub(first.ts)) / 90_000.0;
    let mut held: Option<f64> = None;
    let mut was_bright = false;
    let mut onsets = Vec::new();
    for f in frames {
        let now = t(f);
        if f.shown {
            held = Some(now);
        }
        let is_bright = held.is_some_and(|h| now - h <= stale_s && bright(h));
        if is_bright && !was_bright {
            onsets.push(now);
        }
        was_bright = is_bright;
    }
    onsets
}
