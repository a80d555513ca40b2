//! JPEG snapshots of the composite (issue 14: Agora's screenshots, LiveKit's image
//! output), taken from the pictures the encoder gets, so they show exactly what the file
//! shows.
//!
//! Which pictures: output picture `n` (pts `n` at 1/fps) is snapshot `n / every` when
//! `n` is a multiple of `every = interval_s * fps` ([`due`], sans IO): snapshot `k` is
//! the picture at `k * interval_s` seconds of the file, the first one at 0 s. Where:
//! `<rel_dir>/<k, 6 digits>.jpg` beneath the recordings root, created through its handle
//! like the file ([`super::confined`]). A snapshot that cannot be encoded or written is
//! logged, never an output error: the recording goes on. Each one is encoded on the mixer's tick thread ([`crate::media::jpeg`]).

use std::io::Write;
use std::path::Path;

use ffmpeg_next::frame;

use crate::media::jpeg;
use crate::model::{RecordingsRoot, SnapshotSpec};

/// The snapshot index of output picture `n` when one is due (every `every` pictures,
/// from picture 0); None otherwise or when `every` is 0.
pub fn due(n: u64, every: u64) -> Option<u64> {
    (every > 0 && n.is_multiple_of(every)).then(|| n / every)
}

/// The file name of snapshot `k`: six digits (more past 999999), `.jpg`.
pub fn file_name(k: u64) -> String {
    format!("{k:06}.jpg")
}

/// The snapshots of one composite; see the module docs.
pub struct Snapshots {
    root: RecordingsRoot,
    rel_dir: String,
    /// Output pictures between snapshots (interval x fps).
    every: u64,
}

impl Snapshots {
    /// Snapshots per `spec` of an output of `fps` frames/s beneath `root`.
    pub fn new(spec: &SnapshotSpec, fps: u32, root: RecordingsRoot) -> Self {
        Self {
            root,
            rel_dir: spec.rel_dir.clone(),
            every: u64::from(spec.interval_s) * u64::from(fps),
        }
    }

    /// Takes output picture `n` (YUV420P, canvas size) if a snapshot is due.
    pub fn picture(&self, picture: &frame::Video, n: u64) {
        let Some(k) = due(n, self.every) else {
            return;
        };
        let rel = format!("{}/{}", self.rel_dir, file_name(k));
        match self.write(picture, &rel) {
            Ok(bytes) => tracing::debug!(path = %rel, bytes, "snapshot written"),
            Err(e) => {
                tracing::warn!(path = %rel, error = %e, "snapshot not written; the recording goes on")
            }
        }
    }

    fn write(&self, picture: &frame::Video, rel: &str) -> Result<usize, String> {
        let bytes = jpeg::encode(picture, jpeg::DEFAULT_QUALITY).map_err(|e| e.to_string())?;
        let mut file = super::confined::create_new(&self.root, Path::new(rel), rel)
            .map_err(|e| e.to_string())?;
        file.write_all(&bytes).map_err(|e| e.to_string())?;
        Ok(bytes.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_k_is_the_picture_at_k_intervals() {
        // 2 s at 15 fps: pictures 0, 30, 60 are snapshots 0, 1, 2.
        let got: Vec<_> = (0..61).filter_map(|n| due(n, 30).map(|k| (n, k))).collect();
        assert_eq!(got, [(0, 0), (30, 1), (60, 2)]);
        assert_eq!(due(0, 0), None, "no interval, no snapshots");
        assert_eq!(file_name(7), "000007.jpg");
        assert_eq!(file_name(1_234_567), "1234567.jpg");
    }
}
