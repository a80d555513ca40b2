//! Tile decorations and the canvas background picture of `create`: the speaking ring,
//! region borders and `--background-image` (read by the client and sent inline, like
//! `--placeholder-image`).

use std::path::{Path, PathBuf};

use clap::Args;
use tonic::Status;

use crate::media::still::MAX_STILL_BYTES;

/// `create`'s decoration flags (VideoFileCfg fields 10 to 13).
#[derive(Debug, Clone, Args)]
pub struct DecorationArgs {
    /// "#RRGGBB": a 4-pixel ring of this colour inside the active speaker's tiles
    /// (the speaker detected from the mixed audio); empty = no ring.
    #[arg(long, value_name = "#RRGGBB", default_value = "")]
    pub speaking_ring_color: String,
    /// "#RRGGBB": a border of this colour along the inside of every tile; empty = none.
    #[arg(long, value_name = "#RRGGBB", default_value = "")]
    pub region_border_color: String,
    /// Width of --region-border-color's border, pixels: even, 2..=16; 0 = default (2).
    #[arg(long, value_name = "PX", default_value_t = 0)]
    pub region_border_px: u32,
    /// A PNG or JPEG picture (at most 4 MiB, 4096x4096) stretched to the canvas and shown
    /// wherever no source picture is: outside the tiles, in bars, in empty tiles without
    /// a placeholder. The client reads the file and sends its bytes.
    #[arg(long, value_name = "FILE")]
    pub background_image: Option<PathBuf>,
}

impl DecorationArgs {
    /// The bytes of --background-image (empty without one). Errors: INVALID_ARGUMENT
    /// naming the flag when the file cannot be read or is larger than 4 MiB.
    pub fn background_image(&self) -> Result<Vec<u8>, Status> {
        match &self.background_image {
            Some(path) => read_picture("--background-image", path),
            None => Ok(Vec::new()),
        }
    }
}

/// The bytes of the picture `path`, given with `flag` (named in errors). Errors:
/// INVALID_ARGUMENT if it cannot be read or has more than [`MAX_STILL_BYTES`] bytes.
pub fn read_picture(flag: &str, path: &Path) -> Result<Vec<u8>, Status> {
    let bad = |m: String| Status::invalid_argument(format!("{flag}: {}: {m}", path.display()));
    let len = std::fs::metadata(path)
        .map_err(|e| bad(e.to_string()))?
        .len();
    if len > MAX_STILL_BYTES as u64 {
        return Err(bad(format!(
            "{len} bytes, at most {MAX_STILL_BYTES} (4 MiB)"
        )));
    }
    std::fs::read(path).map_err(|e| bad(e.to_string()))
}
