//! The recordings REST API (`serve --rest-listen`): Easemob's four recording queries
//! (seed 003) over the catalog, JSON over HTTP/1.1.
//!
//! | Path | Rows |
//! |---|---|
//! | `GET /{org}/{app}/audio/{confrId}` | every file of the conference |
//! | `GET /{org}/{app}/audio/{beginTime}/{endTime}/{startId}/{length}` | files finished in the range, `id >= startId`, at most `length` (1..=100) |
//! | `GET /{org}/{app}/audio/merge/{beginTime}/{endTime}/{startId}/{length}` | the same, composites (MERGE_ALL) only |
//! | `GET /{org}/{app}/audio/{userName}/{confrId}` | every file of participant `userName` (camid) in the conference |
//! | `GET /files/{id}?expires=..&sig=..` | the file itself, through the record's signed `url` ([`super::download`]) |
//!
//! `{org}` and `{app}` are accepted and ignored (one daemon, one tenant). Each record's
//! `url` is a download link signed for `serve --url-ttl-secs` ([`super::signed`]); the
//! download needs no token (the signature is the credential). Rows come in
//! ascending id. The body is `{"count": N, "data": [record...]}`
//! ([`super::easemob::record_json`]); paged queries add `"nextStartId"` (the id to ask
//! for next, null after the last page).
//!
//! Errors, as JSON `{"error": "...", "param": "..."}`: 400 for a malformed parameter (the
//! message names it, e.g. `length: must be 1..=100, got "101"`); 401 without a valid
//! bearer token when the daemon has tokens (the same tokens and JWTs as the gRPC API,
//! `Authorization: Bearer ...`); 429 with `Retry-After` (seconds) when a client address
//! exceeds its request rate ([`RateLimit`]); 503 when the catalog cannot be read.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use parking_lot::Mutex;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use super::download;
use super::easemob::{record_json, TimePage};
use super::links::Links;
use super::row::Recording;
use super::signed::{UrlError, UrlSigner};
use super::storage::Storage;
use super::store::{Catalog, CatalogError};
use crate::api::auth::ServerAuth;
use crate::events::unix_ms_now;
use crate::model::RecordingsRoot;

/// Per-client request rate: a token bucket per client IP address.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RateLimit {
    /// Requests per second, sustained.
    pub per_second: f64,
    /// Requests allowed at once after a quiet spell.
    pub burst: u32,
}

/// Default [`RateLimit`]: 20 requests per second, bursts of 40.
pub const DEFAULT_RATE_LIMIT: RateLimit = RateLimit {
    per_second: 20.0,
    burst: 40,
};

/// Client addresses remembered by the rate limiter; the oldest is forgotten past it.
const MAX_TRACKED_CLIENTS: usize = 10_000;

/// Token buckets by client address: (tokens, last refill).
struct Buckets {
    limit: RateLimit,
    by_ip: HashMap<IpAddr, (f64, Instant)>,
}

impl Buckets {
    /// Takes one token for `ip` at `now`; Err(seconds to wait) if it has none.
    fn take(&mut self, ip: IpAddr, now: Instant) -> Result<(), u64> {
        if self.by_ip.len() >= MAX_TRACKED_CLIENTS && !self.by_ip.contains_key(&ip) {
            if let Some(oldest) = self
                .by_ip
                .iter()
                .min_by_key(|(_, (_, t))| *t)
                .map(|(k, _)| *k)
            {
                self.by_ip.remove(&oldest);
            }
        }
        let burst = f64::from(self.limit.burst.max(1));
        let (tokens, last) = self.by_ip.entry(ip).or_insert((burst, now));
        let refill = now.duration_since(*last).as_secs_f64() * self.limit.per_second;
        *tokens = (*tokens + refill).min(burst);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - *tokens) / self.limit.per_second.max(1e-3);
            Err(wait.ceil().max(1.0) as u64)
        }
    }
}

/// What the REST API serves from.
pub struct RestConfig {
    pub catalog: Catalog,
    /// The gRPC API's credentials.
    pub auth: ServerAuth,
    pub limit: RateLimit,
    pub signer: UrlSigner,
    /// Where files are read from (beneath it only).
    pub root: RecordingsRoot,
    /// Base of the download URLs, e.g. `https://rec.example.com`; None:
    /// `http://<bound address>`.
    pub public_url: Option<String>,
    /// Object storage: files uploaded there are downloaded through presigned URLs.
    pub storage: Option<Storage>,
}

