//! `compose`: offline mixing of media files into one MP4 with the live mixer's
//! compositor and encoder ([`crate::mixer::offline::run`]).
//!
//! Size, rate, colour and layout go through the same validators as the gRPC API
//! ([`crate::request::validate`]), so errors read the same (e.g.
//! `video_file_cfg.v_width: must be even, got 641`). Nothing here imports the gRPC
//! service (`api/`); errors print as statuses like every CLI error.

use std::collections::HashSet;
use std::path::Path;

use tonic::Status;

use crate::cli::args::ComposeArgs;
use crate::cli::{json, layout_arg, output};
use crate::mixer::offline::{self, OfflineInput, OfflineJob};
use crate::model::{MixerError, OutputCause, RecordingsRoot};
use crate::proto;
use crate::request::validate::{self, field, Canvas};
use crate::request::{convert, OutputDefaults};

/// Builds the job from the flags. Errors: INVALID_ARGUMENT naming the field or flag,
/// ALREADY_EXISTS if `--out` exists and `--force` is not given.
pub fn job(a: &ComposeArgs) -> Result<OfflineJob, Status> {
    let mut seen = HashSet::new();
    let mut inputs = Vec::with_capacity(a.input.len());
    for (i, (camid, path)) in a.input.iter().enumerate() {
        let f = field::index("input", i);
        field::camid(&f, camid)?;
        if !seen.insert(camid.as_str()) {
            return Err(field::invalid(f, format!("duplicate camid {camid:?}")).into());
        }
        if !path.is_file() {
            return Err(field::invalid(f, format!("{} is not a file", path.display())).into());
        }
        inputs.push(OfflineInput {
            camid: camid.clone(),
            path: path.clone(),
        });
    }
    let camids: Vec<String> = inputs.iter().map(|i| i.camid.clone()).collect();
    let (layout_config, layout_preset) =
        layout_arg::from_args(&a.layout, Some(camids.len()), None)?;
    let cfg = proto::VideoFileCfg {
        v_width: a.picture.size.0,
        v_height: a.picture.size.1,
        v_fps: a.picture.fps,
        v_bps: a.picture.bps,
        a_bps: a.picture.audio_bps,
        background_color: a.picture.background.clone(),
        layout_config,
        layout_preset,
        ..Default::default()
    };
    let enc = validate::output::encoding(&cfg, "video_file_cfg")?;
    let canvas = Canvas {
        width: enc.width,
        height: enc.height,
        background: enc.background,
    };
    let sources = validate::layout::LayoutSources::cameras(&camids);
    let requested = validate::layout::requested(
        &cfg.layout_config,
        cfg.layout_preset.as_ref(),
        "video_file_cfg.",
        canvas,
        &sources,
    )?;
    let layout = match requested {
        Some(l) => l,
        None => validate::layout::default_layout(canvas, &sources)?,
    };
    let abs = out_path(&a.out, a.force)?;
    let root = out_root(&abs, a.force)?;
    let defaults = OutputDefaults {
        recordings_root: root,
        x264_preset: a.x264_preset.clone(),
        encoder_threads: a.encoder_threads,
        max_picture_pixels: crate::model::DEFAULT_MAX_PICTURE_PIXELS,
        single_path_template: crate::model::record::DEFAULT_SINGLE_PATH_TEMPLATE.to_owned(),
    };
    let rel = a.out.display().to_string();
    Ok(OfflineJob {
        inputs,
        layout,
        output: validate::output_spec(&enc, rel, abs, &defaults),
        max_duration_ms: a.max_duration_ms,
    })
}

/// `--out` made absolute; must end in `.mp4` and not exist unless `force`.
fn out_path(out: &Path, force: bool) -> Result<std::path::PathBuf, Status> {
    let is_mp4 = out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("mp4"));
    if !is_mp4 {
        let got = out.display();
        return Err(field::invalid("--out", format!("must end in \".mp4\", got {got}")).into());
    }
    if out.exists() && !force {
        return Err(Status::already_exists(format!(
            "--out: {} exists (use --force to replace it)",
            out.display()
        )));
    }
    std::path::absolute(out).map_err(|e| field::invalid("--out", e).into())
}

/// The directory of `abs` (the `--out` file; created if missing), opened as the root the output is created
/// beneath (no symlink followed below it, create-new: `output/confined.rs`). With
/// `force`, an existing file of that name is removed through the handle first, so the
/// create-new open still never writes through a planted symlink.
/// Errors: INVALID_ARGUMENT naming `--out` (directory not creatable, file not removable).
fn out_root(abs: &Path, force: bool) -> Result<RecordingsRoot, Status> {
    let bad = |e: std::io::Error| field::invalid("--out", format!("{}: {e}", abs.display()));
    let (Some(dir), Some(name)) = (abs.parent(), abs.file_name()) else {
        return Err(field::invalid("--out", "must name a file").into());
    };
    // Like `serve --recordings-dir`, the root itself is created by path at start.
    std::fs::create_dir_all(dir).map_err(bad)?;
    let root = RecordingsRoot::open(dir).map_err(bad)?;
    if force {
        match root.dir().remove_file(name) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(bad(e).into()),
        }
    }
    Ok(root)
}

/// `compose`: runs the job on a blocking thread and prints the final output info.
pub async fn run(a: ComposeArgs) -> Result<(), Status> {
    let job = job(&a)?;
    let info = tokio::task::spawn_blocking(move || offline::run(job))
        .await
        .map_err(|e| Status::internal(format!("offline mixer failed unexpectedly: {e}")))?
        .map_err(status)?;
    let info = convert::output_info(&info);
    if a.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&json::output_info(&info)).unwrap_or_default()
        );
    } else {
        println!("{}", output::output_info(&info));
        println!("{}", info.abs_path);
    }
    Ok(())
}

/// An engine error as `compose` reports it: an `--out` that cannot name a file (a parent
/// is a file, ...) names the flag instead of the API's field.
fn status(e: MixerError) -> Status {
    match e {
        MixerError::Output {
            cause: OutputCause::BadPath,
            ..
        } => Status::invalid_argument(format!("--out: {e}")),
        e => e.into(),
    }
}
