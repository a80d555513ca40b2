//! Output settings of `video_file_cfg` (size, rate, bit rates, colour, file path), the
//! mixer id, the playout delay and the stale timeout.
//!
//! These validators are shared by the gRPC service and the offline `compose` command so
//! that both report errors the same way.

use std::path::{Path, PathBuf};

use crate::model::{FieldError, STATE_DIR_NAME};

use super::field::{self, invalid};
use super::strings::{self, shown, MAX_PATH_COMPONENT_LEN};
use crate::audio::loudness::TARGET_LUFS_RANGE as LOUDNESS_RANGE;
use crate::model::{
    Border, Encoding, Rgb, DEFAULT_AUDIO_BPS, DEFAULT_PLAYOUT_DELAY_MS, DEFAULT_STALE_TIMEOUT_MS,
    DEFAULT_VIDEO_BPS,
};
use crate::proto;

/// Largest canvas width, pixels.
pub const MAX_WIDTH: u32 = 3840;
/// Largest canvas height, pixels.
pub const MAX_HEIGHT: u32 = 2160;
/// Highest output frame rate, frames per second.
pub const MAX_FPS: u32 = 60;
/// Accepted H.264 bit rates, bit/s (0 in a request means [`DEFAULT_VIDEO_BPS`]).
pub const VIDEO_BPS_RANGE: (u32, u32) = (10_000, 100_000_000);
/// Accepted AAC bit rates, bit/s (0 in a request means [`DEFAULT_AUDIO_BPS`]).
pub const AUDIO_BPS_RANGE: (u32, u32) = (8_000, 320_000);
/// Longest playout delay, ms.
pub const MAX_PLAYOUT_DELAY_MS: u32 = 5_000;
/// Accepted stale timeouts, ms (0 in a request means [`DEFAULT_STALE_TIMEOUT_MS`]).
pub const STALE_TIMEOUT_MS_RANGE: (u32, u32) = (100, 60_000);
/// Longest mixer id, bytes.
pub const MAX_MIXER_ID_LEN: usize = 64;
/// Longest `svr_path_name`, bytes.
pub const MAX_PATH_LEN: usize = 1024;
/// Accepted `region_border_px` (even; 0 in a request means [`DEFAULT_BORDER_PX`]).
pub const BORDER_PX_RANGE: (u32, u32) = (2, 16);
/// Tile border width when a request gives a colour and no width, pixels.
pub const DEFAULT_BORDER_PX: u32 = 2;

/// Validates size, frame rate, bit rates and colour of `cfg` (request field `prefix`,
/// normally `video_file_cfg`). Errors: a [`FieldError`] naming e.g. `video_file_cfg.v_width`.
pub fn encoding(cfg: &proto::VideoFileCfg, prefix: &str) -> Result<Encoding, FieldError> {
    let f = |name: &str| field::join(prefix, name);
    let width = dimension(cfg.v_width, MAX_WIDTH, &f("v_width"))?;
    let height = dimension(cfg.v_height, MAX_HEIGHT, &f("v_height"))?;
    if cfg.v_fps == 0 || cfg.v_fps > MAX_FPS {
        return Err(invalid(
            f("v_fps"),
            format!("must be 1..={MAX_FPS}, got {}", cfg.v_fps),
        ));
    }
    let video_bps = bit_rate(cfg.v_bps, DEFAULT_VIDEO_BPS, VIDEO_BPS_RANGE, &f("v_bps"))?;
    let audio_bps = bit_rate(cfg.a_bps, DEFAULT_AUDIO_BPS, AUDIO_BPS_RANGE, &f("a_bps"))?;
    let background = color(&cfg.background_color, &f("background_color"))?.unwrap_or_default();
    let speaking_ring = color(&cfg.speaking_ring_color, &f("speaking_ring_color"))?;
    let border = border(cfg, &f)?;
    let loudness_target_lufs = match cfg.loudness_target_lufs {
        0 => None,
        t if (LOUDNESS_RANGE.0..=LOUDNESS_RANGE.1).contains(&t) => Some(t),
        t => {
            return Err(invalid(
                f("loudness_target_lufs"),
                format!(
                    "must be 0 (off) or {}..={} LUFS, got {t}",
                    LOUDNESS_RANGE.0, LOUDNESS_RANGE.1
                ),
            ))
        }
    };
    let background_image = super::placeholder::Placeholders::new(background)
        .decode(&cfg.background_image, &f("background_image"))?;
    Ok(Encoding {
        width,
        height,
        fps: cfg.v_fps,
        video_bps,
        audio_bps,
        background,
        speaking_ring,
        border,
        background_image,
        loudness_target_lufs,
    })
}

