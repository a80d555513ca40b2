//! `serve`: the daemon. gRPC CloudMixer + server reflection (v1 and v1alpha) + health,
//! graceful shutdown on SIGINT/SIGTERM. With API tokens or a JWT secret configured,
//! CloudMixer and reflection calls need `authorization: Bearer <token>`
//! ([`crate::api::auth`]); with `--tls-cert` the API speaks TLS, and with
//! `--tls-client-ca` every client needs a certificate (mutual TLS, [`tls`]); a
//! non-loopback `--listen` with none of tokens, JWT secret or mutual TLS refuses to start.
//!
//! With `--http-listen`, an HTTP server answers Prometheus `/metrics`, `/healthz` and
//! `/readyz` ([`crate::api::observe`]); gRPC calls are counted by a tower layer on the
//! tonic server ([`grpc_layer`]).
//!
//! Shutdown order: with `--shutdown=drain`, first drain ([`drain`]: refuse new mixers,
//! report NOT_SERVING and `/readyz` 503, wait until no mixer records or
//! `--drain-grace-secs` passed, or a second signal); then (at once with `stop`, the
//! default) refuse new mixers, stop every mixer (each finalizes its file, at most
//! `--shutdown-timeout-secs`), end the event streams, let tonic finish in-flight calls
//! ([`SHUTDOWN_GRACE`] at most), exit 0.

use std::io::IsTerminal;
use std::time::Duration;

use tokio::net::TcpListener;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::server::{Router, TcpIncoming};
use tonic::transport::{Server, ServerTlsConfig};
use tonic::Status;
use tonic_health::server::HealthReporter;
use tonic_health::ServingStatus;
use tower_layer::{Identity, Stack};

use crate::api::auth::{self, ServerAuth, TokenSet};
use crate::api::concurrency::RequestLimits;
use crate::api::config::{OutputDefaults, ServiceConfig, MAX_REQUEST_BYTES};
use crate::api::journal::Journal;
use crate::api::jwt::JwtKey;
use crate::api::observe::{self, collect, grpc_layer::GrpcMetricsLayer};
use crate::api::registry::{Limits, Retention};
use crate::api::CloudMixerService;
use crate::catalog::grpc::RecordingsService;
use crate::cli::args::{LogFormat, ServeArgs, ShutdownMode};
use crate::cli::connect::error_chain;
use crate::cli::tls;
use crate::events::EventBus;
use crate::ingest::ports::PortPool;
use crate::ingest::webrtc::{RtcSettings, WhipServer};
use crate::model::RecordingsRoot;
use crate::proto::{
    self, cloud_mixer_server::CloudMixerServer, recordings_server::RecordingsServer,
};

/// After the mixers have stopped, how long open connections may take to finish.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// Installs the tracing subscriber: level from RUST_LOG (default `info`), to stderr.
pub fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    let _already_set = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}

/// Runs the daemon until SIGINT or SIGTERM. Errors: the recordings dir cannot be
/// created, the listen address cannot be bound, or the server fails.
pub async fn run(a: ServeArgs) -> Result<(), Status> {
    init_logging(a.log_format);
    return_big_allocations();
    let dir = &a.recordings_dir;
    let root = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::canonicalize(dir))
        .map_err(|e| Status::internal(format!("--recordings-dir {}: {e}", dir.display())))?;
    run_with_root(a, root).await
}

/// Allocations at least this large are mapped on their own and unmapped when freed.
pub const MMAP_THRESHOLD_BYTES: i32 = 1 << 20;

/// Makes glibc's malloc serve allocations of [`MMAP_THRESHOLD_BYTES`] and more with
/// their own mapping, returned to the system on free. By default the threshold rises
/// to the largest block freed so far (up to 32 MiB), after which decoded placeholder
/// pictures (up to 4096 x 4096 RGB, 48 MiB) and canvases come from the per-thread
/// arenas, whose free space is rarely given back: a daemon that created and destroyed
/// mixers with large pictures kept growing (e2e_admission measures it). Smaller blocks
/// (RTP packets, audio blocks) are unaffected; large buffers are reused per mixer
/// (canvas, scaler output, decoder pools), so the extra mappings happen at creation.
fn return_big_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a malloc tunable; called once before the mixers start.
    unsafe {
        if libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) == 0 {
            tracing::warn!(
                "mallopt(M_MMAP_THRESHOLD) refused; memory freed by ended mixers may stay mapped"
            );
        }
    }
}

/// `--single-path-template`, checked like a request's (INVALID_ARGUMENT naming the flag).
fn single_path_template(t: &str) -> Result<String, Status> {
    crate::request::validate::record::template(t, "--single-path-template")
        .map_err(|e| Status::invalid_argument(e.to_string()))?;
    Ok(t.to_owned())
}

