//! One catalog row per output file, built from what a mixer reports (sans IO).
//!
//! The row carries Easemob's recording fields (seed 003) mapped onto cloudmixer's
//! concepts: `conference_id` is the Create request's `conference_id` (confrId),
//! `owner` its `oper_user_id`, `camid` the participant (userName) and `member_name` its
//! display name (memberName; the camid when it has none; empty for the composite),
//! `record_type` from the output's kind and media ([`RecordType`]), `record_time_ms`
//! when the file was finished and `expire_time_ms` that plus the retention.

use std::collections::HashMap;

use crate::events::{OutputInfo, OutputStatus};
use crate::model::{OutputKind, OutputMedia};

/// Easemob's recordType.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordType {
    /// The composite (any media).
    MergeAll,
    /// One participant's camera and/or microphone.
    OnlyRecOneAv,
    /// One participant's screen share.
    OnlyRecOneDesktop,
}

impl RecordType {
    /// The Easemob name, e.g. `MERGE_ALL`.
    pub fn as_str(self) -> &'static str {
        match self {
            RecordType::MergeAll => "MERGE_ALL",
            RecordType::OnlyRecOneAv => "ONLY_REC_ONE_AV",
            RecordType::OnlyRecOneDesktop => "ONLY_REC_ONE_DESKTOP",
        }
    }

    /// The record type of an output.
    pub fn of(o: &OutputInfo) -> RecordType {
        match (o.kind, o.media) {
            (OutputKind::Mixed, _) => RecordType::MergeAll,
            (OutputKind::Single, OutputMedia::Screen) => RecordType::OnlyRecOneDesktop,
            (OutputKind::Single, _) => RecordType::OnlyRecOneAv,
        }
    }
}

/// One output file in the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recording {
    /// Catalog id, ascending in insertion order (0 before it is stored).
    pub id: i64,
    pub mixer_id: String,
    /// `mixed` or `<camid>/<media>/<span>` (unique within the mixer).
    pub output_id: String,
    pub conference_id: String,
    /// Who created the mixer (`oper_user_id`).
    pub owner: String,
    /// The participant; empty for the composite.
    pub camid: String,
    /// The participant's display name, else its camid; empty for the composite.
    pub member_name: String,
    pub record_type: RecordType,
    /// `av`, `audio`, `video` or `screen`.
    pub media: String,
    /// `mp4`, `m4a`, `aac`, `webm` or `ogg`.
    pub container: String,
    /// Relative to the recordings root.
    pub path: String,
    pub size_bytes: i64,
    pub duration_ms: i64,
    /// Hex SHA-256 of the file; empty when it could not be read.
    pub sha256: String,
    /// `FINALIZED`, `FAILED` or `INTERRUPTED` ([`final_status`]); `EXPIRED` once the
    /// retention deleted the file ([`super::retention`]).
    pub status: String,
    /// The mixer's creation, Unix ms (Easemob confrBeginTime).
    pub conference_begin_ms: i64,
    /// When the mixer stopped, Unix ms; 0 while it runs (confrEndTime).
    pub conference_end_ms: i64,
    /// First and last media written, Unix ms.
    pub start_ms: i64,
    pub end_ms: i64,
    /// When the file was finished, Unix ms (recordTime).
    pub record_time_ms: i64,
    /// When the file expires, Unix ms (expireTime).
    pub expire_time_ms: i64,
    /// Its copy in object storage.
    pub upload: Upload,
    /// The webhook endpoints of its job (`record_cfg.webhook_urls`), besides the
    /// daemon's.
    pub webhook_urls: Vec<String>,
}

/// `upload.state` of a file kept under the recordings root only (no storage configured).
pub const UPLOAD_LOCAL: &str = "LOCAL";
/// `upload.state` of a file waiting for its (next) upload attempt.
pub const UPLOAD_PENDING: &str = "PENDING";
/// `upload.state` of a file whose object was written and verified (size and SHA-256).
pub const UPLOAD_UPLOADED: &str = "UPLOADED";
/// `upload.state` of a file every attempt failed for, on the primary and the backup.
pub const UPLOAD_FAILED: &str = "FAILED";

