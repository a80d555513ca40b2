//! Retention: a task that deletes recordings past their `expire_time_ms` from the
//! recordings root (through its handle: never a file outside it) and marks their rows
//! EXPIRED; an uploaded file's object is deleted from its store first. It looks every
//! `serve --expiry-sweep-secs`, at most [`BATCH`] files per look; a file already gone
//! counts as deleted; one it cannot delete stays listed (and is tried again next time,
//! logged).

use std::time::Duration;

use super::row::UPLOAD_UPLOADED;
use super::storage::Storage;
use super::store::Catalog;
use crate::events::unix_ms_now;
use crate::model::RecordingsRoot;

/// Most files deleted per sweep.
pub const BATCH: u32 = 500;

/// Starts the sweeper on the current tokio runtime.
pub fn spawn(catalog: Catalog, root: RecordingsRoot, storage: Option<Storage>, every: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            sweep(&catalog, &root, storage.as_ref()).await;
        }
    });
}

/// Deletes what is due now (the local file and, once uploaded, the object); returns how
/// many rows were marked EXPIRED.
pub async fn sweep(catalog: &Catalog, root: &RecordingsRoot, storage: Option<&Storage>) -> usize {
    let due = match catalog.due(unix_ms_now(), BATCH).await {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "retention: catalog not readable");
            return 0;
        }
    };
    let mut expired = 0;
    for r in due {
        if r.upload.state == UPLOAD_UPLOADED {
            let Some((t, key)) = storage.and_then(|s| s.target_of(&r.upload.location)) else {
                tracing::warn!(id = r.id, location = %r.upload.location, "retention: the object's store is not configured; kept");
                continue;
            };
            match t.store().delete(&key).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(e) => {
                    tracing::warn!(error = %e, location = %r.upload.location, "retention: object not deleted");
                    continue;
                }
            }
        }
        let dir = root.clone();
        let path = r.path.clone();
        let removed = tokio::task::spawn_blocking(move || match dir.dir().remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        })
        .await;
        match removed {
            Ok(Ok(())) => match catalog.mark_expired(r.id).await {
                Ok(()) => {
                    expired += 1;
                    tracing::info!(id = r.id, path = %r.path, "recording expired and deleted");
                }
                Err(e) => tracing::error!(error = %e, id = r.id, "retention: row not marked"),
            },
            Ok(Err(e)) => tracing::warn!(error = %e, path = %r.path, "retention: file not deleted"),
            Err(e) => tracing::error!(error = %e, "retention task panicked"),
        }
    }
    expired
}
