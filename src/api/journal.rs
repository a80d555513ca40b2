//! The recording journal: the recordings this daemon has open, kept on disk so that a
//! restart finds the ones an earlier process left unfinished (crash, SIGKILL, a
//! shutdown that timed out) and reports them as INTERRUPTED instead of forgetting them.
//!
//! One small JSON file per recording in the journal directory (`serve --state-dir`,
//! default `<recordings root>/.cloudmixer`, [`STATE_DIR_NAME`], a name output paths
//! may not start with):
//! written (to a temporary name, then renamed, so a reader never sees half a record)
//! when a Create reserved the output, removed once the mixer released it (its file final
//! or failed). A record still there at startup is a recording that was cut off; the
//! daemon then rewrites it with what the file holds ([`Found`]) and keeps reporting it
//! at every start until the retention age passes.

use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use crate::model::STATE_DIR_NAME;

/// Largest journal file read, bytes (a record is a few hundred).
const MAX_RECORD_BYTES: u64 = 64 * 1024;

/// What the journal keeps of one recording.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub mixer_id: String,
    /// The conference its recordings belong to; empty in records of daemons before the
    /// catalog (then the mixer id).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub conference_id: String,
    pub oper_user_id: String,
    /// The output path relative to the recordings root.
    pub rel_path: String,
    /// When the mixer was created, Unix ms.
    pub created_unix_ms: i64,
    /// Canvas, pixels, and frame rate, frames/s (shown in the listing).
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// Set by the first restart that found the record still open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interrupted: Option<Found>,
    /// The job's own retention, seconds (`record_cfg.retention_secs`); None = the
    /// daemon's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_secs: Option<u64>,
    /// The job's own webhook endpoints (`record_cfg.webhook_urls`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webhook_urls: Vec<String>,
}

/// What a restart found of an interrupted recording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Found {
    /// When it was found, Unix ms.
    pub found_unix_ms: i64,
    /// The file's playable span, ms (`media::probe`); 0 if it does not open as MP4.
    pub duration_ms: u64,
    /// The file's size, bytes (0 if it does not exist).
    pub size_bytes: u64,
}

/// One record's file in the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker(PathBuf);

/// The journal directory.
#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
}

impl Journal {
    /// Opens (creating it if needed) the journal at `dir`.
    /// Errors: the directory cannot be created.
    pub fn open(dir: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        Ok(Self {
            dir: dir.to_path_buf(),
        })
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes a new record; returns its marker.
    /// Errors: the file cannot be written (disk full, permissions).
    pub fn begin(&self, record: &Record) -> io::Result<Marker> {
        let marker = Marker(self.dir.join(format!("{}.json", uuid::Uuid::new_v4())));
        self.write(&marker, record)?;
        Ok(marker)
    }

    /// Replaces the record behind `marker`.
    pub fn write(&self, marker: &Marker, record: &Record) -> io::Result<()> {
        let tmp = marker.0.with_extension("json.tmp");
        let body = serde_json::to_vec_pretty(record).map_err(io::Error::other)?;
        std::fs::write(&tmp, body)?;
        std::fs::rename(&tmp, &marker.0)
    }

    /// Removes the record behind `marker` (the recording ended); a failure is logged.
    pub fn end(&self, marker: &Marker) {
        if let Err(e) = std::fs::remove_file(&marker.0) {
            if e.kind() != io::ErrorKind::NotFound {
                tracing::warn!(error = %e, file = %marker.0.display(), "cannot remove recording journal record");
            }
        }
    }

    /// Every record in the journal, oldest created first. Files that are not records
    /// (unreadable, too large, not JSON of this shape) are logged and skipped; leftover
    /// temporary files are removed.
    pub fn records(&self) -> io::Result<Vec<(Marker, Record)>> {
        let mut out = Vec::new();
        for item in std::fs::read_dir(&self.dir)? {
            let path = item?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.ends_with(".json.tmp") {
                let _ = std::fs::remove_file(&path);
                continue;
            }
            if !name.ends_with(".json") {
                continue;
            }
            match read_record(&path) {
                Ok(r) => out.push((Marker(path), r)),
                Err(e) => {
                    tracing::warn!(error = %e, file = %path.display(), "skipping unreadable recording journal record")
                }
            }
        }
        out.sort_by_key(|(_, r)| r.created_unix_ms);
        Ok(out)
    }
}

fn read_record(path: &Path) -> io::Result<Record> {
    let meta = std::fs::symlink_metadata(path)?;
    if !meta.is_file() || meta.len() > MAX_RECORD_BYTES {
        return Err(io::Error::other("not a regular file of at most 64 KiB"));
    }
    serde_json::from_slice(&std::fs::read(path)?).map_err(io::Error::other)
}

/// What to do with a record found at startup ([`decide`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recovery {
    /// First found now: probe the file, rewrite the record with [`Found`], report it.
    Probe,
    /// Found by an earlier restart: report it again as it was found.
    Report(Found),
    /// Found by an earlier restart longer than the retention age ago: remove the record.
    Forget,
}

