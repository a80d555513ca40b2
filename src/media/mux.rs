//! File writer through ffmpeg's muxers: fragmented MP4 (ISO/IEC 14496-12 §8.8 movie
//! fragments, the mov muxer: audio+video `.mp4`, or audio-only `.m4a` through the "ipod"
//! muxer, brand M4A), and for per-participant files WebM (Matroska), Ogg and ADTS
//! ([`Container`]).
//!
//! Every container here can be cut off by a crash and still play up to what was
//! written: MP4 by its fragments, WebM/Ogg/ADTS by construction (clusters, pages,
//! frames are self-delimiting; the muxers' final index only speeds seeking).
//!
//! The file starts with an empty `moov` and then gets a `moof`+`mdat` fragment every
//! [`FRAGMENT_US`] and at every video keyframe, flushed to disk as it is written, so a
//! crash loses at most the fragment being built and the file stays playable. `finish`
//! writes the trailer (`mfra` index). Without a video stream (`.m4a`) only the
//! [`FRAGMENT_US`] rule applies (the mov muxer's `frag_keyframe` looks at video
//! keyframes only), so an audio-only file has a fragment every 0.5 s too.
//!
//! The muxer writes to a file the caller already created (beneath the recordings root,
//! see `output/confined.rs`), never to a path it resolves itself: ffmpeg's `file`
//! protocol opens `/proc/self/fd/N` of that descriptor, which names the open file
//! itself (the kernel's "magic link"), not a path looked up again, so a rename or a
//! symlink swapped in meanwhile cannot redirect the output. This keeps the muxer's
//! seekable, buffered file IO (the trailer's seek-back) with no custom AVIO callbacks;
//! it needs `/proc` mounted (Linux; every container runtime does). The descriptor stays
//! open while the muxer lives; sizes are read from it (`fstat`).
//!
//! A live push ([`Mp4Muxer::connect`], [`Container::Flv`]) is the one exception: ffmpeg
//! opens the network URL itself (`rtmp://`, `rtmps://`: its native RTMP client, Adobe
//! RTMP 1.0; `srt://`: libsrt, caller mode), with a read/write timeout so a dead server fails a write instead of
//! blocking; its size is the bytes of the packets written.

use std::fs::File;
use std::os::fd::AsRawFd;

use ff::{codec, Dictionary, Packet, Rational};
use ffmpeg_next as ff;

use super::MediaError;

/// The mov muxer flags that make the file fragmented and playable while recording.
pub const MOVFLAGS: &str = "frag_keyframe+empty_moov+default_base_moof";
/// Longest fragment, µs (the mov muxer's `frag_duration`): what a crash may lose.
pub const FRAGMENT_US: i64 = 500_000;

/// The containers a [`Mp4Muxer`] can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// Fragmented MP4 (`.mp4`, ffmpeg's "mp4" muxer): H.264, AAC.
    Mp4,
    /// Fragmented MP4 audio (`.m4a`, ffmpeg's "ipod" muxer, major brand `M4A `): AAC.
    M4a,
    /// WebM (`.webm`): VP8, Opus.
    WebM,
    /// Ogg (`.ogg`): Opus.
    Ogg,
    /// FLV over RTMP (a live push, [`Mp4Muxer::connect`]): H.264, AAC.
    Flv,
    /// MPEG-TS (an HLS segment, ISO/IEC 13818-1): H.264 (Annex B, converted by the
    /// muxer from out-of-band headers), AAC (ADTS, likewise).
    MpegTs,
    /// ADTS (`.aac`): AAC frames with their own headers (ISO/IEC 13818-7).
    Adts,
}

/// The composite's name for the MP4 flavours of [`Container`].
pub use Container as Mp4Format;

impl Container {
    /// ffmpeg's muxer name.
    pub fn muxer(self) -> &'static str {
        match self {
            Container::Mp4 => "mp4",
            Container::M4a => "ipod",
            Container::WebM => "webm",
            Container::Ogg => "ogg",
            Container::Adts => "adts",
            Container::Flv => "flv",
            Container::MpegTs => "mpegts",
        }
    }
}

/// A media file being written (named for its first container, MP4; see [`Container`]).
pub struct Mp4Muxer {
    octx: ff::format::context::Output,
    /// The created file, kept open: ffmpeg writes to it through `/proc/self/fd/N`; None
    /// for a live push.
    file: Option<File>,
    /// Bytes of the packets written (the size of a live push).
    packet_bytes: u64,
    /// (stream index, encoder timebase, last dts written in the stream's timebase) per
    /// added stream.
    streams: Vec<(usize, Rational, Option<i64>)>,
    container: Container,
    started: bool,
}

impl Mp4Muxer {
    /// A muxer writing `container` to `file` (open for writing, normally new and empty:
    /// ffmpeg's file protocol truncates it). Errors: ffmpeg cannot open `/proc/self/fd/N`.
    pub fn create(file: File, container: Container) -> Result<Self, MediaError> {
        let fd_path = format!("/proc/self/fd/{}", file.as_raw_fd());
        let octx = ff::format::output_as(&fd_path, container.muxer())
            .map_err(MediaError::ffmpeg("create output file"))?;
        Ok(Self {
            octx,
            file: Some(file),
            packet_bytes: 0,
            streams: Vec::new(),
            container,
            started: false,
        })
    }

