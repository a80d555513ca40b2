//! Keeps the catalog current: a task that reads the daemon's event bus and, for every
//! `OutputInfoChanged` or `StateChanged` of a mixer, reads that mixer's outputs from
//! the registry and stores each one whose writing has ended (finalized, failed or
//! interrupted) with its SHA-256 ([`super::row::row`]).
//!
//! The events are only triggers: the rows come from the mixer's own snapshot, so an
//! event lost to a slow feed (the bus lags) loses nothing: on a lag every listed mixer
//! is read again. At start every listed mixer is read too (the interrupted recordings
//! the journal lists). A row already stored in the same state is not stored again.
//! Display names are remembered per mixer from the first time a source is seen, so a
//! participant's file finished after it left keeps its name.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::Notify;

use super::manifest;
use super::notice::Notifier;
use super::row::{self, MixerView, UPLOAD_PENDING};
use super::store::Catalog;
use crate::api::registry::Entry;
use crate::api::CloudMixerService;
use crate::events::{unix_ms_now, EventBus, EventKind};
use crate::model::RecordingsRoot;

/// What the feed needs besides the catalog.
#[derive(Clone)]
pub struct FeedConfig {
    /// How long a file is kept ([`Recording::expire_time_ms`] = finished + this), unless
    /// its job set its own (`record_cfg.retention_secs`).
    ///
    /// [`Recording::expire_time_ms`]: super::row::Recording::expire_time_ms
    pub retention: Duration,
    /// The recordings root (output paths are relative to it; files are read through
    /// its handle only).
    pub root: RecordingsRoot,
    /// Object storage is configured: finished files are marked PENDING for upload and
    /// `upload_wake` is notified.
    pub upload: bool,
    pub upload_wake: Arc<Notify>,
    /// Queues the webhooks (started, output finalized, ended).
    pub notify: Notifier,
    /// Where job manifests are written ([`super::manifest`]).
    pub manifest_dir: std::path::PathBuf,
}

/// The feed's memory: display names per mixer, rows stored (mixer, begin, output id,
/// status, size).
#[derive(Default)]
struct Seen {
    names: HashMap<String, HashMap<String, String>>,
    stored: HashSet<(String, i64, String, String, i64)>,
    started: HashSet<(String, i64)>,
    ended: HashSet<(String, i64)>,
}

