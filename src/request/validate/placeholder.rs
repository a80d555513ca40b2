//! `placeholder_image` of a region or a preset: inline PNG or JPEG bytes -> [`StillImage`].
//!
//! Rules: empty means no picture; otherwise at most
//! [`MAX_STILL_BYTES`](crate::media::still::MAX_STILL_BYTES) bytes (4 MiB), a PNG or JPEG
//! image, at most [`MAX_STILL_SIDE`](crate::media::still::MAX_STILL_SIDE) pixels wide and
//! high (4096). Transparency is
//! blended over the mixer's background colour. A request that sends the same bytes for
//! several regions has them decoded once and shared.

use std::collections::HashMap;

use crate::model::FieldError;

use super::field::invalid;
use crate::model::Rgb;
use crate::model::StillImage;

/// Decodes the placeholder pictures of one request, each distinct byte string once.
pub struct Placeholders<'a> {
    background: Rgb,
    seen: HashMap<&'a [u8], StillImage>,
}

impl<'a> Placeholders<'a> {
    /// A decoder whose pictures' transparency is blended over `background`.
    pub fn new(background: Rgb) -> Self {
        Self {
            background,
            seen: HashMap::new(),
        }
    }

    /// The picture of request field `f` (e.g. `video_file_cfg.layout_config[1].placeholder_image`);
    /// None for empty `bytes`. Errors: a [`FieldError`] naming `f`, e.g.
    /// `...placeholder_image: not a PNG or JPEG image: unknown format`.
    pub fn decode(&mut self, bytes: &'a [u8], f: &str) -> Result<Option<StillImage>, FieldError> {
        if bytes.is_empty() {
            return Ok(None);
        }
        if let Some(img) = self.seen.get(bytes) {
            return Ok(Some(img.clone()));
        }
        let img = StillImage::decode(bytes, self.background).map_err(|e| invalid(f, e))?;
        self.seen.insert(bytes, img.clone());
        Ok(Some(img))
    }
}