async fn run_with_root(a: ServeArgs, root: std::path::PathBuf) -> Result<(), Status> {
    let single_path_template = single_path_template(&a.single_path_template)?;
    load_label_font(a.label_font.as_deref())?;
    let env_tokens = std::env::var("CLOUDMIXER_AUTH_TOKENS").ok();
    let tokens = TokenSet::load(a.auth_tokens_file.as_deref(), env_tokens.as_deref())
        .map_err(|e| Status::invalid_argument(e.to_string()))?;
    let jwt = match &a.auth_jwt_secret_file {
        Some(f) => Some(
            JwtKey::from_file(f)
                .map_err(|e| Status::invalid_argument(format!("--auth-jwt-secret-file: {e}")))?,
        ),
        None => None,
    };
    let auth = ServerAuth { tokens, jwt };
    let tls = tls::server_config(&tls::ServerTlsFiles {
        cert: a.tls_cert.as_deref(),
        key: a.tls_key.as_deref(),
        client_ca: a.tls_client_ca.as_deref(),
    })
    .map_err(Status::invalid_argument)?;
    let mtls = a.tls_client_ca.is_some();
    auth::require_for_listen(a.listen, &auth, mtls).map_err(Status::failed_precondition)?;
    if auth.is_open() && !mtls {
        tracing::warn!(
            "no caller authentication: the control API accepts every caller on {}",
            a.listen
        );
    } else {
        tracing::info!(
            tokens = auth.tokens.len(),
            jwt = auth.jwt.is_some(),
            mtls,
            "control API requires credentials"
        );
    }
    let whip_tls = match (&a.whip_tls_cert, &a.whip_tls_key) {
        (Some(c), Some(k)) => Some(
            crate::ingest::webrtc::http_server::tls_acceptor(c, k)
                .map_err(Status::invalid_argument)?,
        ),
        _ => None,
    };
    let whip = match a.whip_listen {
        None => None,
        Some(addr) => Some(
            WhipServer::bind(addr, &a.whip_public_url, whip_limits(&a), whip_tls)
                .await
                .map_err(|e| Status::unavailable(format!("--whip-listen {addr}: {e}")))?,
        ),
    };
    let whip_addr = whip.as_ref().map(WhipServer::local_addr);
    let state_dir = a
        .state_dir
        .clone()
        .unwrap_or_else(|| root.join(crate::api::journal::STATE_DIR_NAME));
    let journal = Journal::open(&state_dir)
        .map_err(|e| Status::internal(format!("--state-dir {}: {e}", state_dir.display())))?;
    // The one use of ambient authority for outputs: every file is created (and the
    // REST API reads every download) beneath this handle (output/confined.rs).
    let recordings_root = RecordingsRoot::open(&root)
        .map_err(|e| Status::internal(format!("--recordings-dir {}: {e}", root.display())))?;
    let service = CloudMixerService::new(ServiceConfig {
        output: OutputDefaults {
            recordings_root: recordings_root.clone(),
            x264_preset: a.x264_preset.clone(),
            encoder_threads: a.encoder_threads,
            max_picture_pixels: a.max_picture_pixels,
            single_path_template,
        },
        ports: PortPool::new(a.rtp_bind, a.rtp_ports.0, a.rtp_ports.1),
        bus: EventBus::new(),
        shutdown_timeout: Duration::from_secs(a.shutdown_timeout_secs),
        whip,
        rtc: RtcSettings {
            include_loopback: a.webrtc_loopback,
        },
        policy: ingest_policy(&a)?,
        retention: Retention {
            max_age: Duration::from_secs(a.ended_mixer_retention_secs),
            max_count: a.max_ended_mixers,
        },
        watch_stall: Duration::from_secs(a.watch_stall_timeout_secs),
        limits: Limits {
            cpu_budget_mc: a.cpu_budget_millicores.unwrap_or_else(|| {
                let cores = std::thread::available_parallelism().map_or(1, usize::from);
                crate::api::admission::default_budget(cores)
            }),
            max_mixers: a.max_mixers as usize,
        },
        journal: Some(journal),
        requests: RequestLimits::new(
            a.max_concurrent_rpcs as usize,
            a.max_event_watchers as usize,
        ),
    });
    let interrupted = service.recover_interrupted();
    if interrupted > 0 {
        tracing::warn!(
            interrupted,
            "listed recordings interrupted by an earlier daemon exit (state INTERRUPTED)"
        );
    }
    let (rest_addr, recordings) =
        crate::cli::catalog_arg::start(&a.catalog, &state_dir, &recordings_root, &service, &auth)
            .await?;
    let (router, mut health) = services(service.clone(), Some(recordings), auth, tls).await?;
    let http_addr = match a.http_listen {
        None => None,
        Some(addr) => {
            let events = collect::install();
            let stall = Duration::from_secs(a.tick_stall_secs);
            let bound = observe::serve(addr, service.clone(), events, stall)
                .await
                .map_err(|e| Status::unavailable(format!("--http-listen {addr}: {e}")))?;
            tracing::info!("http (metrics, health) listening on {bound}");
            Some(bound)
        }
    };

    let listener = TcpListener::bind(a.listen)
        .await
        .map_err(|e| Status::unavailable(format!("--listen {}: {e}", a.listen)))?;
    let addr = listener.local_addr().unwrap_or(a.listen);
    let incoming = TcpIncoming::from_listener(listener, true, None)
        .map_err(|e| Status::internal(format!("listener: {e}")))?;
    tracing::info!(
        recordings_dir = %root.display(),
        rtp_bind = %a.rtp_bind,
        rtp_ports = %format!("{}-{}", a.rtp_ports.0, a.rtp_ports.1),
        "listening on {addr}"
    );
    report_listening(whip_addr, http_addr, rest_addr, addr);

    let (stopped_tx, stopped_rx) = tokio::sync::oneshot::channel::<()>();
    let svc = service.clone();
    let (mode, grace) = (a.shutdown, Duration::from_secs(a.drain_grace_secs));
    let shutdown = async move {
        wait_for_signal().await;
        // NOT_SERVING from the signal on, whether draining first or stopping now.
        health
            .set_not_serving::<CloudMixerServer<CloudMixerService>>()
            .await;
        health
            .set_service_status("", ServingStatus::NotServing)
            .await;
        if mode == ShutdownMode::Drain {
            drain(&svc, grace).await;
        }
        tracing::info!("shutting down: stopping mixers");
        let n = svc.shutdown_all().await;
        tracing::info!(mixers = n, "mixers stopped");
        svc.close_streams();
        let _ = stopped_tx.send(());
    };
    let serve = router.serve_with_incoming_shutdown(incoming, shutdown);
    tokio::pin!(serve);
    let grace_over = async {
        if stopped_rx.await.is_ok() {
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } else {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        r = &mut serve => r.map_err(|e| Status::internal(format!("server: {}", error_chain(&e))))?,
        () = grace_over => tracing::warn!("connections still open {SHUTDOWN_GRACE:?} after shutdown; exiting"),
    }
    tracing::info!("bye");
    Ok(())
}

/// How often a drain checks whether mixers are still recording.
const DRAIN_POLL: Duration = Duration::from_millis(200);

/// Drains `svc`: refuses new mixers (UNAVAILABLE "draining"), then waits until no mixer
/// is starting, running or stopping (the controller destroyed them), `grace` passed,
/// or a second SIGINT/SIGTERM came.
async fn drain(svc: &CloudMixerService, grace: Duration) {
    svc.begin_drain();
    let active = svc.active_mixers();
    tracing::info!(
        mixers = active,
        grace_secs = grace.as_secs(),
        "draining: admitting no new mixer; running mixers record until destroyed or the grace period ends"
    );
    let deadline = tokio::time::sleep(grace);
    let again = wait_for_signal();
    tokio::pin!(deadline, again);
    let mut poll = tokio::time::interval(DRAIN_POLL);
    loop {
        let n = svc.active_mixers();
        if n == 0 {
            tracing::info!("drained: no mixer records");
            return;
        }
        tokio::select! {
            _ = poll.tick() => {}
            () = &mut deadline => {
                tracing::warn!(mixers = n, "drain grace period over; stopping the mixers left");
                return;
            }
            () = &mut again => {
                tracing::warn!(mixers = n, "second signal: ending the drain; stopping the mixers left");
                return;
            }
        }
    }
}

/// The bound addresses on stdout, one line each, for scripts and tests that pass port 0:
/// `whip listening on HOST:PORT` (with `--whip-listen`), `http listening on HOST:PORT`
/// (with `--http-listen`), then `listening on HOST:PORT` (gRPC; the last line: from
/// then on the daemon accepts connections). Write errors (stdout closed) are ignored:
/// the log line says the same.
fn report_listening(
    whip: Option<std::net::SocketAddr>,
    http: Option<std::net::SocketAddr>,
    rest: Option<std::net::SocketAddr>,
    grpc: std::net::SocketAddr,
) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    if let Some(w) = whip {
        let _ = writeln!(out, "whip listening on {w}");
    }
    if let Some(h) = http {
        let _ = writeln!(out, "http listening on {h}");
    }
    if let Some(r) = rest {
        let _ = writeln!(out, "rest listening on {r}");
    }
    let _ = writeln!(out, "listening on {grpc}");
    let _ = out.flush();
}

