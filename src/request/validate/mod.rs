//! Request validation: proto requests -> engine types ([`MixerSpec`], [`ContentUpdate`]).
//!
//! Pure functions (no IO; only the generated mixer id is random). Every error is a
//! [`FieldError`]: the request field path and what is wrong, displayed as e.g.
//! `video_file_cfg.layout_config[0].width: must be > 0, got 0`; the gRPC service answers
//! it with `INVALID_ARGUMENT` and that text (`api/status.rs`), `compose` prints it.
//! Nothing here depends on the gRPC layer. The rules are listed in docs/API.md
//! ("Validation rules"); each has a unit test in `tests/`.

pub mod field;
pub mod layout;
pub mod live;
pub mod output;
pub mod placeholder;
pub mod record;
pub mod snapshot;
pub mod source;
pub mod strings;

#[cfg(test)]
mod tests;

use std::time::Duration;

use crate::model::FieldError;

pub use layout::Canvas;

use crate::model::{ContentUpdate, Encoding, LayoutFill, MixerSpec, OutputSpec, SourceSpec};
use crate::proto;
use crate::request::OutputDefaults;

/// Validates a Create request and applies defaults (mixer id, bit rates, colour, path,
/// playout delay, stale timeout, layout); decodes placeholder pictures (CPU-bound: up to
/// 4096x4096 pixels each). Errors: a [`FieldError`] naming the field.
pub fn create_request(
    req: &proto::CreateCloudMixerRequest,
    defaults: &OutputDefaults,
) -> Result<MixerSpec, FieldError> {
    let mixer_id = output::mixer_id(&req.mixer_id)?;
    strings::oper_user_id(&req.oper_user_id)?;
    strings::text(
        "conference_id",
        &req.conference_id,
        strings::MAX_CONFERENCE_ID_LEN,
    )?;
    let conference_id = if req.conference_id.is_empty() {
        mixer_id.clone()
    } else {
        req.conference_id.clone()
    };
    let sources = source::sources(&req.sources, "sources", &[])?;
    let layout_sources = layout::LayoutSources::of(&sources);
    let cfg = req
        .video_file_cfg
        .as_ref()
        .ok_or_else(|| field::invalid("video_file_cfg", "must be set"))?;
    let enc = output::encoding(cfg, "video_file_cfg")?;
    let (rel_path, abs_path) = output::output_path(
        &cfg.svr_path_name,
        &mixer_id,
        &defaults.recordings_root,
        "video_file_cfg.svr_path_name",
    )?;
    let canvas = Canvas {
        width: enc.width,
        height: enc.height,
        background: enc.background,
    };
    let layout = match layout::requested(
        &cfg.layout_config,
        cfg.layout_preset.as_ref(),
        "video_file_cfg.",
        canvas,
        &layout_sources,
    )? {
        Some(l) => l,
        None => layout::default_layout(canvas, &layout_sources)?,
    };
    let layout_fill = layout::fill_rule(
        &cfg.layout_config,
        cfg.layout_preset.as_ref(),
        &layout,
        canvas,
    );
    let record = record::record(
        req.record_cfg.as_ref(),
        &enc,
        &defaults.single_path_template,
    )?;
    let media = record::mixed_media(&record, &sources);
    let (rel_path, abs_path) = record::mixed_path(media, rel_path, abs_path);
    let snapshots = snapshot::snapshots(cfg.snapshot_interval_secs, &rel_path, media, &record)?;
    let live_push_urls = live::live_push_urls(&cfg.live_push_urls, &record)?;
    let hls = live::hls(cfg.hls_segment_secs, &rel_path, &record)?;
    let playout_delay_ms = output::playout_delay_ms(req.playout_delay_ms)?;
    let stale_timeout_ms = output::stale_timeout_ms(req.stale_timeout_ms)?;
    Ok(MixerSpec {
        mixer_id,
        conference_id,
        oper_user_id: req.oper_user_id.clone(),
        sources,
        output: OutputSpec {
            media,
            snapshots,
            live_push_urls,
            hls,
            ..output_spec(&enc, rel_path, abs_path, defaults)
        },
        layout,
        layout_fill,
        playout_delay: Duration::from_millis(u64::from(playout_delay_ms)),
        stale_timeout: Duration::from_millis(u64::from(stale_timeout_ms)),
        max_picture_pixels: defaults.max_picture_pixels,
        record,
    })
}