/// Where a file stands with object storage ([`super::upload`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Upload {
    /// [`UPLOAD_LOCAL`], [`UPLOAD_PENDING`], [`UPLOAD_UPLOADED`] or [`UPLOAD_FAILED`].
    pub state: String,
    /// The object, e.g. `s3://bucket/prefix/<path>` or `file:///backup/<path>`; empty
    /// until uploaded.
    pub location: String,
    /// Attempts made so far (primary and backup).
    pub attempts: i64,
    /// When the next attempt is due, Unix ms.
    pub next_ms: i64,
    /// The last attempt's error; empty after a success.
    pub error: String,
}

/// What the catalog reads of one mixer.
#[derive(Debug, Clone, Default)]
pub struct MixerView {
    pub mixer_id: String,
    pub conference_id: String,
    pub oper_user_id: String,
    pub created_unix_ms: i64,
    /// When the mixer reached a final state, Unix ms; None while it runs.
    pub ended_unix_ms: Option<i64>,
    /// Listed from the recording journal: cut off by an earlier daemon's exit.
    pub interrupted: bool,
    /// Every output (composite first), as in `GetCloudMixer`.
    pub outputs: Vec<OutputInfo>,
    /// Display names by camid, of the sources present now.
    pub names: HashMap<String, String>,
}

/// The catalog status of an output of a mixer (`interrupted`: listed from the
/// recording journal at startup, its file cut off by an earlier daemon's exit); None
/// while it is still being written.
pub fn final_status(s: OutputStatus, interrupted: bool) -> Option<&'static str> {
    match s {
        OutputStatus::Recording => None,
        OutputStatus::Finalized => Some("FINALIZED"),
        OutputStatus::Failed if interrupted => Some("INTERRUPTED"),
        OutputStatus::Failed => Some("FAILED"),
    }
}

/// The row of `o`, an output of `view` whose writing ended, at `now_ms` (used when
/// the output has no end time), kept for `retention_ms`. `names`: display names by
/// camid seen so far for this mixer. None while `o` is still being written, and for
/// a composite the mixer never wrote (record mode single: no file).
pub fn row(
    view: &MixerView,
    o: &OutputInfo,
    names: &HashMap<String, String>,
    now_ms: i64,
    retention_ms: i64,
) -> Option<Recording> {
    let status = final_status(o.status, view.interrupted)?;
    if o.path.is_empty() {
        return None;
    }
    let record_time_ms = if o.end_unix_ms > 0 {
        o.end_unix_ms
    } else {
        now_ms
    };
    let member_name = match o.kind {
        OutputKind::Mixed => String::new(),
        OutputKind::Single => names
            .get(&o.camid)
            .filter(|n| !n.is_empty())
            .cloned()
            .unwrap_or_else(|| o.camid.clone()),
    };
    Some(Recording {
        id: 0,
        mixer_id: view.mixer_id.clone(),
        output_id: o.output_id.clone(),
        conference_id: view.conference_id.clone(),
        owner: view.oper_user_id.clone(),
        camid: o.camid.clone(),
        member_name,
        record_type: RecordType::of(o),
        media: media_name(o.media).to_owned(),
        container: o.container.clone(),
        path: o.path.clone(),
        size_bytes: i64::try_from(o.size_bytes).unwrap_or(i64::MAX),
        duration_ms: i64::try_from(o.duration_ms).unwrap_or(i64::MAX),
        sha256: String::new(),
        status: status.to_owned(),
        upload: Upload {
            state: UPLOAD_LOCAL.to_owned(),
            ..Upload::default()
        },
        conference_begin_ms: view.created_unix_ms,
        conference_end_ms: view.ended_unix_ms.unwrap_or(0),
        start_ms: o.start_unix_ms,
        end_ms: o.end_unix_ms,
        record_time_ms,
        expire_time_ms: record_time_ms.saturating_add(retention_ms),
        webhook_urls: Vec::new(),
    })
}

/// `av`, `audio`, `video` or `screen`.
pub fn media_name(m: OutputMedia) -> &'static str {
    match m {
        OutputMedia::Av => "av",
        OutputMedia::Audio => "audio",
        OutputMedia::Video => "video",
        OutputMedia::Screen => "screen",
    }
}