/// The gRPC router: CloudMixer (requests up to [`MAX_REQUEST_BYTES`]), health (CloudMixer
/// and "" SERVING) and reflection v1 + v1alpha over the CloudMixer and health descriptors,
/// every call counted by [`GrpcMetricsLayer`]. Returns the health reporter so that
/// shutdown can report NOT_SERVING.
///
/// `auth`: what every CloudMixer and reflection call must carry ([`auth`]; nothing
/// configured: no credentials needed). Health stays open. `tls`: the server's TLS (and
/// mutual TLS) configuration; None: plain HTTP/2.
/// Errors: INTERNAL (reflection descriptors), INVALID_ARGUMENT (the TLS configuration is
/// refused by rustls, e.g. a key that does not match its certificate).
pub async fn services(
    service: CloudMixerService,
    recordings: Option<RecordingsService>,
    auth: ServerAuth,
    tls: Option<ServerTlsConfig>,
) -> Result<(Router<Stack<GrpcMetricsLayer, Identity>>, HealthReporter), Status> {
    let reflection_err =
        |e: tonic_reflection::server::Error| Status::internal(format!("reflection: {e}"));
    let reflection_v1 = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1()
        .map_err(reflection_err)?;
    let reflection_v1alpha = tonic_reflection::server::Builder::configure()
        .register_encoded_file_descriptor_set(proto::FILE_DESCRIPTOR_SET)
        .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
        .build_v1alpha()
        .map_err(reflection_err)?;
    let (mut health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<CloudMixerServer<CloudMixerService>>()
        .await;
    health.set_service_status("", ServingStatus::Serving).await;
    let mixer = CloudMixerServer::new(service).max_decoding_message_size(MAX_REQUEST_BYTES);
    let mut builder = Server::builder().layer(GrpcMetricsLayer);
    if let Some(cfg) = tls {
        builder = builder
            .tls_config(cfg)
            .map_err(|e| Status::invalid_argument(format!("TLS: {}", error_chain(&e))))?;
    }
    let router = builder
        .add_service(InterceptedService::new(mixer, auth.clone()))
        .add_service(health_service)
        .add_service(InterceptedService::new(reflection_v1, auth.clone()))
        .add_service(InterceptedService::new(reflection_v1alpha, auth.clone()))
        .add_optional_service(
            recordings.map(|r| InterceptedService::new(RecordingsServer::new(r), auth)),
        );
    Ok((router, health))
}

/// Resolves on SIGINT (Ctrl-C) or SIGTERM.
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM; only Ctrl-C stops the daemon");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

#[cfg(test)]
#[path = "serve_tests.rs"]
mod tests;

/// Limits of the WHIP HTTP server from the flags.
fn whip_limits(a: &ServeArgs) -> crate::ingest::webrtc::http_server::ServerLimits {
    crate::ingest::webrtc::http_server::ServerLimits {
        max_connections: a.max_whip_connections,
        header_read_timeout: Duration::from_secs(a.whip_header_timeout_secs),
        idle_timeout: Duration::from_secs(a.whip_idle_timeout_secs),
        request_timeout: Duration::from_secs(a.whip_request_timeout_secs),
    }
}

/// RTP latching and the WHEP allow-list and roots from the flags. Errors: the
/// `--whep-ca-file` cannot be read.
fn ingest_policy(a: &ServeArgs) -> Result<crate::ingest::policy::IngestPolicy, Status> {
    use crate::ingest::webrtc::http::WhepClient;
    let roots = WhepClient::load_roots(a.whep_ca_file.as_deref())
        .map_err(|e| Status::invalid_argument(format!("--whep-ca-file: {e}")))?;
    let rebind_after = Duration::from_millis(a.rtp_rebind_after_ms);
    Ok(crate::ingest::policy::IngestPolicy {
        latch: crate::ingest::policy::LatchConfig {
            rebind_after,
            relatch_after: Duration::from_millis(a.rtp_relatch_after_ms).max(rebind_after),
        },
        whep: WhepClient {
            allow: std::sync::Arc::new(a.whep_allow.clone()),
            roots: std::sync::Arc::new(roots),
        },
    })
}

/// Loads and installs the labels' font: `given` (an error if unreadable) or the default
/// (a warning if missing: labels are then not drawn).
fn load_label_font(given: Option<&std::path::Path>) -> Result<(), Status> {
    use crate::compose::label;
    let path = given.unwrap_or(std::path::Path::new(label::DEFAULT_LABEL_FONT));
    match label::load_font(path) {
        Ok(f) => {
            label::install(f);
            Ok(())
        }
        Err(e) if given.is_some() => Err(Status::invalid_argument(format!("--label-font: {e}"))),
        Err(e) => {
            tracing::warn!(error = %e, "no label font (install fonts-wqy-microhei or give --label-font): display names are not drawn");
            Ok(())
        }
    }
}