    /// A live push of `container` to `url` (FLV to `rtmp://host[:port]/app/key`, MPEG-TS
    /// to `srt://host:port?...`): connects now, bounded by `timeout_us` (ffmpeg's
    /// `rw_timeout`, µs; also every later write). Errors: the connection or the
    /// handshake failed or timed out (the message never holds the URL: it may carry a
    /// stream key).
    pub fn connect(url: &str, container: Container, timeout_us: u64) -> Result<Self, MediaError> {
        let mut opts = Dictionary::new();
        opts.set("rw_timeout", &timeout_us.to_string());
        let octx = ff::format::output_as_with(url, container.muxer(), opts)
            .map_err(MediaError::ffmpeg("connect the live push"))?;
        Ok(Self {
            octx,
            file: None,
            packet_bytes: 0,
            streams: Vec::new(),
            container,
            started: false,
        })
    }

    /// Whether encoders must put their headers out of band (true for MP4).
    pub fn needs_global_header(&self) -> bool {
        self.octx
            .format()
            .flags()
            .contains(ff::format::Flags::GLOBAL_HEADER)
    }

    /// Adds a stream for an opened encoder; returns the handle to pass to `write`.
    pub fn add_stream(
        &mut self,
        params: codec::Parameters,
        encoder_time_base: Rational,
    ) -> Result<usize, MediaError> {
        let mut st = self
            .octx
            .add_stream(ff::encoder::find(codec::Id::None))
            .map_err(MediaError::ffmpeg("add mp4 stream"))?;
        st.set_parameters(params);
        st.set_time_base(encoder_time_base);
        // SAFETY: the stream was just created by this context; clearing codec_tag lets the
        // mov muxer pick the MP4 tag for the codec id (avc1 / mp4a).
        unsafe {
            (*(*st.as_mut_ptr()).codecpar).codec_tag = 0;
        }
        let index = st.index();
        self.streams.push((index, encoder_time_base, None));
        Ok(self.streams.len() - 1)
    }

    /// Writes the header. Call once after every stream is added.
    pub fn start(&mut self) -> Result<(), MediaError> {
        let mut opts = Dictionary::new();
        if matches!(self.container, Container::Mp4 | Container::M4a) {
            opts.set("movflags", MOVFLAGS);
            opts.set("frag_duration", &FRAGMENT_US.to_string());
        }
        // SAFETY: octx is a valid output context not yet written to; flush_packets makes
        // every fragment reach the file as soon as it is complete.
        unsafe {
            (*self.octx.as_mut_ptr()).flush_packets = 1;
        }
        self.octx
            .write_header_with(opts)
            .map_err(MediaError::ffmpeg("write the header"))?;
        self.started = true;
        Ok(())
    }

    /// Writes one encoded packet of stream `handle` (timestamps in its encoder timebase).
    /// A decode timestamp not after the stream's previous one (a received stream whose
    /// timing moved back, or two packets rounding to one tick of the container's
    /// timebase) is moved to one tick after it, pts with it, so the muxer never refuses
    /// a packet for its timing.
    pub fn write(&mut self, handle: usize, mut pkt: Packet) -> Result<(), MediaError> {
        let (index, tb, last) = self.streams[handle];
        let stream_tb = self.octx.stream(index).map(|s| s.time_base()).unwrap_or(tb);
        pkt.set_stream(index);
        pkt.rescale_ts(tb, stream_tb);
        if let (Some(last), Some(dts)) = (last, pkt.dts()) {
            if dts <= last {
                let shift = last + 1 - dts;
                pkt.set_dts(Some(last + 1));
                pkt.set_pts(pkt.pts().map(|p| p + shift));
            }
        }
        self.streams[handle].2 = pkt.dts().or(last);
        self.packet_bytes += pkt.size() as u64;
        pkt.write_interleaved(&mut self.octx)
            .map_err(MediaError::ffmpeg("write a packet"))
    }

    /// Writes the trailer; the file is complete afterwards.
    pub fn finish(&mut self) -> Result<(), MediaError> {
        if !self.started {
            return Ok(());
        }
        self.started = false;
        // ffmpeg-next's write_trailer treats any non-zero return as an error, but the mov
        // muxer of FFmpeg 5.1 returns the size of the fragmented file's `mfra` box
        // (positive) on success. Only negative values are errors.
        // SAFETY: octx is a valid output context whose header was written (started).
        let ret = unsafe { ff::ffi::av_write_trailer(self.octx.as_mut_ptr()) };
        if ret < 0 {
            return Err(MediaError::Ffmpeg {
                context: "write trailer",
                source: ff::Error::from(ret),
            });
        }
        Ok(())
    }

    /// Bytes in the file now (`fstat` of the open descriptor; 0 if it fails).
    pub fn size_bytes(&self) -> u64 {
        match &self.file {
            Some(f) => f.metadata().map(|m| m.len()).unwrap_or(0),
            None => self.packet_bytes,
        }
    }
}
