//! HLS output of the composite (issue 14): a [`PacketSink`] on the file's encode that
//! writes MPEG-TS segments (ffmpeg's `mpegts` muxer, one per segment) and the playlist
//! `index.m3u8` beneath the recordings root, as [`HlsPlan`] cuts them (RFC 8216).
//!
//! Files: `<rel_dir>/seg-NNNNNN.ts`, each created like the MP4 file (beneath the root's
//! handle, no symlink followed, never replacing a file); `<rel_dir>/index.m3u8`,
//! rewritten after every finished segment (an `EVENT` playlist while recording, `VOD`
//! with `#EXT-X-ENDLIST` at the end) by writing `index.m3u8.tmp` and renaming it over
//! the playlist, so a reader never sees half a playlist. Timestamps run on across
//! segments (one timeline: the file's).
//!
//! Errors stay here: a segment or playlist that cannot be written is logged and ends
//! the HLS output only; the MP4 file and the mixer go on.

use std::path::Path;

use ffmpeg_next::Packet;

use crate::media::mux::{Container, Mp4Muxer};
use crate::model::{HlsSpec, Medium, MixerError, RecordingsRoot};
use crate::output::hls_plan::{HlsPlan, Step};
use crate::output::{confined, MuxStreams, PacketSink, StreamInfo};

/// The playlist's file name in the HLS directory.
pub const PLAYLIST: &str = "index.m3u8";

/// An open segment: its muxer and stream handles.
struct Open {
    mux: Mp4Muxer,
    streams: MuxStreams,
}

/// See the module docs.
pub struct HlsSink {
    /// `<rel_dir>/index.m3u8`, for logs and errors.
    name: String,
    root: RecordingsRoot,
    rel_dir: String,
    target_s: u32,
    streams: Option<(Option<StreamInfo>, Option<StreamInfo>)>,
    plan: HlsPlan,
    open: Option<Open>,
    /// Bytes of the finished segments and the open one.
    bytes: u64,
    /// Set by the first failure: nothing more is written.
    failed: bool,
}

impl HlsSink {
    /// HLS per `spec` beneath `root` (nothing is created before the first segment).
    pub fn new(spec: &HlsSpec, root: RecordingsRoot) -> Self {
        Self {
            name: format!("{}/{PLAYLIST}", spec.rel_dir),
            root,
            rel_dir: spec.rel_dir.clone(),
            target_s: spec.segment_s,
            streams: None,
            plan: HlsPlan::new(spec.segment_s, true),
            open: None,
            bytes: 0,
            failed: false,
        }
    }

    fn stream(&self, medium: Medium) -> Option<&StreamInfo> {
        let (v, a) = self.streams.as_ref()?;
        match medium {
            Medium::Video => v.as_ref(),
            Medium::Audio => a.as_ref(),
        }
    }

    /// Closes the open segment and rewrites the playlist (`ended`: the final one).
    fn close(&mut self, ended: bool) -> Result<(), String> {
        if let Some(mut o) = self.open.take() {
            o.mux.finish().map_err(|e| e.to_string())?;
            self.bytes += o.mux.size_bytes();
        }
        if ended {
            self.plan.finish();
        }
        if self.plan.segments().is_empty() {
            return Ok(());
        }
        self.write_playlist(&self.plan.playlist(ended))
            .map_err(|e| format!("playlist: {e}"))
    }

    fn write_playlist(&self, text: &str) -> std::io::Result<()> {
        let dir = self.root.dir();
        let tmp = format!("{}/{PLAYLIST}.tmp", self.rel_dir);
        dir.write(&tmp, text)?;
        dir.rename(&tmp, dir, format!("{}/{PLAYLIST}", self.rel_dir))
    }

    fn open_segment(&mut self, index: u64) -> Result<(), String> {
        let rel = format!("{}/{}", self.rel_dir, HlsPlan::uri(index));
        let file =
            confined::create_new(&self.root, Path::new(&rel), &rel).map_err(|e| e.to_string())?;
        let mut mux = Mp4Muxer::create(file, Container::MpegTs).map_err(|e| e.to_string())?;
        let (v, a) = self
            .streams
            .as_ref()
            .map_or((None, None), |(v, a)| (v.as_ref(), a.as_ref()));
        let streams = MuxStreams::start(&mut mux, v, a).map_err(|e| e.to_string())?;
        self.open = Some(Open { mux, streams });
        Ok(())
    }

    fn write_packet(&mut self, medium: Medium, packet: Packet) -> Result<(), String> {
        let Some(info) = self.stream(medium) else {
            return Ok(());
        };
        let tb = info.time_base;
        let seconds = |ticks: i64| ticks as f64 * f64::from(tb);
        let pts_s = seconds(packet.pts().or(packet.dts()).unwrap_or(0));
        let ticks = match (packet.duration(), medium) {
            (d, _) if d > 0 => d,
            (_, Medium::Video) => 1,
            (_, Medium::Audio) => i64::from(crate::media::encode::AAC_FRAME_SAMPLES as u32),
        };
        match self
            .plan
            .packet(medium, pts_s, seconds(ticks), packet.is_key())
        {
            Step::Drop => return Ok(()),
            Step::Cut { index } => {
                self.close(false)?;
                self.open_segment(index)?;
            }
            Step::Write => {}
        }
        let Some(o) = &mut self.open else {
            return Ok(());
        };
        if let Some(h) = o.streams.of(medium) {
            o.mux.write(h, packet).map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    fn fail(&mut self, e: &str) {
        self.failed = true;
        self.open = None;
        tracing::warn!(hls = %self.name, error = %e, "HLS output failed; the recording goes on");
    }
}

impl PacketSink for HlsSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn needs_global_header(&self) -> bool {
        false
    }

    fn start(
        &mut self,
        video: Option<&StreamInfo>,
        audio: Option<&StreamInfo>,
    ) -> Result<(), MixerError> {
        self.plan = HlsPlan::new(self.target_s, video.is_some());
        self.streams = Some((video.cloned(), audio.cloned()));
        Ok(())
    }

    fn write(&mut self, medium: Medium, packet: Packet) -> Result<(), MixerError> {
        if self.failed {
            return Ok(());
        }
        if let Err(e) = self.write_packet(medium, packet) {
            self.fail(&e);
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), MixerError> {
        if self.failed || self.streams.is_none() {
            return Ok(());
        }
        if let Err(e) = self.close(true) {
            self.fail(&e);
        }
        self.streams = None;
        Ok(())
    }

    fn size_bytes(&self) -> u64 {
        self.bytes + self.open.as_ref().map_or(0, |o| o.mux.size_bytes())
    }
}
