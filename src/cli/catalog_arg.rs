//! `serve`'s recordings catalog and REST API flags, and starting both.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::Args;
use tonic::Status;

use crate::api::auth::{self, ServerAuth};
use crate::api::CloudMixerService;
use crate::catalog::feed::{self, FeedConfig};
use crate::catalog::grpc::RecordingsService;
use crate::catalog::links::Links;
use crate::catalog::rest::{self, RateLimit, RestConfig, DEFAULT_RATE_LIMIT};
use crate::catalog::retention;
use crate::catalog::signed::{UrlSigner, DEFAULT_URL_TTL_SECS};
use crate::catalog::store::is_postgres_url;
use crate::catalog::Catalog;
use crate::cli::storage_arg;
use crate::model::RecordingsRoot;

/// File name of the catalog in the state directory.
pub const CATALOG_FILE: &str = "catalog.sqlite3";
/// Directory of the job manifests in the state directory.
pub const MANIFEST_DIR: &str = "manifests";
/// File name of the download URL key in the state directory.
pub const URL_KEY_FILE: &str = "url-signing.key";

/// Flags of the recordings catalog (docs/API.md "Recordings catalog").
#[derive(Debug, Clone, Args)]
pub struct CatalogArgs {
    /// The recordings catalog: an SQLite database file (created if missing), or a
    /// PostgreSQL URL, postgres://USER:PASSWORD@HOST:PORT/DB (the database must exist;
    /// several daemons may share it; the password is never logged). Every output file
    /// is listed in it once its writing ends. Default: catalog.sqlite3 in the
    /// --state-dir.
    #[arg(long, env = "CLOUDMIXER_CATALOG", value_name = "FILE|URL")]
    pub catalog: Option<String>,
    /// Seconds a recording is kept (default 2592000 = 30 days): its catalog expireTime
    /// is the time it was finished plus this; past it the file is deleted and its row
    /// marked EXPIRED.
    #[arg(long, env = "CLOUDMIXER_RETENTION_SECS", default_value_t = 30 * 86_400,
          value_parser = clap::value_parser!(u64).range(1..=3_153_600_000))]
    pub retention_secs: u64,
    /// How often expired recordings are looked for, seconds.
    #[arg(long, env = "CLOUDMIXER_EXPIRY_SWEEP_SECS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub expiry_sweep_secs: u64,
    /// TCP address of the recordings REST API (Easemob's recording queries), e.g.
    /// 127.0.0.1:8090 (port 0 picks a free one); needs the same credentials as the
    /// gRPC API (--auth-tokens-file, ...; required off loopback). Once bound, the daemon
    /// prints `rest listening on HOST:PORT`. Unset: no REST server.
    #[arg(long, env = "CLOUDMIXER_REST_LISTEN")]
    pub rest_listen: Option<SocketAddr>,
    /// Requests per second one client address may make to the REST API (sustained);
    /// more are answered 429 with Retry-After.
    #[arg(long, env = "CLOUDMIXER_REST_RATE", default_value_t = DEFAULT_RATE_LIMIT.per_second)]
    pub rest_rate: f64,
    /// Seconds a download URL in a REST answer stays valid.
    #[arg(long, env = "CLOUDMIXER_URL_TTL_SECS", default_value_t = DEFAULT_URL_TTL_SECS,
          value_parser = clap::value_parser!(u64).range(1..=31_536_000))]
    pub url_ttl_secs: u64,
    /// Base of the download URLs, e.g. https://rec.example.com when a proxy fronts the
    /// REST API. Default: http://<bound --rest-listen address>.
    #[arg(long, env = "CLOUDMIXER_REST_PUBLIC_URL")]
    pub rest_public_url: Option<String>,
    /// Requests one client address may make at once after a quiet spell.
    #[arg(long, env = "CLOUDMIXER_REST_BURST", default_value_t = DEFAULT_RATE_LIMIT.burst,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub rest_burst: u32,
    #[command(flatten)]
    pub storage: crate::cli::storage_arg::StorageArgs,
}

