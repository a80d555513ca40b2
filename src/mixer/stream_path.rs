//! The IO ends of a source's stream, around the receive state machine
//! ([`crate::receive`]): the decoder that turns its access units into pictures or PCM on
//! the source's slot, and the [`FeedbackSink`] its RTCP leaves through.
//!
//! Feedback: for plain RTP a UDP socket (our RTCP port) sending to the address the state
//! machine names (the sender's RTCP address, else its RTP address's port + 1); for
//! WebRTC the source's current peer connection (SRTCP), where the `webrtc` crate's
//! interceptors send the receiver reports and NACKs.

use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::Ordering;

use ffmpeg_next::frame;

use crate::ingest::webrtc::PeerLink;
use crate::media::decode::{AudioDecoder, VideoDecoder};
use crate::media::{picture_size, MediaError};
use crate::mixer::audio_stage::AudioStage;
use crate::mixer::slot::SourceSlot;
use crate::model::{AudioCodec, SourceCounters, VideoCodec};
use crate::output::single::SingleRecorder;
use crate::receive::TimedUnit;
use crate::time::MixerTime;

/// Where a stream's RTCP feedback goes.
pub enum FeedbackSink {
    /// Nowhere (no socket).
    None,
    /// Plain RTP: from our RTCP socket to the sender's RTCP address.
    Udp(UdpSocket),
    /// WebRTC: over the source's current peer connection.
    Peer(PeerLink),
}

impl FeedbackSink {
    /// Sends one compound RTCP packet; `to` is the UDP destination. True if sent.
    pub fn send(&self, to: Option<SocketAddr>, msg: &[u8]) -> bool {
        match self {
            FeedbackSink::None => false,
            FeedbackSink::Udp(sock) => to.is_some_and(|p| sock.send_to(msg, p).is_ok()),
            FeedbackSink::Peer(link) => link.send_rtcp(msg),
        }
    }

    /// True for a WebRTC peer connection (which sends its own receiver reports).
    pub fn is_peer(&self) -> bool {
        matches!(self, FeedbackSink::Peer(_))
    }
}

/// A video stream's decoder, its picture buffer and its picture size limit.
pub struct VideoStream {
    dec: VideoDecoder,
    pics: Vec<frame::Video>,
    codec: VideoCodec,
    max_pixels: u64,
}

/// The decoder of one stream, writing onto the source's slot.
pub enum StreamDecoder {
    /// Video: decoded pictures go to the slot's frame queue.
    Video(Box<VideoStream>),
    /// Audio: decoded, concealed and placed PCM goes to the slot's ring.
    Audio(Box<AudioStage>),
}

impl StreamDecoder {
    /// A video decoder for `codec` refusing pictures above `max_pixels` (width x
    /// height). Errors: it cannot be opened.
    pub fn video(codec: VideoCodec, max_pixels: u64) -> Result<Self, MediaError> {
        Ok(Self::Video(Box::new(VideoStream {
            dec: VideoDecoder::new(codec, max_pixels)?,
            pics: Vec::new(),
            codec,
            max_pixels,
        })))
    }

    /// An audio stage for `codec`. Errors: the decoder cannot be opened.
    pub fn audio(codec: AudioCodec) -> Result<Self, MediaError> {
        Ok(Self::Audio(Box::new(AudioStage::new(AudioDecoder::new(
            codec,
        )?))))
    }

    /// Decodes one access unit onto `slot`. Decoder errors count in `packets_dropped` and `drops_decode_error`.
    /// `recorder`: the participant's own files, which take the decoded PCM.
    pub fn decode(
        &mut self,
        unit: &TimedUnit,
        slot: &SourceSlot,
        counters: &SourceCounters,
        mut recorder: Option<&mut SingleRecorder>,
    ) {
        match self {
            StreamDecoder::Video(v) => {
                let VideoStream {
                    dec,
                    pics,
                    codec,
                    max_pixels,
                } = &mut **v;
                if let Some(size) = picture_size::claimed(*codec, &unit.data) {
                    if picture_size::exceeds(size, *max_pixels) {
                        SourceCounters::inc(&counters.pictures_oversized);
                        tracing::debug!(
                            width = size.0,
                            height = size.1,
                            max_pixels = *max_pixels,
                            "picture above the limit refused"
                        );
                        return;
                    }
                }
                let t_us = unit.mixer_time.as_micros();
                if dec.decode(&unit.data, t_us, pics).is_err() {
                    SourceCounters::inc(&counters.packets_dropped);
                    SourceCounters::inc(&counters.drops_decode_error);
                }
                for pic in pics.drain(..) {
                    SourceCounters::inc(&counters.video_frames_decoded);
                    let (w, h) = (pic.width(), pic.height());
                    let old_w = counters.width.swap(w, Ordering::Relaxed);
                    let old_h = counters.height.swap(h, Ordering::Relaxed);
                    if (old_w, old_h) != (w, h) && old_w != 0 {
                        tracing::info!(
                            from = %format_args!("{old_w}x{old_h}"),
                            to = %format_args!("{w}x{h}"),
                            "video resolution changed"
                        );
                    }
                    let t = pic.pts().map_or(unit.mixer_time, MixerTime::from_micros);
                    if let Some(r) = recorder.as_deref_mut() {
                        r.picture(t, &pic);
                    }
                    slot.frames.lock().push(t, pic);
                }
            }
            StreamDecoder::Audio(a) => a.decode(
                &unit.data,
                unit.rtp_timestamp,
                unit.mixer_time,
                unit.lost_before,
                (slot, counters),
                recorder,
            ),
        }
    }

    /// Forgets the stream's position (after an SSRC change).
    pub fn reset(&mut self) {
        if let StreamDecoder::Audio(a) = self {
            a.reset();
        }
    }
}
