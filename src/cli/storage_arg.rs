//! `serve`'s object storage and webhook flags (docs/API.md "Object storage" and
//! "Webhooks"), and starting the upload and webhook delivery tasks.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::Args;
use tokio::sync::Notify;
use tonic::Status;

use crate::catalog::notice::Notifier;
use crate::catalog::retry::RetryPolicy;
use crate::catalog::storage::{S3Options, Storage, Target};
use crate::catalog::upload::{self, UploadConfig};
use crate::catalog::webhook::{self, DeliveryConfig, WebhookSecret};
use crate::catalog::Catalog;
use crate::events::EventBus;
use crate::model::RecordingsRoot;

/// File name of the generated webhook secret in the state directory.
pub const WEBHOOK_SECRET_FILE: &str = "webhook-secret";

/// Flags of object storage and webhooks.
#[derive(Debug, Clone, Args)]
pub struct StorageArgs {
    /// Where finished recordings are uploaded: s3://BUCKET[/PREFIX] (Amazon S3 or any
    /// S3-compatible store; credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY)
    /// or file:///DIR. Unset: files stay under the recordings root only (catalog
    /// uploadState LOCAL).
    #[arg(long, env = "CLOUDMIXER_STORAGE_URL", value_name = "URL")]
    pub storage_url: Option<String>,
    /// The S3-compatible server, e.g. http://127.0.0.1:9000 (path-style requests).
    /// Default: AWS_ENDPOINT, else Amazon S3.
    #[arg(long, env = "CLOUDMIXER_STORAGE_ENDPOINT", value_name = "URL")]
    pub storage_endpoint: Option<String>,
    /// S3 region. Default: AWS_REGION, else us-east-1.
    #[arg(long, env = "CLOUDMIXER_STORAGE_REGION")]
    pub storage_region: Option<String>,
    /// Where uploads go once the primary's attempts are spent (same forms as
    /// --storage-url, same endpoint and credentials for s3://).
    #[arg(long, env = "CLOUDMIXER_STORAGE_BACKUP_URL", value_name = "URL")]
    pub storage_backup_url: Option<String>,
    /// Delete a recording's local file once its upload is verified (size and SHA-256
    /// read back); downloads then go to the object store (presigned URLs).
    #[arg(long, env = "CLOUDMIXER_STORAGE_DELETE_LOCAL")]
    pub storage_delete_local: bool,
    /// Upload attempts on the primary store before the backup's (or giving up).
    #[arg(long, env = "CLOUDMIXER_UPLOAD_ATTEMPTS", default_value_t = 8,
          value_parser = clap::value_parser!(i64).range(1..=1000))]
    pub upload_attempts: i64,
    /// Upload attempts on the backup store.
    #[arg(long, env = "CLOUDMIXER_UPLOAD_BACKUP_ATTEMPTS", default_value_t = 8,
          value_parser = clap::value_parser!(i64).range(1..=1000))]
    pub upload_backup_attempts: i64,
    /// Delay after a first failed upload or webhook attempt, ms; it doubles per
    /// failure up to --retry-max-delay-ms.
    #[arg(long, env = "CLOUDMIXER_RETRY_FIRST_DELAY_MS", default_value_t = 1_000,
          value_parser = clap::value_parser!(i64).range(10..=3_600_000))]
    pub retry_first_delay_ms: i64,
    /// Longest delay between attempts, ms.
    #[arg(long, env = "CLOUDMIXER_RETRY_MAX_DELAY_MS", default_value_t = 300_000,
          value_parser = clap::value_parser!(i64).range(10..=86_400_000))]
    pub retry_max_delay_ms: i64,
    /// A customer endpoint told of recording events (POST, JSON, Standard Webhooks
    /// signature); repeat for several. Events: recording.started,
    /// recording.output_finalized, recording.upload_completed, recording.upload_failed,
    /// recording.ended (every file of the run).
    #[arg(
        long = "webhook-url",
        env = "CLOUDMIXER_WEBHOOK_URLS",
        value_delimiter = ',',
        value_name = "URL"
    )]
    pub webhook_urls: Vec<String>,
    /// File holding the webhook signing secret, `whsec_<base64>`. Default: webhook-secret
    /// in the --state-dir, created (0600) with a random secret if missing.
    #[arg(long, env = "CLOUDMIXER_WEBHOOK_SECRET_FILE", value_name = "FILE")]
    pub webhook_secret_file: Option<PathBuf>,
    /// Delivery attempts per webhook message and endpoint before it is given up.
    #[arg(long, env = "CLOUDMIXER_WEBHOOK_ATTEMPTS", default_value_t = 12,
          value_parser = clap::value_parser!(i64).range(1..=1000))]
    pub webhook_attempts: i64,
}