/// Opens the catalog, starts its feed from `service`'s events and, with --rest-listen,
/// the REST API. Returns the REST address and the `Recordings` gRPC service. Errors: FAILED_PRECONDITION (REST off
/// loopback without credentials), INVALID_ARGUMENT (a rate that is not positive),
/// UNAVAILABLE (the catalog cannot be opened, the address cannot be bound).
pub async fn start(
    a: &CatalogArgs,
    state_dir: &Path,
    root: &RecordingsRoot,
    service: &CloudMixerService,
    auth: &ServerAuth,
) -> Result<(Option<SocketAddr>, RecordingsService), Status> {
    if !(a.rest_rate.is_finite() && a.rest_rate > 0.0) {
        return Err(Status::invalid_argument(format!(
            "--rest-rate: must be a positive number of requests per second, got {}",
            a.rest_rate
        )));
    }
    let (catalog, shown) = match &a.catalog {
        Some(url) if is_postgres_url(url) => {
            let shown = redact_password(url);
            let c = Catalog::connect(url).await;
            (c, shown)
        }
        _ => {
            let path = a
                .catalog
                .as_ref()
                .map(PathBuf::from)
                .unwrap_or_else(|| state_dir.join(CATALOG_FILE));
            (Catalog::open(&path).await, path.display().to_string())
        }
    };
    let catalog = catalog.map_err(|e| {
        Status::unavailable(format!(
            "--catalog {shown}: {}",
            redact_password(&e.to_string())
        ))
    })?;
    tracing::info!(catalog = %shown, "recordings catalog open");
    let started = storage_arg::start(&a.storage, state_dir, &catalog, root, service.bus())?;
    let cfg = FeedConfig {
        retention: Duration::from_secs(a.retention_secs),
        root: root.clone(),
        upload: started.storage.is_some(),
        upload_wake: started.upload_wake,
        notify: started.notifier,
        manifest_dir: state_dir.join(MANIFEST_DIR),
    };
    feed::spawn(catalog.clone(), service.clone(), service.bus(), cfg);
    retention::spawn(
        catalog.clone(),
        root.clone(),
        started.storage.clone(),
        Duration::from_secs(a.expiry_sweep_secs),
    );
    let mut grpc = RecordingsService {
        catalog: catalog.clone(),
        links: Links {
            local: None,
            storage: started.storage.clone(),
            ttl: Duration::from_secs(a.url_ttl_secs),
        },
        root: root.clone(),
    };
    let Some(addr) = a.rest_listen else {
        return Ok((None, grpc));
    };
    // The REST API takes the gRPC API's tokens and JWTs; mutual TLS does not cover it.
    auth::require_for_listen(addr, auth, false)
        .map_err(|e| Status::failed_precondition(format!("--rest-listen: {e}")))?;
    let key = state_dir.join(URL_KEY_FILE);
    let signer = UrlSigner::load_or_create(&key, a.url_ttl_secs)
        .map_err(|e| Status::unavailable(format!("download URL key {}: {e}", key.display())))?;
    let cfg = RestConfig {
        catalog,
        auth: auth.clone(),
        limit: RateLimit {
            per_second: a.rest_rate,
            burst: a.rest_burst,
        },
        signer,
        root: root.clone(),
        public_url: a.rest_public_url.clone(),
        storage: started.storage,
    };
    let (bound, links) = rest::serve(addr, cfg)
        .await
        .map_err(|e| Status::unavailable(format!("--rest-listen {addr}: {e}")))?;
    tracing::info!("rest (recordings) listening on {bound}");
    grpc.links = links;
    Ok((Some(bound), grpc))
}

/// `url` with the password of every `scheme://user:password@host` in it replaced by
/// `***` (for logs and errors).
pub fn redact_password(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (before, after) = rest.split_at(i + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| c == '/' || c.is_whitespace())
            .unwrap_or(after.len());
        let authority = &after[..end];
        match (authority.rfind('@'), authority.find(':')) {
            (Some(at), Some(colon)) if colon < at => {
                out.push_str(&authority[..colon]);
                out.push_str(":***");
                out.push_str(&authority[at..]);
            }
            _ => out.push_str(authority),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            super::redact_password("postgres://cm:s3cret@db:5432/rec failed"),
            "postgres://cm:***@db:5432/rec failed"
        );
        assert_eq!(
            super::redact_password("postgres://db/rec"),
            "postgres://db/rec"
        );
        assert_eq!(
            super::redact_password("/var/lib/c.sqlite3"),
            "/var/lib/c.sqlite3"
        );
    }
}
