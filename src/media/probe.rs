//! How much of a media file plays: the span of its complete packets, read with ffmpeg's
//! demuxer without decoding. Used at startup on recordings an earlier daemon process
//! left unfinished (a fragmented MP4 cut mid-fragment plays up to its last complete
//! fragment, ISO/IEC 14496-12 section 8.8).

use std::path::Path;

use ffmpeg_next as ff;

use super::MediaError;
use crate::time::{rescale_floor, MICROS};

/// What [`playable`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Playable {
    /// From the earliest packet's pts to the latest packet's pts + duration, over all
    /// streams, ms (0 when the file holds no packet).
    pub duration_ms: u64,
    /// Packets read (all streams).
    pub packets: u64,
}

/// Reads every packet header of `path` (no decoding) and returns the playable span.
/// A read error after the first packet ends the scan (a truncated last fragment):
/// what was read before it is the answer.
/// Errors: `Ffmpeg` if the file cannot be opened as media at all (e.g. the process died
/// before the first fragment's header was written).
pub fn playable(path: &Path) -> Result<Playable, MediaError> {
    let mut ictx = ff::format::input(&path).map_err(MediaError::ffmpeg("open recording"))?;
    let time_bases: Vec<ff::Rational> = ictx.streams().map(|s| s.time_base()).collect();
    let (mut first_us, mut last_us, mut packets) = (i64::MAX, i64::MIN, 0u64);
    let mut packet = ff::Packet::empty();
    loop {
        match packet.read(&mut ictx) {
            Ok(()) => {}
            Err(ff::Error::Eof) => break,
            Err(e) if packets > 0 => {
                tracing::debug!(error = %e, path = %path.display(), "recording ends in a partial fragment");
                break;
            }
            Err(e) => return Err(MediaError::ffmpeg("read recording")(e)),
        }
        let Some(tb) = time_bases.get(packet.stream()) else {
            continue;
        };
        let Some(pts) = packet.pts().or(packet.dts()) else {
            continue;
        };
        let to_us = |ticks: i64| {
            rescale_floor(
                ticks.saturating_mul(i64::from(tb.numerator())),
                tb.denominator().max(1) as u32,
                MICROS,
            )
        };
        first_us = first_us.min(to_us(pts));
        last_us = last_us.max(to_us(pts.saturating_add(packet.duration().max(0))));
        packets += 1;
    }
    let duration_ms = if packets == 0 {
        0
    } else {
        (last_us.saturating_sub(first_us).max(0) / 1000) as u64
    };
    Ok(Playable {
        duration_ms,
        packets,
    })
}
