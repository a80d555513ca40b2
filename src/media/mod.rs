//! Codec glue around ffmpeg: decoding, encoding, muxing.
