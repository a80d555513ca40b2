//! Where finished recordings are copied to: an object store named by a URL, through
//! the `object_store` crate (issue 13; ZEGO's "storage recording", seed 004).
//!
//! - `s3://BUCKET[/PREFIX]`: Amazon S3 or any S3-compatible store (Aliyun OSS, Tencent
//!   COS, MinIO, Garage, s3s-fs ...). Credentials and endpoint come from the standard
//!   AWS environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`,
//!   `AWS_ENDPOINT`, `AWS_ALLOW_HTTP`) or the `serve --storage-endpoint` flag; secrets
//!   are never logged. Objects are addressed path-style when an endpoint is given.
//!   Download URLs are S3 presigned URLs (SigV4 query authentication).
//! - `file:///DIR`: a directory on this machine (e.g. a mounted backup volume); no
//!   presigned URLs (the daemon's own signed URL serves the local copy).
//!
//! The object of a recording is `<PREFIX>/<path relative to the recordings root>`, so
//! uploading the same file again overwrites the same object (no duplicates).

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::signer::Signer;
use object_store::ObjectStore;

/// Retries of one HTTP request inside `object_store`: few and short, because a failed
/// upload attempt is retried by the catalog's own schedule (`super::retry`, logged and
/// counted in `uploadAttempts`) rather than hidden in the client for minutes.
static REQUEST_RETRY: std::sync::LazyLock<object_store::RetryConfig> =
    std::sync::LazyLock::new(|| object_store::RetryConfig {
        backoff: object_store::BackoffConfig::default(),
        max_retries: 2,
        retry_timeout: Duration::from_secs(10),
    });

/// One configured store.
#[derive(Clone)]
pub struct Target {
    store: Arc<dyn ObjectStore>,
    /// S3 only: makes presigned URLs.
    signer: Option<Arc<AmazonS3>>,
    /// `s3://bucket` or `file:///dir` (no trailing slash): the location's base.
    base: String,
    /// Key prefix within the store (may be empty).
    prefix: String,
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("base", &self.base)
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// The S3 connection settings that are not in the URL.
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    /// `http(s)://host:port` of an S3-compatible server; None: AWS (or `AWS_ENDPOINT`).
    pub endpoint: Option<String>,
    /// None: `AWS_REGION`/`AWS_DEFAULT_REGION`, else `us-east-1`.
    pub region: Option<String>,
}

/// A storage URL that cannot be used. The message names the URL and the cause.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StorageError(pub String);

impl Target {
    /// Opens the store named by `url` (see the module docs). Errors: an unknown scheme,
    /// an S3 URL without a bucket, a `file://` directory that cannot be created.
    pub fn open(url: &str, s3: &S3Options) -> Result<Target, StorageError> {
        let err = |e: &dyn std::fmt::Display| StorageError(format!("{url}: {e}"));
        if let Some(rest) = url.strip_prefix("s3://") {
            let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
            if bucket.is_empty() {
                return Err(err(&"no bucket (s3://BUCKET[/PREFIX])"));
            }
            let mut b = AmazonS3Builder::from_env()
                .with_bucket_name(bucket)
                .with_retry(REQUEST_RETRY.clone());
            if let Some(ep) = &s3.endpoint {
                b = b
                    .with_endpoint(ep)
                    .with_allow_http(ep.starts_with("http://"))
                    .with_virtual_hosted_style_request(false);
            }
            if let Some(r) = &s3.region {
                b = b.with_region(r);
            } else if std::env::var_os("AWS_REGION").is_none()
                && std::env::var_os("AWS_DEFAULT_REGION").is_none()
            {
                b = b.with_region("us-east-1");
            }
            let s3 = Arc::new(b.build().map_err(|e| err(&e))?);
            return Ok(Target {
                store: s3.clone(),
                signer: Some(s3),
                base: format!("s3://{bucket}"),
                prefix: prefix.trim_matches('/').to_owned(),
            });
        }
        if let Some(dir) = url.strip_prefix("file://") {
            if !dir.starts_with('/') {
                return Err(err(&"a file:// URL needs an absolute path (file:///DIR)"));
            }
            std::fs::create_dir_all(dir).map_err(|e| err(&e))?;
            let fs = LocalFileSystem::new_with_prefix(dir).map_err(|e| err(&e))?;
            return Ok(Target {
                store: Arc::new(fs),
                signer: None,
                base: format!("file://{}", dir.trim_end_matches('/')),
                prefix: String::new(),
            });
        }
        Err(err(&"unknown scheme (s3://BUCKET[/PREFIX] or file:///DIR)"))
    }

    /// The store itself.
    pub fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The object key of the recording at `path` (relative to the recordings root).
    /// Errors: a path `object_store` refuses (e.g. `..` segments).
    pub fn key(&self, path: &str) -> Result<ObjectPath, StorageError> {
        let full = if self.prefix.is_empty() {
            path.to_owned()
        } else {
            format!("{}/{path}", self.prefix)
        };
        ObjectPath::parse(&full).map_err(|e| StorageError(format!("{full}: {e}")))
    }

    /// The location string stored in the catalog: `<base>/<key>`.
    pub fn location(&self, key: &ObjectPath) -> String {
        format!("{}/{key}", self.base)
    }

    /// The key of `location` if it is in this store.
    pub fn key_of_location(&self, location: &str) -> Option<ObjectPath> {
        let key = location.strip_prefix(&self.base)?.strip_prefix('/')?;
        ObjectPath::parse(key).ok()
    }

    /// An S3 presigned GET URL for `key` valid for `ttl`; None for stores without
    /// presigning or when signing fails (logged).
    pub async fn presigned_get(&self, key: &ObjectPath, ttl: Duration) -> Option<String> {
        let signer = self.signer.as_ref()?;
        match signer.signed_url(reqwest::Method::GET, key, ttl).await {
            Ok(u) => Some(u.to_string()),
            Err(e) => {
                tracing::warn!(error = %e, "presigned URL not made");
                None
            }
        }
    }
}

/// The primary store and the optional backup used when the primary keeps failing.
#[derive(Clone, Debug)]
pub struct Storage {
    pub primary: Target,
    pub backup: Option<Target>,
}

impl Storage {
    /// The target (primary or backup) holding `location`.
    pub fn target_of(&self, location: &str) -> Option<(&Target, ObjectPath)> {
        std::iter::once(&self.primary)
            .chain(self.backup.as_ref())
            .find_map(|t| t.key_of_location(location).map(|k| (t, k)))
    }
}
