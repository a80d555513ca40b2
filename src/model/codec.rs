//! Codecs and media kinds: what a source sends and which stream a datagram belongs to.

/// Video codecs a source may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VideoCodec {
    /// RFC 7741 payload.
    Vp8,
    /// RFC 6184 payload, packetization-mode 0 or 1.
    H264,
}

/// Audio codecs a source may send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AudioCodec {
    /// RFC 7587 payload, 48 kHz.
    Opus,
}

/// Which stream of a source (and which of its sockets) a datagram belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Medium {
    Video,
    Audio,
}