/// The tile border of `cfg`: `region_border_color`, with `region_border_px` (0 = the
/// default width; refused without a colour, odd or out of [`BORDER_PX_RANGE`]).
fn border(
    cfg: &proto::VideoFileCfg,
    f: &dyn Fn(&str) -> String,
) -> Result<Option<Border>, FieldError> {
    let colour = color(&cfg.region_border_color, &f("region_border_color"))?;
    let px = cfg.region_border_px;
    let (lo, hi) = BORDER_PX_RANGE;
    if px != 0 && (px < lo || px > hi || px % 2 == 1) {
        return Err(invalid(
            f("region_border_px"),
            format!("must be an even number of pixels in {lo}..={hi} (0 = {DEFAULT_BORDER_PX}), got {px}"),
        ));
    }
    match colour {
        Some(colour) => Ok(Some(Border {
            colour,
            px: if px == 0 { DEFAULT_BORDER_PX } else { px },
        })),
        None if px != 0 => Err(invalid(
            f("region_border_px"),
            "needs region_border_color (the border's colour)",
        )),
        None => Ok(None),
    }
}

/// An optional "#RRGGBB" colour (request field `f`); empty = None.
fn color(value: &str, f: &str) -> Result<Option<Rgb>, FieldError> {
    strings::text(f, value, strings::MAX_COLOR_LEN)?;
    if value.is_empty() {
        return Ok(None);
    }
    Rgb::parse_hex(value)
        .map(Some)
        .ok_or_else(|| invalid(f, format!("must be \"#RRGGBB\", got {}", shown(value))))
}

fn dimension(v: u32, max: u32, f: &str) -> Result<u32, FieldError> {
    if v == 0 {
        return Err(invalid(f, "must be > 0"));
    }
    if !v.is_multiple_of(2) {
        return Err(invalid(f, format!("must be even, got {v}")));
    }
    if v > max {
        return Err(invalid(f, format!("must be at most {max}, got {v}")));
    }
    Ok(v)
}

fn bit_rate(v: u32, default: u32, (lo, hi): (u32, u32), f: &str) -> Result<u32, FieldError> {
    match v {
        0 => Ok(default),
        v if (lo..=hi).contains(&v) => Ok(v),
        v => Err(invalid(
            f,
            format!("must be 0 (default {default}) or {lo}..={hi} bit/s, got {v}"),
        )),
    }
}

/// The mixer id of a Create: `[A-Za-z0-9._-]{1,64}`, not `.` or `..` (it names the
/// default output file `<mixer_id>.mp4`); empty generates a UUID v4.
/// Errors: a [`FieldError`] naming `mixer_id`.
pub fn mixer_id(id: &str) -> Result<String, FieldError> {
    if id.is_empty() {
        return Ok(uuid::Uuid::new_v4().to_string());
    }
    existing_mixer_id(id)?;
    Ok(id.to_owned())
}

/// The `mixer_id` of a lookup (Update, Destroy, Get, WatchEvents with an id): the rules
/// of [`mixer_id`], and not empty. Checked before the lookup, so an unknown id's
/// NOT_FOUND never echoes an unbounded value. Errors: a [`FieldError`] naming `mixer_id`.
pub fn existing_mixer_id(id: &str) -> Result<(), FieldError> {
    if id.is_empty() {
        return Err(invalid("mixer_id", "must not be empty"));
    }
    if id == "." || id == ".." {
        return Err(invalid("mixer_id", format!("{id:?} is not allowed")));
    }
    if id.len() > MAX_MIXER_ID_LEN {
        return Err(invalid(
            "mixer_id",
            format!("at most {MAX_MIXER_ID_LEN} characters, got {}", id.len()),
        ));
    }
    if let Some(c) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
    {
        return Err(invalid(
            "mixer_id",
            format!(
                "only letters, digits, '.', '_' and '-' are allowed, got {c:?} in {}",
                shown(id)
            ),
        ));
    }
    Ok(())
}