/// Decides a record's fate at `now_unix_ms` with ended mixers kept `retention_ms`.
pub fn decide(record: &Record, now_unix_ms: i64, retention_ms: i64) -> Recovery {
    match record.interrupted {
        None => Recovery::Probe,
        Some(f) if now_unix_ms.saturating_sub(f.found_unix_ms) > retention_ms => Recovery::Forget,
        Some(f) => Recovery::Report(f),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, created: i64) -> Record {
        Record {
            mixer_id: id.into(),
            conference_id: String::new(),
            oper_user_id: "ops".into(),
            rel_path: format!("{id}.mp4"),
            created_unix_ms: created,
            width: 640,
            height: 360,
            fps: 15,
            interrupted: None,
            retention_secs: None,
            webhook_urls: Vec::new(),
        }
    }

    #[test]
    fn records_survive_a_reopen_until_ended() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(&dir.path().join("state")).unwrap();
        let a = j.begin(&record("a", 2)).unwrap();
        let b = j.begin(&record("b", 1)).unwrap();
        std::fs::write(j.dir().join("junk.json"), b"{not json").unwrap();
        std::fs::write(j.dir().join("half.json.tmp"), b"{").unwrap();
        let j = Journal::open(j.dir()).unwrap();
        let ids: Vec<_> = j
            .records()
            .unwrap()
            .into_iter()
            .map(|(_, r)| r.mixer_id)
            .collect();
        assert_eq!(ids, ["b", "a"], "oldest first, junk skipped");
        assert!(!j.dir().join("half.json.tmp").exists());
        j.end(&a);
        j.end(&b);
        j.end(&b);
        assert!(j.records().unwrap().is_empty());
    }

    #[test]
    fn job_settings_round_trip_and_old_records_still_read() {
        let mut r = record("a", 1);
        r.retention_secs = Some(7200);
        r.webhook_urls = vec!["https://hooks.example/x".into()];
        let text = serde_json::to_string(&r).unwrap();
        assert_eq!(serde_json::from_str::<Record>(&text).unwrap(), r);
        let old = r#"{"mixer_id":"a","oper_user_id":"ops","rel_path":"a.mp4",
            "created_unix_ms":1,"width":640,"height":360,"fps":15}"#;
        let parsed: Record = serde_json::from_str(old).unwrap();
        assert_eq!(parsed, record("a", 1), "a record of an older daemon");
    }

    #[test]
    fn a_found_record_is_reported_until_the_retention_age() {
        let mut r = record("a", 0);
        assert_eq!(decide(&r, 10_000, 3_600_000), Recovery::Probe);
        let f = Found {
            found_unix_ms: 10_000,
            duration_ms: 4_000,
            size_bytes: 123,
        };
        r.interrupted = Some(f);
        assert_eq!(
            decide(&r, 10_000 + 3_600_000, 3_600_000),
            Recovery::Report(f)
        );
        assert_eq!(decide(&r, 10_001 + 3_600_000, 3_600_000), Recovery::Forget);
    }

    #[test]
    fn rewriting_keeps_one_file() {
        let dir = tempfile::tempdir().unwrap();
        let j = Journal::open(dir.path()).unwrap();
        let mut r = record("a", 0);
        let m = j.begin(&r).unwrap();
        r.interrupted = Some(Found {
            found_unix_ms: 1,
            duration_ms: 2,
            size_bytes: 3,
        });
        j.write(&m, &r).unwrap();
        let all = j.records().unwrap();
        assert_eq!(all.len(), 1);
        assert_eq!(all[0].1, r);
    }
}
