//! Observability over HTTP/1.1 (`serve --http-listen`): Prometheus `/metrics`,
//! `/healthz` (tick threads alive) and `/readyz` (admitting), for operators' usual
//! tools (Prometheus scrapes, Kubernetes liveness and readiness probes).
//!
//! - `GET /metrics`: the text exposition format 0.0.4 ([`collect`]; every metric is
//!   listed in docs/OPERATIONS.md).
//! - `GET /healthz`: 200 if every Running mixer's tick thread made a picture within
//!   `--tick-stall-secs`, else 503; JSON body [`health::Health`].
//! - `GET /readyz`: 200 if a new mixer would be admitted (not draining, below
//!   `--max-mixers`, CPU budget left), else 503; JSON body [`health::Readiness`].
//!
//! The listener is unauthenticated (like the gRPC health service): bind it where only
//! the scraper and the kubelet reach it. It exposes mixer ids and camids in labels.

pub mod collect;
pub mod events;
pub mod grpc_layer;
pub mod health;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;

use crate::api::CloudMixerService;

/// Default `--tick-stall-secs`.
pub const DEFAULT_TICK_STALL: Duration = Duration::from_secs(10);

/// What the HTTP handlers read.
#[derive(Clone)]
struct Ctx {
    service: CloudMixerService,
    events: PrometheusHandle,
    stall_after: Duration,
}

/// Binds `addr` and serves `/metrics`, `/healthz` and `/readyz` for `service` until the
/// process ends. `events`: the global recorder's handle ([`collect::install`]);
/// `stall_after`: a Running mixer silent this long is unhealthy. Returns the bound
/// address (port 0 picks one). Errors: the address cannot be bound.
pub async fn serve(
    addr: SocketAddr,
    service: CloudMixerService,
    events: PrometheusHandle,
    stall_after: Duration,
) -> std::io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let app = Router::new()
        .route("/metrics", get(metrics))
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .with_state(Ctx {
            service,
            events,
            stall_after,
        });
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "HTTP (metrics, health) server ended");
        }
    });
    Ok(local)
}

/// Runs `f` on the blocking pool (the collector takes mixer snapshots, which may wait
/// for an update's lock); a panic becomes 500.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, Response> {
    tokio::task::spawn_blocking(f).await.map_err(|e| {
        tracing::error!(error = %e, "metrics/health collection panicked");
        StatusCode::INTERNAL_SERVER_ERROR.into_response()
    })
}

async fn metrics(State(ctx): State<Ctx>) -> Response {
    let text =
        match blocking(move || collect::render(&ctx.service, &ctx.events, Instant::now())).await {
            Ok(t) => t,
            Err(r) => return r,
        };
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

fn json_status<T: serde::Serialize>(ok: bool, body: &T) -> Response {
    let code = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let text = serde_json::to_string(body).unwrap_or_else(|_| "{}".into());
    (code, [(header::CONTENT_TYPE, "application/json")], text).into_response()
}

async fn healthz(State(ctx): State<Ctx>) -> Response {
    let stall = ctx.stall_after;
    match blocking(move || collect::tick_views(&ctx.service, Instant::now())).await {
        Ok(views) => {
            let h = health::health(&views, stall);
            json_status(h.healthy, &h)
        }
        Err(r) => r,
    }
}

async fn readyz(State(ctx): State<Ctx>) -> Response {
    let r = health::readiness(ctx.service.load(), ctx.service.is_draining());
    json_status(r.ready, &r)
}