/// Playout delay in ms: 0 means [`DEFAULT_PLAYOUT_DELAY_MS`]; at most [`MAX_PLAYOUT_DELAY_MS`].
pub fn playout_delay_ms(v: u32) -> Result<u32, FieldError> {
    match v {
        0 => Ok(DEFAULT_PLAYOUT_DELAY_MS),
        v if v <= MAX_PLAYOUT_DELAY_MS => Ok(v),
        v => Err(invalid(
            "playout_delay_ms",
            format!("must be at most {MAX_PLAYOUT_DELAY_MS} ms, got {v}"),
        )),
    }
}

/// Stale timeout in ms: 0 means [`DEFAULT_STALE_TIMEOUT_MS`]; otherwise within
/// [`STALE_TIMEOUT_MS_RANGE`]. Errors: a [`FieldError`] naming `stale_timeout_ms`.
pub fn stale_timeout_ms(v: u32) -> Result<u32, FieldError> {
    let (lo, hi) = STALE_TIMEOUT_MS_RANGE;
    match v {
        0 => Ok(DEFAULT_STALE_TIMEOUT_MS),
        v if (lo..=hi).contains(&v) => Ok(v),
        v => Err(invalid(
            "stale_timeout_ms",
            format!("must be 0 (default {DEFAULT_STALE_TIMEOUT_MS}) or {lo}..={hi} ms, got {v}"),
        )),
    }
}

/// Resolves `svr_path_name` (request field `f`) under `root`: empty means
/// `<mixer_id>.mp4`; one leading `/` names the recordings root itself, as Cloudroom's
/// `svrPathName` ("/2021-09-24/x.mp4" is `<root>/2021-09-24/x.mp4`, never the host's
/// `/2021-09-24`). The rest must be relative, use `/` as separator, have no empty,
/// `.` or `..` component (so it cannot leave `root` lexically; symlinks are refused when
/// the file is created, `output/confined.rs`), no component over
/// [`MAX_PATH_COMPONENT_LEN`] bytes, and end in `.mp4`.
/// Returns (relative path, absolute path). Errors: a [`FieldError`] naming `f`.
pub fn output_path(
    svr_path_name: &str,
    mixer_id: &str,
    root: &Path,
    f: &str,
) -> Result<(String, PathBuf), FieldError> {
    let rel = match svr_path_name {
        "" => format!("{mixer_id}.mp4"),
        p => p.strip_prefix('/').unwrap_or(p).to_owned(),
    };
    relative_mp4(&rel, f)?;
    let abs = root.join(&rel);
    Ok((rel, abs))
}

/// Checks that `rel` is a relative `/`-separated path ending in `.mp4` that cannot
/// escape the directory it is joined to.
fn relative_mp4(rel: &str, f: &str) -> Result<(), FieldError> {
    if rel.len() > MAX_PATH_LEN {
        return Err(invalid(
            f,
            format!("at most {MAX_PATH_LEN} bytes, got {}", rel.len()),
        ));
    }
    if rel.chars().any(char::is_control) {
        return Err(invalid(f, format!("control characters in {rel:?}")));
    }
    if rel.contains('\\') {
        return Err(invalid(f, format!("use '/' as separator, got {rel:?}")));
    }
    if rel.starts_with('/') || Path::new(rel).is_absolute() {
        return Err(invalid(
            f,
            format!("must be relative to the recordings root, got {rel:?}"),
        ));
    }
    for part in rel.split('/') {
        match part {
            "" => return Err(invalid(f, format!("empty path component in {rel:?}"))),
            "." | ".." => {
                return Err(invalid(
                    f,
                    format!("{part:?} component not allowed in {rel:?}"),
                ))
            }
            p if p.len() > MAX_PATH_COMPONENT_LEN => {
                return Err(invalid(
                    f,
                    format!(
                        "a path component is at most {MAX_PATH_COMPONENT_LEN} bytes, got {}",
                        p.len()
                    ),
                ))
            }
            _ => {}
        }
    }
    if rel.split('/').next() == Some(STATE_DIR_NAME) {
        return Err(invalid(
            f,
            format!("{STATE_DIR_NAME:?} is the daemon's state directory, got {rel:?}"),
        ));
    }
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let is_mp4 = name.len() > 4 && name.to_ascii_lowercase().ends_with(".mp4");
    if !is_mp4 {
        return Err(invalid(f, format!("must end in \".mp4\", got {rel:?}")));
    }
    Ok(())
}
