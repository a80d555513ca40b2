//! Where HLS segments are cut and what the playlist says (sans IO; RFC 8216).
//!
//! A segment is cut at the first video keyframe at least the target duration after the
//! segment's start, so every segment starts with a keyframe (§3: each segment of a
//! video stream should start with one so it decodes on its own). The encoder makes a
//! keyframe every second, so segments are the target rounded up to a whole second of
//! pictures. An output without video is cut at the first audio packet past the
//! target. Durations come from the packets' timestamps: a segment lasts from its first
//! packet's time to the next segment's (the last one to the end of its last picture).
//!
//! The playlist (§4.3) lists every segment so far with its `#EXTINF` duration; while
//! recording it is an `EVENT` playlist (segments are only appended), at the end it
//! gets `#EXT-X-ENDLIST` and becomes `VOD` (§4.3.3.5). `#EXT-X-TARGETDURATION` is the
//! longest segment rounded to the nearest second, at least the configured target.

use std::fmt::Write;

use crate::model::Medium;

/// One finished segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Its file name, relative to the playlist.
    pub uri: String,
    /// Seconds.
    pub duration_s: f64,
}

/// What to do with a packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Write it to the open segment.
    Write,
    /// Close the open segment (if any) and open segment `index`; the packet starts it.
    Cut { index: u64 },
    /// Drop it: no segment is open and it cannot start one (before the first video
    /// keyframe).
    Drop,
}

/// See the module docs.
#[derive(Debug, Clone)]
pub struct HlsPlan {
    target_s: f64,
    has_video: bool,
    /// Start of the open segment, seconds; None before the first.
    open_start: Option<f64>,
    /// Index of the open segment.
    index: u64,
    /// The end of the last packet seen, seconds (pts + duration).
    end_s: f64,
    done: Vec<Segment>,
}

impl HlsPlan {
    /// Segments of `target_s` seconds (at least) for an output with or without video.
    pub fn new(target_s: u32, has_video: bool) -> Self {
        Self {
            target_s: f64::from(target_s),
            has_video,
            open_start: None,
            index: 0,
            end_s: 0.0,
            done: Vec::new(),
        }
    }

    /// The file name of segment `index`.
    pub fn uri(index: u64) -> String {
        format!("seg-{index:06}.ts")
    }

    /// A packet of `medium` at `pts_s` seconds lasting `duration_s` (`keyframe`: a video
    /// keyframe): where it goes.
    pub fn packet(&mut self, medium: Medium, pts_s: f64, duration_s: f64, keyframe: bool) -> Step {
        let can_start = if self.has_video {
            medium == Medium::Video && keyframe
        } else {
            true
        };
        let step = match self.open_start {
            None if can_start => {
                self.open_start = Some(pts_s);
                Step::Cut { index: 0 }
            }
            None => return Step::Drop,
            Some(start) if can_start && pts_s - start >= self.target_s - 1e-6 => {
                self.done.push(Segment {
                    uri: Self::uri(self.index),
                    duration_s: pts_s - start,
                });
                self.index += 1;
                self.open_start = Some(pts_s);
                Step::Cut { index: self.index }
            }
            Some(_) => Step::Write,
        };
        self.end_s = self.end_s.max(pts_s + duration_s);
        step
    }

    /// The output ended: the open segment (if any) is finished at the last packet's end.
    pub fn finish(&mut self) {
        if let Some(start) = self.open_start.take() {
            self.done.push(Segment {
                uri: Self::uri(self.index),
                duration_s: (self.end_s - start).max(0.0),
            });
        }
    }

    /// The finished segments, in order.
    pub fn segments(&self) -> &[Segment] {
        &self.done
    }

    /// The playlist of the finished segments; `ended` adds `#EXT-X-ENDLIST` (VOD).
    pub fn playlist(&self, ended: bool) -> String {
        let longest = self
            .done
            .iter()
            .map(|s| s.duration_s)
            .fold(self.target_s, f64::max);
        let mut p = String::from("#EXTM3U\n#EXT-X-VERSION:3\n");
        let _ = writeln!(p, "#EXT-X-TARGETDURATION:{}", longest.round() as u64);
        p.push_str("#EXT-X-MEDIA-SEQUENCE:0\n");
        let kind = if ended { "VOD" } else { "EVENT" };
        let _ = writeln!(p, "#EXT-X-PLAYLIST-TYPE:{kind}");
        for s in &self.done {
            let _ = writeln!(p, "#EXTINF:{:.3},\n{}", s.duration_s, s.uri);
        }
        if ended {
            p.push_str("#EXT-X-ENDLIST\n");
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_start_at_keyframes_after_the_target() {
        // 15 fps, a keyframe every 15 pictures, 2 s target, 5 s of video.
        let mut p = HlsPlan::new(2, true);
        assert_eq!(p.packet(Medium::Audio, 0.0, 0.02, false), Step::Drop);
        let mut cuts = Vec::new();
        for n in 0..75u32 {
            let t = f64::from(n) / 15.0;
            if let Step::Cut { index } = p.packet(Medium::Video, t, 1.0 / 15.0, n % 15 == 0) {
                cuts.push((index, n));
            }
        }
        assert_eq!(cuts, [(0, 0), (1, 30), (2, 60)]);
        p.finish();
        let d: Vec<f64> = p.segments().iter().map(|s| s.duration_s).collect();
        assert!(
            (d[0] - 2.0).abs() < 1e-9 && (d[1] - 2.0).abs() < 1e-9,
            "{d:?}"
        );
        assert!((d[2] - 1.0).abs() < 1e-9, "the last: 15 pictures, {d:?}");
        let live = p.playlist(false);
        assert!(live.contains("#EXT-X-PLAYLIST-TYPE:EVENT") && !live.contains("ENDLIST"));
        let vod = p.playlist(true);
        assert!(vod.ends_with("seg-000002.ts\n#EXT-X-ENDLIST\n"), "{vod}");
        assert!(vod.contains("#EXT-X-TARGETDURATION:2\n"), "{vod}");
        assert!(vod.contains("#EXTINF:2.000,\nseg-000000.ts\n"), "{vod}");
    }

    #[test]
    fn audio_only_segments_cut_on_any_packet() {
        let mut p = HlsPlan::new(1, false);
        assert_eq!(
            p.packet(Medium::Audio, 0.0, 0.5, false),
            Step::Cut { index: 0 }
        );
        assert_eq!(p.packet(Medium::Audio, 0.5, 0.5, false), Step::Write);
        assert_eq!(
            p.packet(Medium::Audio, 1.0, 0.5, false),
            Step::Cut { index: 1 }
        );
    }
}
