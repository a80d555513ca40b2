//! The client's connection to the daemon: `--server`, TLS and the bearer token. A leaf
//! of `cli/` (it imports no other subcommand module), used by every client subcommand.

use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};
use tonic::Status;

use crate::api::auth::ClientAuth;
use crate::cli::client_arg::ClientArgs;
use crate::cli::tls;
use crate::proto::{self, cloud_mixer_client::CloudMixerClient};

pub(crate) type Client = CloudMixerClient<InterceptedService<Channel, ClientAuth>>;

/// `error` and the errors that caused it, joined by ": ".
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut s = error.to_string();
    let mut cur = error.source();
    while let Some(e) = cur {
        s.push_str(": ");
        s.push_str(&e.to_string());
        cur = e.source();
    }
    s
}

/// Connects to `--server` (`https://`: TLS with `--tls-ca`, and `--tls-cert/--tls-key`
/// for mutual TLS), sending CLOUDMIXER_TOKEN (if set) with every call.
/// Errors: INVALID_ARGUMENT (bad URL, token or TLS files), UNAVAILABLE.
pub(crate) async fn connect(a: &ClientArgs) -> Result<Client, Status> {
    let (ch, auth) = channel(a).await?;
    Ok(CloudMixerClient::with_interceptor(ch, auth))
}

/// [`connect`] for the `Recordings` service (the catalog).
pub(crate) async fn connect_recordings(
    a: &ClientArgs,
) -> Result<
    proto::recordings_client::RecordingsClient<InterceptedService<Channel, ClientAuth>>,
    Status,
> {
    let (ch, auth) = channel(a).await?;
    Ok(proto::recordings_client::RecordingsClient::with_interceptor(ch, auth))
}

/// The connection of [`connect`] and the credentials it sends.
async fn channel(a: &ClientArgs) -> Result<(Channel, ClientAuth), Status> {
    let auth = ClientAuth::new(a.token.as_deref())?;
    let mut ep = Endpoint::from_shared(a.server.clone())
        .map_err(|e| Status::invalid_argument(format!("--server {:?}: {e}", a.server)))?;
    let files = tls::ClientTlsFiles {
        ca: a.tls_ca.as_deref(),
        cert: a.tls_cert.as_deref(),
        key: a.tls_key.as_deref(),
        domain: a.tls_domain.as_deref(),
    };
    let https = a.server.starts_with("https://");
    if let Some(cfg) = tls::client_config(https, &files).map_err(Status::invalid_argument)? {
        ep = ep
            .tls_config(cfg)
            .map_err(|e| Status::invalid_argument(format!("TLS: {}", error_chain(&e))))?;
    }
    let ch = ep.connect().await.map_err(|e| {
        Status::unavailable(format!(
            "cannot connect to {}: {}",
            a.server,
            error_chain(&e)
        ))
    })?;
    Ok((ch, auth))
}