/// Starts the feed on the current tokio runtime; it runs until the bus closes.
pub fn spawn(catalog: Catalog, service: CloudMixerService, bus: &EventBus, cfg: FeedConfig) {
    let mut rx = bus.subscribe();
    tokio::spawn(async move {
        let mut seen = Seen::default();
        sync_all(&catalog, &service, &cfg, &mut seen).await;
        loop {
            match rx.recv().await {
                Ok(ev) => {
                    if matches!(
                        ev.kind,
                        EventKind::OutputInfoChanged(_) | EventKind::StateChanged { .. }
                    ) {
                        if let Some(e) = service.entry(&ev.mixer_id) {
                            sync(&catalog, &e, &cfg, &mut seen).await;
                        }
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    tracing::warn!(missed = n, "catalog feed lagged; reading every mixer again");
                    sync_all(&catalog, &service, &cfg, &mut seen).await;
                }
                Err(RecvError::Closed) => break,
            }
        }
    });
}

async fn sync_all(
    catalog: &Catalog,
    service: &CloudMixerService,
    cfg: &FeedConfig,
    seen: &mut Seen,
) {
    for e in service.entries() {
        sync(catalog, &e, cfg, seen).await;
    }
}

/// The catalog's view of `entry` now; None before its engine started.
pub fn view_of(entry: &Entry) -> Option<MixerView> {
    let snap = entry.snapshot()?;
    let outputs: Vec<_> = std::iter::once(snap.output.clone())
        .filter(|o| !o.path.is_empty() && entry.record.mode.mixed())
        .chain(snap.singles.iter().cloned())
        .collect();
    let ended_unix_ms = snap.state.is_final().then(|| {
        outputs
            .iter()
            .map(|o| o.end_unix_ms)
            .max()
            .filter(|t| *t > 0)
            .unwrap_or_else(unix_ms_now)
    });
    Some(MixerView {
        mixer_id: entry.mixer_id.clone(),
        conference_id: entry.conference_id.clone(),
        oper_user_id: entry.oper_user_id.clone(),
        created_unix_ms: entry.created_unix_ms,
        ended_unix_ms,
        interrupted: snap.state == crate::events::MixerState::Interrupted,
        outputs,
        names: entry
            .sources()
            .into_iter()
            .map(|s| (s.camid, s.display_name))
            .collect(),
    })
}

async fn sync(catalog: &Catalog, entry: &Arc<Entry>, cfg: &FeedConfig, seen: &mut Seen) {
    let Some(view) = view_of(entry) else {
        return;
    };
    let names = seen.names.entry(view.mixer_id.clone()).or_default();
    for (camid, name) in &view.names {
        names.entry(camid.clone()).or_insert_with(|| name.clone());
    }
    let names = names.clone();
    let run = (view.mixer_id.clone(), view.created_unix_ms);
    if !view.interrupted && seen.started.insert(run.clone()) {
        cfg.notify
            .started(
                &view.mixer_id,
                &view.conference_id,
                &view.oper_user_id,
                view.created_unix_ms,
                &entry.record.webhook_urls,
            )
            .await;
    }
    let retention = entry.record.retention.unwrap_or(cfg.retention);
    let retention_ms = i64::try_from(retention.as_millis()).unwrap_or(i64::MAX);
    for o in &view.outputs {
        let Some(mut r) = row::row(&view, o, &names, unix_ms_now(), retention_ms) else {
            continue;
        };
        r.webhook_urls = entry.record.webhook_urls.clone();
        let key = (
            r.mixer_id.clone(),
            r.conference_begin_ms,
            r.output_id.clone(),
            r.status.clone(),
            r.size_bytes,
        );
        if seen.stored.contains(&key) {
            continue;
        }
        let (root, path) = (cfg.root.clone(), r.path.clone());
        r.sha256 = tokio::task::spawn_blocking(move || sha256_of(&root, &path))
            .await
            .unwrap_or_default();
        if cfg.upload && r.status != "FAILED" && !r.sha256.is_empty() {
            r.upload.state = UPLOAD_PENDING.into();
        }
        match catalog.upsert(&r).await {
            Ok(id) => {
                tracing::debug!(id, mixer_id = %r.mixer_id, output_id = %r.output_id, "catalogued");
                seen.stored.insert(key);
                r.id = id;
                cfg.notify.output_finalized(&r).await;
                if cfg.upload {
                    cfg.upload_wake.notify_one();
                }
            }
            Err(e) => tracing::error!(error = %e, mixer_id = %r.mixer_id, "output not catalogued"),
        }
    }
    if let Some(end) = view.ended_unix_ms {
        let key = (view.mixer_id.clone(), view.created_unix_ms);
        if !seen.ended.contains(&key) {
            match catalog
                .end_conference(&view.mixer_id, view.created_unix_ms, end)
                .await
            {
                Ok(()) => {
                    seen.ended.insert(key);
                    job_ended(catalog, entry, cfg, &view, end, &names).await;
                }
                Err(e) => {
                    tracing::error!(error = %e, mixer_id = %view.mixer_id, "conference end not catalogued")
                }
            }
        }
    }
}

/// The run of `view` ended at `end`: its manifest written and `recording.ended` queued.
async fn job_ended(
    catalog: &Catalog,
    entry: &Entry,
    cfg: &FeedConfig,
    view: &MixerView,
    end: i64,
    names: &HashMap<String, String>,
) {
    let files = match catalog
        .by_mixer_run(&view.mixer_id, view.created_unix_ms)
        .await
    {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "recording.ended not queued");
            return;
        }
    };
    let m = manifest::build(entry, end, &files, names);
    let (dir, id, begin, doc) = (
        cfg.manifest_dir.clone(),
        view.mixer_id.clone(),
        view.created_unix_ms,
        m.clone(),
    );
    match tokio::task::spawn_blocking(move || manifest::write(&dir, &id, begin, &doc)).await {
        Ok(Ok(path)) => tracing::info!(path = %path.display(), "manifest written"),
        Ok(Err(e)) => tracing::warn!(error = %e, "manifest not written"),
        Err(e) => tracing::error!(error = %e, "manifest task panicked"),
    }
    cfg.notify
        .ended(&view.mixer_id, view.created_unix_ms, end, &files, m)
        .await;
}

/// Hex SHA-256 of the file `path` beneath `root`; empty if it cannot be read (logged).
fn sha256_of(root: &RecordingsRoot, path: &str) -> String {
    let mut f = match root.dir().open(path) {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!(error = %e, path, "cannot read a recording to hash it");
            return String::new();
        }
    };
    let mut h = Sha256::new();
    if let Err(e) = std::io::copy(&mut f, &mut h) {
        tracing::warn!(error = %e, path, "cannot read a recording to hash it");
        return String::new();
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
