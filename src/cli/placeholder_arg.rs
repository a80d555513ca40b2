//! `--placeholder-image FILE`: the client reads the picture and sends its bytes inline
//! (the daemon never reads files named in a request). The daemon checks the format and
//! the pixel limit; the client refuses early what it can see itself: a file larger than
//! [`MAX_STILL_BYTES`](crate::media::still::MAX_STILL_BYTES), or copies for every `--layout-json` region that would not fit in
//! one request ([`MAX_REQUEST_BYTES`]).

use std::path::Path;

use tonic::Status;

use crate::api::config::MAX_REQUEST_BYTES;
use crate::proto;
use crate::request::validate::layout::default_preset_name;

const FLAG: &str = "--placeholder-image";

/// Room left in a request for everything but the pictures, bytes.
const REQUEST_HEADROOM: usize = 64 * 1024;

/// The bytes of `path`, given with `--placeholder-image`. Errors: INVALID_ARGUMENT if it
/// cannot be read or has more than
/// [`MAX_STILL_BYTES`](crate::media::still::MAX_STILL_BYTES) bytes.
pub fn read(path: &Path) -> Result<Vec<u8>, Status> {
    crate::cli::decor_arg::read_picture(FLAG, path)
}

/// Checks that `copies` copies (one per region; at least one) of a picture of `len`
/// bytes fit in one request. Errors: INVALID_ARGUMENT.
pub fn check_request_size(len: usize, copies: usize) -> Result<(), Status> {
    let total = len.saturating_mul(copies.max(1));
    if total > MAX_REQUEST_BYTES - REQUEST_HEADROOM {
        return Err(Status::invalid_argument(format!(
            "{FLAG}: {copies} regions x {len} bytes exceed the {MAX_REQUEST_BYTES}-byte request \
             limit; use a smaller picture or --layout (a preset sends it once)"
        )));
    }
    Ok(())
}

/// The preset a picture given without a layout goes with: the daemon's default for
/// `video_sources` (None: update, which keeps the mixer's layout and so needs one).
/// Errors: INVALID_ARGUMENT.
pub fn default_preset(video_sources: Option<usize>) -> Result<proto::LayoutPreset, Status> {
    match video_sources {
        Some(n) if n > 0 => Ok(proto::LayoutPreset {
            name: default_preset_name(n).to_owned(),
            camids: Vec::new(),
            keep_aspect_ratio: Some(true),
            placeholder_image: Vec::new(),
        }),
        Some(_) => Err(Status::invalid_argument(format!(
            "{FLAG}: no region to show it in (no video source; give --layout or --layout-json)"
        ))),
        None => Err(Status::invalid_argument(format!(
            "{FLAG}: needs --layout or --layout-json (without them the layout in force, \
             placeholders included, is kept)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::cli::args::LayoutArgs;
    use crate::cli::layout_arg::from_args;
    use crate::media::still::MAX_STILL_BYTES;

    fn args(layout: Option<&str>, json: Option<&str>, image: &Path) -> LayoutArgs {
        LayoutArgs {
            layout: layout.map(str::to_owned),
            layout_json: json.map(str::to_owned),
            keep_aspect_ratio: Some(true),
            placeholder_image: Some(image.to_path_buf()),
        }
    }

    fn file(bytes: &[u8]) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(bytes).unwrap();
        f
    }

    #[test]
    fn picture_goes_on_the_preset_or_every_region() {
        let f = file(b"picture bytes");
        let (regions, preset) =
            from_args(&args(Some("grid"), None, f.path()), Some(2), None).unwrap();
        assert!(regions.is_empty());
        assert_eq!(preset.unwrap().placeholder_image, b"picture bytes");
        let json = r#"[{"top":0,"left":0,"width":2,"height":2,"param":{"camid":"a"}},
                       {"top":0,"left":2,"width":2,"height":2,"param":{"camid":"b"}}]"#;
        let (regions, preset) = from_args(&args(None, Some(json), f.path()), None, None).unwrap();
        assert!(preset.is_none());
        assert!(regions
            .iter()
            .all(|r| r.placeholder_image == b"picture bytes"));
    }

    #[test]
    fn without_a_layout_create_uses_the_default_preset_and_update_refuses() {
        let f = file(b"x");
        let (_, preset) = from_args(&args(None, None, f.path()), Some(2), None).unwrap();
        let p = preset.unwrap();
        assert_eq!(
            (p.name.as_str(), p.keep_aspect_ratio),
            ("side-by-side", Some(true))
        );
        let (_, preset) = from_args(&args(None, None, f.path()), Some(3), None).unwrap();
        assert_eq!(preset.unwrap().name, "grid");
        let e = from_args(&args(None, None, f.path()), None, None).unwrap_err();
        assert!(
            e.message()
                .starts_with("--placeholder-image: needs --layout"),
            "{e:?}"
        );
        let e = from_args(&args(None, None, f.path()), Some(0), None).unwrap_err();
        assert!(e.message().contains("no video source"), "{e:?}");
    }

    #[test]
    fn file_larger_than_the_limit_is_not_read() {
        let f = file(&vec![0u8; MAX_STILL_BYTES + 1]);
        let e = read(f.path()).unwrap_err();
        assert_eq!(e.code(), tonic::Code::InvalidArgument);
        assert!(
            e.message()
                .ends_with("4194305 bytes, at most 4194304 (4 MiB)"),
            "{e:?}"
        );
        assert!(read(Path::new("/nonexistent/picture.png")).is_err());
    }

    #[test]
    fn copies_must_fit_in_one_request() {
        assert!(check_request_size(MAX_STILL_BYTES, 1).is_ok());
        assert!(check_request_size(MAX_STILL_BYTES, 3).is_ok());
        let e = check_request_size(MAX_STILL_BYTES, 4).unwrap_err();
        assert!(e.message().contains("4 regions x 4194304 bytes"), "{e:?}");
    }
}