impl Recording {
    /// The output as `OutputInfoChanged` reports it (no absolute path: the file may
    /// be gone after its upload; status FAILED for INTERRUPTED and EXPIRED rows).
    pub fn output_info(&self) -> OutputInfo {
        let media = [
            OutputMedia::Av,
            OutputMedia::Audio,
            OutputMedia::Video,
            OutputMedia::Screen,
        ]
        .into_iter()
        .find(|m| media_name(*m) == self.media)
        .unwrap_or(OutputMedia::Av);
        OutputInfo {
            output_id: self.output_id.clone(),
            kind: if self.record_type == RecordType::MergeAll {
                OutputKind::Mixed
            } else {
                OutputKind::Single
            },
            camid: self.camid.clone(),
            media,
            container: self.container.clone(),
            start_unix_ms: self.start_ms,
            end_unix_ms: self.end_ms,
            span: self
                .output_id
                .rsplit('/')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or(0),
            path: self.path.clone(),
            abs_path: String::new(),
            duration_ms: u64::try_from(self.duration_ms).unwrap_or(0),
            size_bytes: u64::try_from(self.size_bytes).unwrap_or(0),
            status: if self.status == "FINALIZED" {
                OutputStatus::Finalized
            } else {
                OutputStatus::Failed
            },
            error_code: 0,
            error_message: String::new(),
        }
    }
}

/// The record type named `s` (as stored).
pub fn record_type_named(s: &str) -> Option<RecordType> {
    [
        RecordType::MergeAll,
        RecordType::OnlyRecOneAv,
        RecordType::OnlyRecOneDesktop,
    ]
    .into_iter()
    .find(|t| t.as_str() == s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(
        kind: OutputKind,
        media: OutputMedia,
        camid: &str,
        status: OutputStatus,
    ) -> OutputInfo {
        OutputInfo {
            kind,
            media,
            camid: camid.into(),
            status,
            output_id: if camid.is_empty() {
                "mixed".into()
            } else {
                format!("{camid}/av/1")
            },
            path: "x.mp4".into(),
            end_unix_ms: 5_000,
            ..OutputInfo::mixed("x.mp4", "/r/x.mp4", OutputMedia::Av, "mp4")
        }
    }

    #[test]
    fn rows_map_easemob_fields() {
        let view = MixerView {
            mixer_id: "m".into(),
            conference_id: "c".into(),
            oper_user_id: "op".into(),
            created_unix_ms: 1_000,
            ended_unix_ms: Some(6_000),
            ..MixerView::default()
        };
        let names = HashMap::from([("u1".to_string(), "张伟".to_string())]);
        let day = 86_400_000;
        let mixed = output(
            OutputKind::Mixed,
            OutputMedia::Av,
            "",
            OutputStatus::Finalized,
        );
        let r = row(&view, &mixed, &names, 9_000, 30 * day).expect("a row");
        assert_eq!(r.record_type, RecordType::MergeAll);
        assert_eq!((r.member_name.as_str(), r.owner.as_str()), ("", "op"));
        assert_eq!(
            (r.record_time_ms, r.expire_time_ms),
            (5_000, 5_000 + 30 * day)
        );
        assert_eq!((r.conference_begin_ms, r.conference_end_ms), (1_000, 6_000));
        let one = output(
            OutputKind::Single,
            OutputMedia::Av,
            "u1",
            OutputStatus::Failed,
        );
        let cut = MixerView {
            interrupted: true,
            ..view.clone()
        };
        let r = row(&cut, &one, &names, 9_000, day).expect("a row");
        assert_eq!(r.record_type, RecordType::OnlyRecOneAv);
        assert_eq!(
            (r.member_name.as_str(), r.status.as_str()),
            ("张伟", "INTERRUPTED")
        );
        let screen = output(
            OutputKind::Single,
            OutputMedia::Screen,
            "u2",
            OutputStatus::Failed,
        );
        let r = row(&view, &screen, &names, 9_000, day).expect("a row");
        assert_eq!(r.record_type, RecordType::OnlyRecOneDesktop);
        assert_eq!(r.member_name, "u2", "no display name: the camid");
        let open = output(
            OutputKind::Single,
            OutputMedia::Av,
            "u1",
            OutputStatus::Recording,
        );
        assert_eq!(row(&view, &open, &names, 9_000, day), None);
        assert_eq!(
            record_type_named("ONLY_REC_ONE_DESKTOP"),
            Some(RecordType::OnlyRecOneDesktop)
        );
    }
}
