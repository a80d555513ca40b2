//! At startup: the recordings an earlier daemon process left unfinished, from the
//! recording journal ([`crate::api::journal`]), listed as INTERRUPTED mixers with the
//! playable span of their files ([`crate::media::probe`]), and announced on the event
//! bus (`StateChanged` INTERRUPTED, then `OutputInfoChanged`). Their files are kept:
//! the registry holds their paths and a Create never overwrites an existing file.

use std::path::Path;

use crate::api::journal::{self, Found, Journal, Record, Recovery};
use crate::api::registry::Registry;
use crate::events::{EventBus, EventKind, MixerState, OutputInfo, OutputStatus};
use crate::layout::Layout;
use crate::media::probe;
use crate::mixer::MixerSnapshot;
use crate::model::{Encoding, OutputSpec, RecordingsRoot, Rgb};

/// Why an interrupted recording's output is not final (its `error_message`).
pub const INTERRUPTED_MESSAGE: &str =
    "not finalized: the daemon ended while recording (crash, kill or shutdown timeout); the file plays up to output.duration_ms";

/// Lists and announces every interrupted recording in `journal`, probing the files of
/// those found for the first time beneath `root`; forgets records found by an earlier
/// start more than `retention_ms` before `now_unix_ms`. Returns how many were listed.
/// A journal that cannot be read is logged (the daemon still starts).
pub fn recover(
    journal: &Journal,
    registry: &Registry,
    bus: &EventBus,
    root: &RecordingsRoot,
    now_unix_ms: i64,
    retention_ms: i64,
) -> usize {
    let records = match journal.records() {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, dir = %journal.dir().display(), "cannot read the recording journal");
            return 0;
        }
    };
    let mut listed = 0;
    for (marker, mut record) in records {
        let found = match journal::decide(&record, now_unix_ms, retention_ms) {
            Recovery::Forget => {
                journal.end(&marker);
                continue;
            }
            Recovery::Report(found) => found,
            Recovery::Probe => {
                let found = probe_file(&root.join(&record.rel_path), now_unix_ms);
                record.interrupted = Some(found);
                if let Err(e) = journal.write(&marker, &record) {
                    tracing::warn!(error = %e, "cannot update the recording journal");
                }
                found
            }
        };
        tracing::warn!(
            mixer_id = ?record.mixer_id,
            path = ?record.rel_path,
            duration_ms = found.duration_ms,
            size_bytes = found.size_bytes,
            "recording interrupted by an earlier daemon exit"
        );
        let (output, last) = interrupted(&record, root, found);
        let info = last.output.clone();
        let state = EventKind::StateChanged {
            state: MixerState::Interrupted,
            error_code: 0,
            error_message: INTERRUPTED_MESSAGE.into(),
            oper_user_id: record.oper_user_id.clone(),
        };
        let id = &record.mixer_id;
        if registry.insert_ended(&record, output, last) {
            listed += 1;
            bus.emit(id, state);
            bus.emit(id, EventKind::OutputInfoChanged(info));
        } else {
            tracing::warn!(mixer_id = ?id, path = ?record.rel_path, "an interrupted recording's mixer id is listed already; only logged");
        }
    }
    listed
}

/// What the file holds now: its size and playable span (0 when it does not open).
fn probe_file(path: &Path, now_unix_ms: i64) -> Found {
    let size_bytes = std::fs::symlink_metadata(path).map_or(0, |m| m.len());
    let duration_ms = if size_bytes == 0 {
        0
    } else {
        match probe::playable(path) {
            Ok(p) => p.duration_ms,
            Err(e) => {
                tracing::warn!(error = %e, path = %path.display(), "interrupted recording does not open");
                0
            }
        }
    };
    Found {
        found_unix_ms: now_unix_ms,
        duration_ms,
        size_bytes,
    }
}

/// The listing of an interrupted recording: its output and its final snapshot.
fn interrupted(
    record: &Record,
    root: &RecordingsRoot,
    found: Found,
) -> (OutputSpec, MixerSnapshot) {
    let abs_path = root.join(&record.rel_path);
    let output = OutputSpec {
        rel_path: record.rel_path.clone(),
        abs_path: abs_path.clone(),
        encoding: Encoding {
            width: record.width,
            height: record.height,
            fps: record.fps,
            video_bps: 0,
            audio_bps: 0,
            background: Rgb::default(),
            speaking_ring: None,
            border: None,
            background_image: None,
            loudness_target_lufs: None,
        },
        encoder_threads: 0,
        x264_preset: String::new(),
        media: crate::model::record::media_of_path(&record.rel_path),
        snapshots: None,
        live_push_urls: Vec::new(),
        hls: None,
        root: root.clone(),
    };
    let last = MixerSnapshot {
        state: MixerState::Interrupted,
        error_code: 0,
        error_message: INTERRUPTED_MESSAGE.into(),
        output: OutputInfo {
            duration_ms: found.duration_ms,
            size_bytes: found.size_bytes,
            status: OutputStatus::Failed,
            error_message: INTERRUPTED_MESSAGE.into(),
            ..OutputInfo::mixed(
                &record.rel_path,
                &abs_path.display().to_string(),
                output.media,
                output.container(),
            )
        },
        singles: Vec::new(),
        sources: Vec::new(),
        layout: Layout::default(),
        live_outputs: Vec::new(),
    };
    (output, last)
}