/// The engine's [`OutputSpec`] from validated encoding settings and paths.
pub fn output_spec(
    enc: &Encoding,
    rel_path: String,
    abs_path: std::path::PathBuf,
    defaults: &OutputDefaults,
) -> OutputSpec {
    OutputSpec {
        rel_path,
        abs_path,
        root: defaults.recordings_root.clone(),
        encoding: enc.clone(),
        encoder_threads: defaults.encoder_threads,
        x264_preset: defaults.x264_preset.clone(),
        media: crate::model::OutputMedia::Av,
        snapshots: None,
        live_push_urls: Vec::new(),
        hls: None,
    }
}

/// What an Update is checked against: the mixer's canvas (size, background), its
/// current sources and how its current layout follows joins and leaves.
#[derive(Debug, Clone, Copy)]
pub struct Current<'a> {
    pub canvas: Canvas,
    pub sources: &'a [SourceSpec],
    pub layout_fill: &'a LayoutFill,
}

/// Validates an Update request (its `oper_user_id`; the `mixer_id` was checked by the
/// lookup, [`output::existing_mixer_id`]) against the mixer's current state. Sources in
/// `remove_camids` are removed before `add_sources` are added, so one request may
/// replace a source by removing and re-adding its camid. At most one host among the kept
/// and added sources. A preset without camids is filled with the video sources after the
/// update (the host first for `speaker`); screen and media regions resolve against them.
/// An update that adds or removes sources without a layout fills the current layout
/// again when it was filled from the sources ([`LayoutFill::FromSources`]: the Create
/// default or a preset naming no camids); explicit regions stay as they are.
/// Errors: a [`FieldError`] naming the field.
pub fn update_request(
    req: &proto::UpdateCloudMixerContentRequest,
    current: Current<'_>,
) -> Result<ContentUpdate, FieldError> {
    strings::oper_user_id(&req.oper_user_id)?;
    let current_camids: Vec<String> = current.sources.iter().map(|s| s.camid.clone()).collect();
    source::removals(&req.remove_camids, &current_camids)?;
    let kept: Vec<SourceSpec> = current
        .sources
        .iter()
        .filter(|s| !req.remove_camids.contains(&s.camid))
        .cloned()
        .collect();
    let add_sources = source::sources(&req.add_sources, "add_sources", &kept)?;
    let after: Vec<SourceSpec> = kept
        .into_iter()
        .chain(add_sources.iter().cloned())
        .collect();
    let after_layout = layout::LayoutSources::of(&after);
    let requested = layout::requested(
        &req.layout_config,
        req.layout_preset.as_ref(),
        "",
        current.canvas,
        &after_layout,
    )?;
    let joins_or_leaves = !req.add_sources.is_empty() || !req.remove_camids.is_empty();
    let (layout, layout_fill) = match requested {
        Some(l) => {
            let rule = layout::fill_rule(
                &req.layout_config,
                req.layout_preset.as_ref(),
                &l,
                current.canvas,
            );
            (Some(l), Some(rule))
        }
        None if joins_or_leaves => (
            layout::refill(current.layout_fill, current.canvas, &after_layout)?,
            None,
        ),
        None => (None, None),
    };
    let source_mix = source::source_mix(&req.source_mix, &after)?;
    Ok(ContentUpdate {
        layout,
        layout_fill,
        add_sources,
        remove_camids: req.remove_camids.clone(),
        source_mix,
    })
}

/// The sources of a mixer after `update` has been applied to `sources`.
pub fn apply_sources(sources: &[SourceSpec], update: &ContentUpdate) -> Vec<SourceSpec> {
    sources
        .iter()
        .filter(|s| !update.remove_camids.contains(&s.camid))
        .cloned()
        .chain(update.add_sources.iter().cloned())
        .map(|mut s| {
            if let Some((_, m)) = update.source_mix.iter().find(|(c, _)| *c == s.camid) {
                s.mix = *m;
            }
            s
        })
        .collect()
}
