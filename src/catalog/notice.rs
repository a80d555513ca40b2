//! What the customer is told, as webhook messages (NetEase's end-of-call callback,
//! Cloudroom's upload-complete, issue 13): the message types, their JSON bodies and
//! their ids, queued in the catalog ([`super::outbox`]) for the delivery task.
//!
//! | type | when | `data` |
//! |---|---|---|
//! | `recording.started` | a mixer is first seen running | mixer, conference, owner, begin |
//! | `recording.output_finalized` | a file's writing ended (FINALIZED, FAILED, INTERRUPTED) | the file's catalog record |
//! | `recording.upload_completed` | its object was written and verified | the record, with `storageLocation` |
//! | `recording.upload_failed` | every attempt failed (primary and backup) | the record, with `uploadError` |
//! | `recording.ended` | the mixer stopped | every file of the run, with where each is, and the job's manifest |
//!
//! Body: `{"type": ..., "timestamp": RFC 3339, "data": {...}}`. The id is `msg_` + 32
//! hex digits of SHA-256 over the event's identity (type, mixer, its begin time,
//! output, file checksum): the same event always has the same id, so re-queuing after
//! a restart is a no-op and a receiver de-duplicates on `webhook-id`.

use std::sync::Arc;

use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;

use super::easemob::record_json;
use super::row::Recording;
use super::store::Catalog;
use crate::events::unix_ms_now;

/// Queues webhook messages for the daemon's endpoints and the job's own
/// (`record_cfg.webhook_urls`); cheap to clone. With no endpoint it does nothing.
#[derive(Clone, Debug)]
pub struct Notifier {
    catalog: Catalog,
    urls: Arc<Vec<String>>,
    wake: Arc<Notify>,
}

impl Notifier {
    /// A notifier queuing into `catalog` for the daemon's `urls` (and each message's
    /// job endpoints); `wake` wakes the delivery task.
    pub fn new(catalog: Catalog, urls: Vec<String>, wake: Arc<Notify>) -> Notifier {
        Notifier {
            catalog,
            urls: Arc::new(urls),
            wake,
        }
    }

    /// `recording.started` of the mixer `mixer_id` created at `begin_ms`, also to the
    /// job's endpoints `job_urls`.
    pub async fn started(
        &self,
        mixer_id: &str,
        conference_id: &str,
        owner: &str,
        begin_ms: i64,
        job_urls: &[String],
    ) {
        let data = json!({
            "mixerId": mixer_id,
            "conferenceId": conference_id,
            "owner": owner,
            "beginUnixMs": begin_ms,
        });
        let id = msg_id(&["recording.started", mixer_id, &begin_ms.to_string()]);
        self.queue(&id, "recording.started", data, job_urls).await;
    }

    /// `recording.output_finalized` of `r` (its writing ended).
    pub async fn output_finalized(&self, r: &Recording) {
        self.about_file("recording.output_finalized", r, &r.status)
            .await;
    }

    /// `recording.upload_completed` of `r` (uploaded to `r.upload.location`).
    pub async fn upload_completed(&self, r: &Recording) {
        self.about_file("recording.upload_completed", r, &r.upload.location)
            .await;
    }

    /// `recording.upload_failed` of `r`.
    pub async fn upload_failed(&self, r: &Recording) {
        self.about_file("recording.upload_failed", r, "").await;
    }

    /// `recording.ended` of the mixer `mixer_id` created at `begin_ms`, listing `files`,
    /// with the job's `manifest` ([`super::manifest`]), also to the job's endpoints
    /// (those of its files).
    pub async fn ended(
        &self,
        mixer_id: &str,
        begin_ms: i64,
        end_ms: i64,
        files: &[Recording],
        manifest: Value,
    ) {
        let job_urls = files
            .first()
            .map(|r| r.webhook_urls.clone())
            .unwrap_or_default();
        let conference = files
            .first()
            .map(|r| r.conference_id.as_str())
            .unwrap_or("");
        let data = json!({
            "mixerId": mixer_id,
            "conferenceId": conference,
            "beginUnixMs": begin_ms,
            "endUnixMs": end_ms,
            "files": files.iter().map(|r| record_json(r, "")).collect::<Vec<_>>(),
            "manifest": manifest,
        });
        let id = msg_id(&["recording.ended", mixer_id, &begin_ms.to_string()]);
        self.queue(&id, "recording.ended", data, &job_urls).await;
    }

    async fn about_file(&self, event_type: &str, r: &Recording, extra: &str) {
        let id = msg_id(&[
            event_type,
            &r.mixer_id,
            &r.conference_begin_ms.to_string(),
            &r.output_id,
            &r.sha256,
            extra,
        ]);
        self.queue(&id, event_type, record_json(r, ""), &r.webhook_urls)
            .await;
    }

    async fn queue(&self, id: &str, event_type: &str, data: Value, job_urls: &[String]) {
        let mut urls: Vec<String> = self.urls.to_vec();
        for u in job_urls {
            if !urls.contains(u) {
                urls.push(u.clone());
            }
        }
        if urls.is_empty() {
            return;
        }
        let body = json!({
            "type": event_type,
            "timestamp": rfc3339(unix_ms_now()),
            "data": data,
        })
        .to_string();
        match self
            .catalog
            .enqueue_webhook(id, event_type, &body, &urls, unix_ms_now())
            .await
        {
            Ok(()) => self.wake.notify_one(),
            Err(e) => tracing::error!(error = %e, event = event_type, "webhook not queued"),
        }
    }
}

/// `msg_` + 32 hex digits of SHA-256 over `parts` (NUL-separated).
pub fn msg_id(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let hex: String = h.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("msg_{hex}")
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` of a Unix ms time (UTC).
fn rfc3339(unix_ms: i64) -> String {
    let day = super::easemob::format_time(unix_ms).replacen(' ', "T", 1);
    format!("{day}.{:03}Z", unix_ms.rem_euclid(1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_stable_per_event_and_differ_between_events() {
        let a = msg_id(&["recording.ended", "m1", "5"]);
        assert_eq!(a, msg_id(&["recording.ended", "m1", "5"]));
        assert_eq!(a.len(), 4 + 32);
        assert_ne!(a, msg_id(&["recording.ended", "m1", "6"]));
        assert_ne!(
            msg_id(&["ab", "c"]),
            msg_id(&["a", "bc"]),
            "parts are separated"
        );
    }

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(1_550_771_764_123), "2019-02-21T17:56:04.123Z");
    }
}
