//! The flags every client subcommand shares (a leaf: it imports nothing else of `cli`).

use std::path::PathBuf;

use clap::Args;

/// Flags shared by the client subcommands.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// gRPC address of the daemon.
    #[arg(
        long,
        env = "CLOUDMIXER_SERVER",
        default_value = "http://127.0.0.1:50051"
    )]
    pub server: String,
    /// Print the response as JSON (proto3 field names in lowerCamelCase, enums by name).
    #[arg(long)]
    pub json: bool,
    /// Control API token sent as `authorization: Bearer <token>` (needed when the daemon
    /// has --auth-tokens-file). Environment only, so it does not show in the process list.
    #[arg(skip = std::env::var("CLOUDMIXER_TOKEN").ok())]
    pub token: Option<String>,
    /// PEM CA certificate(s) to verify an https:// --server with (default: the system's
    /// roots are not loaded; give the CA that signed the daemon's --tls-cert).
    #[arg(long, env = "CLOUDMIXER_TLS_CA", value_name = "FILE")]
    pub tls_ca: Option<PathBuf>,
    /// PEM client certificate chain, for a daemon with --tls-client-ca (mutual TLS).
    #[arg(
        long,
        env = "CLOUDMIXER_CLIENT_CERT",
        value_name = "FILE",
        requires = "tls_key"
    )]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of --tls-cert.
    #[arg(
        long,
        env = "CLOUDMIXER_CLIENT_KEY",
        value_name = "FILE",
        requires = "tls_cert"
    )]
    pub tls_key: Option<PathBuf>,
    /// Name the daemon's certificate must be issued for; default: the host of --server.
    #[arg(long, env = "CLOUDMIXER_TLS_DOMAIN", value_name = "NAME")]
    pub tls_domain: Option<String>,
}