#[derive(Clone)]
struct Ctx {
    catalog: Catalog,
    auth: ServerAuth,
    buckets: Arc<Mutex<Buckets>>,
    signer: UrlSigner,
    root: RecordingsRoot,
    links: Links,
}

/// Binds `addr` and serves the API until the process ends; returns the bound address
/// (port 0 picks one) and the download links it serves (for the gRPC answers).
/// Errors: the address cannot be bound.
pub async fn serve(addr: SocketAddr, cfg: RestConfig) -> std::io::Result<(SocketAddr, Links)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let base = cfg
        .public_url
        .map(|u| u.trim_end_matches('/').to_owned())
        .unwrap_or_else(|| format!("http://{local}"));
    let links = Links {
        ttl: cfg.signer.ttl(),
        local: Some((cfg.signer.clone(), base)),
        storage: cfg.storage,
    };
    let app = Router::new()
        // Parameters at one depth share a name (the router requires it); the handlers
        // take them by position.
        .route("/:org/:app/audio/:p4", get(by_conference))
        .route("/:org/:app/audio/:p4/:p5", get(by_member))
        .route("/:org/:app/audio/:p4/:p5/:p6/:p7", get(by_time))
        .route(
            "/:org/:app/audio/merge/:p5/:p6/:p7/:p8",
            get(merged_by_time),
        )
        .route("/files/:p2", get(file))
        .with_state(Ctx {
            catalog: cfg.catalog,
            auth: cfg.auth,
            buckets: Arc::new(Mutex::new(Buckets {
                limit: cfg.limit,
                by_ip: HashMap::new(),
            })),
            signer: cfg.signer,
            root: cfg.root,
            links: links.clone(),
        });
    let app = app.into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "recordings REST server ended");
        }
    });
    Ok((local, links))
}

fn json_response(code: StatusCode, body: &Value) -> Response {
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".into());
    (code, [(header::CONTENT_TYPE, "application/json")], text).into_response()
}

fn error(code: StatusCode, param: &str, message: &str) -> Response {
    json_response(code, &json!({"error": message, "param": param}))
}

/// Authentication, then the client's rate: the refusal, if any.
fn refused(ctx: &Ctx, peer: SocketAddr, headers: &HeaderMap) -> Option<Response> {
    if !ctx.auth.is_open() {
        let md = tonic::metadata::MetadataMap::from_headers(headers.clone());
        if let Err(s) = ctx.auth.check(&md) {
            return Some(error(
                StatusCode::UNAUTHORIZED,
                "Authorization",
                s.message(),
            ));
        }
    }
    if let Err(wait) = ctx.buckets.lock().take(peer.ip(), Instant::now()) {
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            "",
            "rate limited: retry after the Retry-After seconds",
        );
        if let Ok(v) = wait.to_string().parse() {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Some(r);
    }
    None
}

async fn rows(
    ctx: &Ctx,
    result: Result<Vec<Recording>, CatalogError>,
    page: Option<&TimePage>,
) -> Response {
    match result {
        Ok(rows) => {
            let now_s = unix_ms_now() / 1000;
            let mut data = Vec::with_capacity(rows.len());
            for r in &rows {
                data.push(record_json(r, &ctx.links.download_url(r, now_s).await));
            }
            let mut body = json!({
                "count": rows.len(),
                "data": data,
            });
            if let Some(p) = page {
                let next = (rows.len() == p.length as usize)
                    .then(|| rows.last().map(|r| r.id + 1))
                    .flatten();
                body["nextStartId"] = json!(next);
            }
            json_response(StatusCode::OK, &body)
        }
        Err(e) => {
            tracing::error!(error = %e, "catalog query failed");
            error(
                StatusCode::SERVICE_UNAVAILABLE,
                "",
                "the recordings catalog cannot be read",
            )
        }
    }
}

type Peer = ConnectInfo<SocketAddr>;

