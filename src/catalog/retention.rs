//! Retention: a task that deletes recordings past their `expire_time_ms` from the
//! recordings root (through its handle: never a file outside it) and marks their rows
//! EXPIRED; an uploaded file's object is deleted from its store first. It looks every
//! `serve --expiry-sweep-secs`, at most [`BATCH`] files per look; a file already gone
//! counts as deleted; one it cannot delete stays listed (and is tried again next time,
//! logged).

use std::time::Duration;

use super::row::{Recording, UPLOAD_UPLOADED};
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
        if let Err(e) = remove_copies(&r, root, storage).await {
            tracing::warn!(id = r.id, error = %e, "retention: kept for the next sweep");
            continue;
        }
        match catalog.mark_expired(r.id).await {
            Ok(()) => {
                expired += 1;
                tracing::info!(id = r.id, path = %r.path, "recording expired and deleted");
            }
            Err(e) => tracing::error!(error = %e, id = r.id, "retention: row not marked"),
        }
    }
    expired
}

/// Deletes `r`'s copies: its object (when uploaded) and its local file beneath
/// `root`; one already gone counts as deleted. Errors: a copy that could not be
/// deleted (the object's store not configured, or the store or file system refused).
pub async fn remove_copies(
    r: &Recording,
    root: &RecordingsRoot,
    storage: Option<&Storage>,
) -> Result<(), String> {
    if r.upload.state == UPLOAD_UPLOADED {
        let (t, key) = storage
            .and_then(|s| s.target_of(&r.upload.location))
            .ok_or_else(|| format!("{}: its store is not configured", r.upload.location))?;
        match t.store().delete(&key).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(format!("{}: {e}", r.upload.location)),
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
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(format!("{}: {e}", r.path)),
        Err(e) => Err(format!("delete task panicked: {e}")),
    }
}
