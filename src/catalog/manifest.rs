//! The manifest of a recording job (issue 13): one JSON document per mixer run,
//! written when the mixer stops to `manifests/<mixer id>-<begin Unix ms>.json` in the
//! daemon's state directory (characters other than `A-Za-z0-9._-` in the id become
//! `_`) and carried in the `recording.ended` webhook as `manifest`.
//!
//! Shape (times Unix ms):
//!
//! ```json
//! {"version": 1, "mixerId": "m1", "conferenceId": "c1", "owner": "op",
//!  "beginUnixMs": 0, "endUnixMs": 0,
//!  "sources": [{"camid": "A", "displayName": "Alice", "transport": "Rtp",
//!               "content": "Video", "host": false, "video": "Vp8/96", "audio": "Opus/111"}],
//!  "layoutChanges": [{"unixMs": 0, "camids": ["A"], "layout": {"regions": [...]}}],
//!  "outputs": [<catalog record: outputId, path, span times, sizeBytes, durationMs,
//!               sha256, status, uploadState, storageLocation, ...>]}
//! ```
//!
//! `layoutChanges` are the changes asked for (Create, then each Update; `layout` is
//! null when an update kept it); the automatic ones the mixer makes itself (speaker
//! promotion, grid re-flow on joins and leaves) are events, not listed here. Sources
//! are every camid the job had, with the settings last asked for.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::easemob::record_json;
use super::row::Recording;
use crate::api::registry::Entry;
use std::path::{Path, PathBuf};

/// Manifest format version.
pub const VERSION: u32 = 1;

/// The manifest of `entry`'s run that ended at `end_ms`, with its catalog `files` and
/// the display names seen (`names`, by camid).
pub fn build(
    entry: &Entry,
    end_ms: i64,
    files: &[Recording],
    names: &HashMap<String, String>,
) -> Value {
    let history = entry.history();
    let current = entry.sources();
    let mut camids: Vec<String> = Vec::new();
    for c in history
        .iter()
        .flat_map(|h| h.camids.iter())
        .chain(current.iter().map(|s| &s.camid))
    {
        if !camids.contains(c) {
            camids.push(c.clone());
        }
    }
    let sources: Vec<Value> = camids
        .iter()
        .map(|camid| {
            let name = names.get(camid).cloned().unwrap_or_default();
            match current.iter().find(|s| &s.camid == camid) {
                Some(s) => json!({
                    "camid": camid,
                    "displayName": if s.display_name.is_empty() { name } else { s.display_name.clone() },
                    "transport": format!("{:?}", s.transport),
                    "content": format!("{:?}", s.content),
                    "host": s.host,
                    "video": s.video.as_ref().map(|v| format!("{:?}/{}", v.codec, v.payload_type)),
                    "audio": s.audio.as_ref().map(|a| format!("{:?}/{}", a.codec, a.payload_type)),
                }),
                None => json!({"camid": camid, "displayName": name}),
            }
        })
        .collect();
    json!({
        "version": VERSION,
        "mixerId": entry.mixer_id,
        "conferenceId": entry.conference_id,
        "owner": entry.oper_user_id,
        "beginUnixMs": entry.created_unix_ms,
        "endUnixMs": end_ms,
        "sources": sources,
        "layoutChanges": history
            .iter()
            .map(|h| json!({"unixMs": h.unix_ms, "camids": h.camids, "layout": h.layout}))
            .collect::<Vec<_>>(),
        "outputs": files.iter().map(|r| record_json(r, "")).collect::<Vec<_>>(),
    })
}

/// The manifest file of mixer `mixer_id`'s run begun at `begin_ms`, in `dir`.
pub fn path(dir: &Path, mixer_id: &str, begin_ms: i64) -> PathBuf {
    let safe: String = mixer_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    dir.join(format!("{safe}-{begin_ms}.json"))
}

/// Writes `manifest` to [`path`] in `dir` (created if missing); returns the file.
/// Errors: the directory or file cannot be written.
pub fn write(
    dir: &Path,
    mixer_id: &str,
    begin_ms: i64,
    manifest: &Value,
) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let file = path(dir, mixer_id, begin_ms);
    let text = serde_json::to_vec_pretty(manifest).map_err(std::io::Error::other)?;
    std::fs::write(&file, text)?;
    Ok(file)
}
