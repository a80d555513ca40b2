//! Upload of finished recordings to object storage ([`super::storage`]), driven by the
//! catalog: the feed marks each finished file PENDING; this task uploads what is due,
//! multipart, verifies it and records the outcome. A daemon killed mid-upload finds the
//! row still PENDING at restart and uploads the file again from its start to the same
//! key (the object is overwritten, never duplicated; an abandoned multipart upload is
//! left to the store's lifecycle rules).
//!
//! One attempt: read the file through the recordings root's handle in
//! [`PART_BYTES`] parts (`WriteMultipart`), hashing as it goes; the hash must equal the
//! catalog's SHA-256 (the file did not change); then `HEAD` must give the file's size
//! and the object read back must hash the same (verified upload). Failures back off
//! exponentially ([`super::retry`]); after the primary's attempts the backup store's
//! are tried; when those fail too the row is FAILED. After a verified upload the local
//! file is deleted if `serve --storage-delete-local` is set.
//!
//! Each step is an `OutputInfoChanged` event with its upload set (Cloudroom's
//! upload-complete) and, on completion or failure, a webhook ([`super::notice`]).

use std::sync::Arc;
use std::time::Duration;

use object_store::path::Path as ObjectPath;
use object_store::WriteMultipart;
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;
use tokio::sync::Notify;
use tokio_stream::StreamExt;

use super::notice::Notifier;
use super::retry::{RetryPolicy, Which};
use super::row::{Recording, Upload, UPLOAD_FAILED, UPLOAD_PENDING, UPLOAD_UPLOADED};
use super::storage::{Storage, Target};
use super::store::Catalog;
use crate::events::{unix_ms_now, EventBus, EventKind, UploadInfo, UploadState};
use crate::model::RecordingsRoot;

/// Size of one multipart part, bytes (S3's minimum is 5 MiB except for the last).
pub const PART_BYTES: usize = 8 * 1024 * 1024;
/// Files looked at per pass.
const BATCH: u32 = 16;
/// Longest wait between passes when nothing wakes the task.
const IDLE_LOOK: Duration = Duration::from_millis(500);

/// The upload task's settings.
#[derive(Clone, Debug)]
pub struct UploadConfig {
    pub storage: Storage,
    pub root: RecordingsRoot,
    pub policy: RetryPolicy,
    /// Delete the local file after a verified upload.
    pub delete_local: bool,
}

/// Starts the upload task; `wake` is notified when a file is marked PENDING.
pub fn spawn(
    catalog: Catalog,
    cfg: UploadConfig,
    bus: EventBus,
    notify: Notifier,
    wake: Arc<Notify>,
) {
    tokio::spawn(async move {
        loop {
            let due = match catalog.uploads_due(unix_ms_now(), BATCH).await {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!(error = %e, "uploads: catalog not readable");
                    Vec::new()
                }
            };
            if due.is_empty() {
                let _ = tokio::time::timeout(IDLE_LOOK, wake.notified()).await;
                continue;
            }
            for r in due {
                attempt(&catalog, &cfg, &bus, &notify, r).await;
            }
        }
    });
}

/// One attempt at `r` and its outcome recorded, announced and called back.
async fn attempt(
    catalog: &Catalog,
    cfg: &UploadConfig,
    bus: &EventBus,
    notify: &Notifier,
    mut r: Recording,
) {
    let made = r.upload.attempts;
    let has_backup = cfg.storage.backup.is_some();
    let target = match cfg.policy.target(made, has_backup) {
        Some(Which::Primary) => &cfg.storage.primary,
        Some(Which::Backup) => cfg.storage.backup.as_ref().expect("has a backup"),
        None => {
            give_up(catalog, bus, notify, r, "no attempts left").await;
            return;
        }
    };
    announce(bus, &r, UploadState::Uploading, 0);
    let outcome = upload_one(target, &cfg.root, &r, |sent| {
        announce(bus, &r, UploadState::Uploading, sent)
    })
    .await;
    let attempts = made + 1;
    match outcome {
        Ok(location) => {
            r.upload = Upload {
                state: UPLOAD_UPLOADED.into(),
                location,
                attempts,
                next_ms: 0,
                error: String::new(),
            };
            if let Err(e) = catalog.set_upload(r.id, &r.upload).await {
                tracing::error!(error = %e, id = r.id, "upload done but not recorded; it will be redone");
                return;
            }
            tracing::info!(id = r.id, path = %r.path, location = %r.upload.location, attempts, "recording uploaded");
            if cfg.delete_local {
                delete_local(&cfg.root, &r.path).await;
            }
            announce(
                bus,
                &r,
                UploadState::Uploaded,
                u64::try_from(r.size_bytes).unwrap_or(0),
            );
            notify.upload_completed(&r).await;
        }
        Err(e) => {
            tracing::warn!(id = r.id, path = %r.path, attempts, error = %e, "upload attempt failed");
            if cfg.policy.target(attempts, has_backup).is_none() {
                r.upload.attempts = attempts;
                give_up(catalog, bus, notify, r, &e).await;
                return;
            }
            r.upload = Upload {
                state: UPLOAD_PENDING.into(),
                location: String::new(),
                attempts,
                next_ms: unix_ms_now() + cfg.policy.delay_ms(attempts),
                error: e,
            };
            if let Err(e) = catalog.set_upload(r.id, &r.upload).await {
                tracing::error!(error = %e, id = r.id, "upload attempt not recorded");
            }
            announce(bus, &r, UploadState::Pending, 0);
        }
    }
}