async fn by_conference(
    State(ctx): State<Ctx>,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
    Path((_org, _app, confr_id)): Path<(String, String, String)>,
) -> Response {
    if let Some(r) = refused(&ctx, peer, &headers) {
        return r;
    }
    rows(&ctx, ctx.catalog.by_conference(&confr_id).await, None).await
}

async fn by_member(
    State(ctx): State<Ctx>,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
    Path((_org, _app, user, confr_id)): Path<(String, String, String, String)>,
) -> Response {
    if let Some(r) = refused(&ctx, peer, &headers) {
        return r;
    }
    rows(&ctx, ctx.catalog.by_member(&user, &confr_id).await, None).await
}

type TimeParams = (String, String, String, String, String, String);

async fn paged(
    ctx: Ctx,
    peer: SocketAddr,
    headers: HeaderMap,
    p: TimeParams,
    merged: bool,
) -> Response {
    if let Some(r) = refused(&ctx, peer, &headers) {
        return r;
    }
    let (_org, _app, begin, end, start, length) = p;
    match TimePage::parse(&begin, &end, &start, &length, merged) {
        Ok(page) => rows(&ctx, ctx.catalog.by_time(&page).await, Some(&page)).await,
        Err(e) => error(StatusCode::BAD_REQUEST, e.param, &e.to_string()),
    }
}

async fn by_time(
    State(ctx): State<Ctx>,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
    Path(p): Path<TimeParams>,
) -> Response {
    paged(ctx, peer, headers, p, false).await
}

async fn merged_by_time(
    State(ctx): State<Ctx>,
    ConnectInfo(peer): Peer,
    headers: HeaderMap,
    Path((org, app, begin, end, start, length)): Path<TimeParams>,
) -> Response {
    paged(
        ctx,
        peer,
        headers,
        (org, app, begin, end, start, length),
        true,
    )
    .await
}

/// `expires` and `sig` of a download URL's query string.
fn signature(query: Option<&str>) -> Option<(i64, &str)> {
    let (mut expires, mut sig) = (None, None);
    for pair in query?.split('&') {
        match pair.split_once('=') {
            Some(("expires", v)) => expires = v.parse().ok(),
            Some(("sig", v)) => sig = Some(v),
            _ => {}
        }
    }
    Some((expires?, sig?))
}

async fn file(
    State(ctx): State<Ctx>,
    headers: HeaderMap,
    Path(id): Path<String>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Response {
    let forbidden = |m: &str| error(StatusCode::FORBIDDEN, "sig", m);
    let (Ok(id), Some((expires, sig))) = (id.parse::<i64>(), signature(query.as_deref())) else {
        return forbidden("a download URL needs its id, expires and sig");
    };
    match ctx.signer.verify(id, expires, sig, unix_ms_now() / 1000) {
        Ok(()) => {}
        Err(e @ (UrlError::Expired | UrlError::BadSignature)) => return forbidden(&e.to_string()),
    }
    let not_found = || error(StatusCode::NOT_FOUND, "id", "no such recording file");
    let row = match ctx.catalog.get(id).await {
        Ok(Some(r)) => r,
        Ok(None) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "catalog query failed");
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "",
                "the recordings catalog cannot be read",
            );
        }
    };
    let opened = ctx.root.dir().open(&row.path).and_then(|f| {
        let len = f.metadata()?.len();
        Ok((f.into_std(), len))
    });
    let Ok((f, len)) = opened else {
        return not_found();
    };
    let name = row.path.rsplit('/').next().unwrap_or("recording");
    let range = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    download::respond(tokio::fs::File::from_std(f), len, name, range).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn buckets_allow_the_burst_then_ask_to_wait_and_refill() {
        let mut b = Buckets {
            limit: RateLimit {
                per_second: 2.0,
                burst: 3,
            },
            by_ip: HashMap::new(),
        };
        let ip: IpAddr = [127, 0, 0, 1].into();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(b.take(ip, t0), Ok(()));
        }
        assert_eq!(b.take(ip, t0), Err(1));
        // Another client has its own bucket.
        assert_eq!(b.take([127, 0, 0, 2].into(), t0), Ok(()));
        assert_eq!(b.take(ip, t0 + Duration::from_millis(500)), Ok(()));
    }
}