/// What the catalog's feed needs of storage and webhooks.
pub struct Started {
    pub storage: Option<Storage>,
    pub notifier: Notifier,
    pub upload_wake: Arc<Notify>,
}

/// Opens the stores and the webhook secret, starts the upload and delivery tasks.
/// Errors: INVALID_ARGUMENT naming the flag (a bad URL, a bad secret, a first delay
/// above the longest), UNAVAILABLE (the secret file cannot be read or created).
pub fn start(
    a: &StorageArgs,
    state_dir: &Path,
    catalog: &Catalog,
    root: &RecordingsRoot,
    bus: &EventBus,
) -> Result<Started, Status> {
    if a.retry_first_delay_ms > a.retry_max_delay_ms {
        return Err(Status::invalid_argument(
            "--retry-first-delay-ms: above --retry-max-delay-ms",
        ));
    }
    for u in &a.webhook_urls {
        if !(u.starts_with("http://") || u.starts_with("https://")) {
            return Err(Status::invalid_argument(format!(
                "--webhook-url {u}: must be an http:// or https:// URL"
            )));
        }
    }
    let policy = |primary, backup| RetryPolicy {
        first_delay_ms: a.retry_first_delay_ms,
        max_delay_ms: a.retry_max_delay_ms,
        primary_attempts: primary,
        backup_attempts: backup,
    };
    let webhook_wake = Arc::new(Notify::new());
    let notifier = Notifier::new(
        catalog.clone(),
        a.webhook_urls.clone(),
        webhook_wake.clone(),
    );
    if !a.webhook_urls.is_empty() {
        let secret = load_secret(a, state_dir)?;
        let cfg = DeliveryConfig {
            secret,
            policy: policy(a.webhook_attempts, 0),
        };
        webhook::spawn(catalog.clone(), cfg, webhook_wake);
        tracing::info!(endpoints = a.webhook_urls.len(), "webhooks on");
    }
    let upload_wake = Arc::new(Notify::new());
    let storage = match &a.storage_url {
        None => None,
        Some(url) => {
            let s3 = S3Options {
                endpoint: a.storage_endpoint.clone(),
                region: a.storage_region.clone(),
            };
            let open = |flag: &str, url: &str| {
                Target::open(url, &s3).map_err(|e| Status::invalid_argument(format!("{flag}: {e}")))
            };
            let storage = Storage {
                primary: open("--storage-url", url)?,
                backup: a
                    .storage_backup_url
                    .as_deref()
                    .map(|u| open("--storage-backup-url", u))
                    .transpose()?,
            };
            let cfg = UploadConfig {
                storage: storage.clone(),
                root: root.clone(),
                policy: policy(a.upload_attempts, a.upload_backup_attempts),
                delete_local: a.storage_delete_local,
            };
            upload::spawn(
                catalog.clone(),
                cfg,
                bus.clone(),
                notifier.clone(),
                upload_wake.clone(),
            );
            tracing::info!(storage = %url, backup = ?a.storage_backup_url, "uploads on");
            Some(storage)
        }
    };
    Ok(Started {
        storage,
        notifier,
        upload_wake,
    })
}

/// The secret from --webhook-secret-file, or the state dir's (created if missing).
fn load_secret(a: &StorageArgs, state_dir: &Path) -> Result<WebhookSecret, Status> {
    let (path, create) = match &a.webhook_secret_file {
        Some(p) => (p.clone(), false),
        None => (state_dir.join(WEBHOOK_SECRET_FILE), true),
    };
    let shown = path.display().to_string();
    match std::fs::read_to_string(&path) {
        Ok(text) => WebhookSecret::parse(&text)
            .map_err(|e| Status::invalid_argument(format!("--webhook-secret-file {shown}: {e}"))),
        Err(e) if create && e.kind() == std::io::ErrorKind::NotFound => {
            let s = WebhookSecret::random();
            write_private(&path, &s.to_text())
                .map_err(|e| Status::unavailable(format!("webhook secret {shown}: {e}")))?;
            tracing::info!(file = %shown, "webhook secret created");
            Ok(s)
        }
        Err(e) => Err(Status::unavailable(format!("webhook secret {shown}: {e}"))),
    }
}

/// Writes `text` to a new file readable by its owner only (0600).
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())
}