async fn give_up(
    catalog: &Catalog,
    bus: &EventBus,
    notify: &Notifier,
    mut r: Recording,
    error: &str,
) {
    r.upload.state = UPLOAD_FAILED.into();
    r.upload.error = error.to_owned();
    if let Err(e) = catalog.set_upload(r.id, &r.upload).await {
        tracing::error!(error = %e, id = r.id, "upload failure not recorded");
    }
    tracing::error!(id = r.id, path = %r.path, error, "upload failed; every attempt spent");
    announce(bus, &r, UploadState::Failed, 0);
    notify.upload_failed(&r).await;
}

/// Sends the `OutputInfoChanged` of `r` with its upload at `state`.
fn announce(bus: &EventBus, r: &Recording, state: UploadState, sent: u64) {
    bus.emit(
        &r.mixer_id,
        EventKind::UploadChanged {
            output: r.output_info(),
            upload: UploadInfo {
                state,
                location: r.upload.location.clone(),
                uploaded_bytes: sent,
                attempts: u32::try_from(r.upload.attempts).unwrap_or(u32::MAX),
                error_message: r.upload.error.clone(),
            },
        },
    );
}

/// Uploads `r`'s file to `target` and verifies it; returns its location. Errors name
/// the step (read, write, verify) and the cause.
async fn upload_one(
    target: &Target,
    root: &RecordingsRoot,
    r: &Recording,
    progress: impl Fn(u64),
) -> Result<String, String> {
    let key = target.key(&r.path).map_err(|e| e.to_string())?;
    let file = root
        .dir()
        .open(&r.path)
        .map_err(|e| format!("read {}: {e}", r.path))?;
    let mut file = tokio::fs::File::from_std(file.into_std());
    let store = target.store();
    let upload = store
        .put_multipart(&key)
        .await
        .map_err(|e| format!("start upload: {e}"))?;
    let mut w = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
    let mut hash = Sha256::new();
    let mut sent = 0u64;
    let mut next_report = PART_BYTES as u64;
    let mut buf = vec![0u8; 1024 * 1024];
    loop {
        let n = match file.read(&mut buf).await {
            Ok(n) => n,
            Err(e) => {
                let _ = w.abort().await;
                return Err(format!("read {}: {e}", r.path));
            }
        };
        if n == 0 {
            break;
        }
        if let Err(e) = w.wait_for_capacity(2).await {
            return Err(format!("write: {e}"));
        }
        hash.update(&buf[..n]);
        w.write(&buf[..n]);
        sent += n as u64;
        if sent >= next_report {
            progress(sent);
            next_report += PART_BYTES as u64;
        }
    }
    let read_hash = hex(hash.finalize().as_slice());
    if !r.sha256.is_empty() && read_hash != r.sha256 {
        let _ = w.abort().await;
        return Err(format!(
            "read {}: SHA-256 {read_hash} is not the catalog's {} (file changed)",
            r.path, r.sha256
        ));
    }
    w.finish().await.map_err(|e| format!("write: {e}"))?;
    verify(store.as_ref(), &key, sent, &read_hash).await?;
    Ok(target.location(&key))
}

/// `HEAD` gives `size` bytes and the object's bytes hash to `sha256`.
async fn verify(
    store: &dyn object_store::ObjectStore,
    key: &ObjectPath,
    size: u64,
    sha256: &str,
) -> Result<(), String> {
    let meta = store
        .head(key)
        .await
        .map_err(|e| format!("verify: HEAD: {e}"))?;
    if meta.size as u64 != size {
        return Err(format!(
            "verify: object has {} bytes, the file {size}",
            meta.size
        ));
    }
    let mut stream = store
        .get(key)
        .await
        .map_err(|e| format!("verify: GET: {e}"))?
        .into_stream();
    let mut hash = Sha256::new();
    while let Some(chunk) = stream.next().await {
        hash.update(chunk.map_err(|e| format!("verify: GET: {e}"))?);
    }
    let got = hex(hash.finalize().as_slice());
    if got != sha256 {
        return Err(format!("verify: object SHA-256 {got}, the file's {sha256}"));
    }
    Ok(())
}

async fn delete_local(root: &RecordingsRoot, path: &str) {
    let (dir, p) = (root.clone(), path.to_owned());
    match tokio::task::spawn_blocking(move || dir.dir().remove_file(&p)).await {
        Ok(Ok(())) => tracing::info!(path, "local copy deleted after a verified upload"),
        Ok(Err(e)) => tracing::warn!(error = %e, path, "local copy not deleted"),
        Err(e) => tracing::error!(error = %e, "delete task panicked"),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
