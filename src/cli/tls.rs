//! TLS for the control API (rustls, through tonic's `tls` feature): the daemon's
//! certificate and key, optionally a CA that client certificates must chain to (mutual
//! TLS: a client without such a certificate fails the handshake before any call), and
//! the CLI's side: the CA to trust, its own certificate for mutual TLS, and the name to
//! expect in the server's certificate.
//!
//! Files are PEM (RFC 7468): certificates as `CERTIFICATE` blocks (a chain may follow the
//! leaf), keys as PKCS#8, PKCS#1 (RSA) or SEC1 (EC) blocks. Errors name the flag and the
//! file and never print a key.

use std::path::Path;

use tonic::transport::{Certificate, ClientTlsConfig, Identity, ServerTlsConfig};

/// The daemon's TLS files (`serve --tls-cert/--tls-key/--tls-client-ca`).
#[derive(Debug, Default, Clone)]
pub struct ServerTlsFiles<'a> {
    /// Certificate chain, PEM.
    pub cert: Option<&'a Path>,
    /// Private key, PEM.
    pub key: Option<&'a Path>,
    /// CA certificates client certificates must chain to, PEM (mutual TLS).
    pub client_ca: Option<&'a Path>,
}

/// The CLI's TLS files (`--tls-ca/--tls-cert/--tls-key/--tls-domain`).
#[derive(Debug, Default, Clone)]
pub struct ClientTlsFiles<'a> {
    /// CA certificates the server's certificate must chain to, PEM.
    pub ca: Option<&'a Path>,
    /// The client's certificate chain, PEM (mutual TLS).
    pub cert: Option<&'a Path>,
    /// The client's private key, PEM.
    pub key: Option<&'a Path>,
    /// The DNS name (or IP) the server's certificate must be for; default: the host of
    /// `--server`.
    pub domain: Option<&'a str>,
}

fn read(flag: &str, path: &Path) -> Result<Vec<u8>, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{flag} {}: {e}", path.display()))?;
    if !String::from_utf8_lossy(&bytes).contains("-----BEGIN ") {
        return Err(format!(
            "{flag} {}: not a PEM file (no \"-----BEGIN\" line)",
            path.display()
        ));
    }
    Ok(bytes)
}

/// The server's TLS configuration; `Ok(None)` when no certificate is given (plain
/// HTTP/2). Errors: a key without a certificate or the reverse, a client CA without a
/// certificate, an unreadable or non-PEM file.
pub fn server_config(f: &ServerTlsFiles) -> Result<Option<ServerTlsConfig>, String> {
    let (cert, key) = match (f.cert, f.key) {
        (None, None) => {
            if f.client_ca.is_some() {
                return Err(
                    "--tls-client-ca needs --tls-cert and --tls-key: mutual TLS is TLS".into(),
                );
            }
            return Ok(None);
        }
        (Some(c), Some(k)) => (read("--tls-cert", c)?, read("--tls-key", k)?),
        (Some(_), None) => return Err("--tls-cert needs --tls-key".into()),
        (None, Some(_)) => return Err("--tls-key needs --tls-cert".into()),
    };
    let mut cfg = ServerTlsConfig::new().identity(Identity::from_pem(cert, key));
    if let Some(ca) = f.client_ca {
        cfg = cfg.client_ca_root(Certificate::from_pem(read("--tls-client-ca", ca)?));
    }
    Ok(Some(cfg))
}

/// The client's TLS configuration for an `https://` server; `Ok(None)` for `http://`
/// with no TLS file given. Errors: TLS files with an `http://` server, a certificate
/// without a key or the reverse, an unreadable or non-PEM file.
pub fn client_config(https: bool, f: &ClientTlsFiles) -> Result<Option<ClientTlsConfig>, String> {
    let any = f.ca.is_some() || f.cert.is_some() || f.key.is_some() || f.domain.is_some();
    if !https {
        if any {
            return Err("TLS settings were given, but --server is not an https:// URL".into());
        }
        return Ok(None);
    }
    let mut cfg = ClientTlsConfig::new();
    if let Some(ca) = f.ca {
        cfg = cfg.ca_certificate(Certificate::from_pem(read("--tls-ca", ca)?));
    }
    match (f.cert, f.key) {
        (Some(c), Some(k)) => {
            cfg = cfg.identity(Identity::from_pem(
                read("--tls-cert", c)?,
                read("--tls-key", k)?,
            ));
        }
        (None, None) => {}
        (Some(_), None) => return Err("--tls-cert needs --tls-key".into()),
        (None, Some(_)) => return Err("--tls-key needs --tls-cert".into()),
    }
    if let Some(d) = f.domain {
        cfg = cfg.domain_name(d);
    }
    Ok(Some(cfg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_configured_tls_is_refused_with_the_missing_flag() {
        let p = Path::new("/nonexistent.pem");
        let e = server_config(&ServerTlsFiles {
            cert: Some(p),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.contains("--tls-key"), "{e}");
        let e = server_config(&ServerTlsFiles {
            client_ca: Some(p),
            ..Default::default()
        })
        .unwrap_err();
        assert!(e.contains("--tls-cert"), "{e}");
        assert!(server_config(&ServerTlsFiles::default()).unwrap().is_none());
        let e = client_config(
            false,
            &ClientTlsFiles {
                ca: Some(p),
                ..Default::default()
            },
        )
        .unwrap_err();
        assert!(e.contains("https://"), "{e}");
    }

    #[test]
    fn non_pem_files_are_named_without_their_content() {
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key.pem");
        std::fs::write(&key, "secret-key-material").unwrap();
        let cert = dir.path().join("cert.pem");
        std::fs::write(&cert, "-----BEGIN CERTIFICATE-----\n").unwrap();
        let e = server_config(&ServerTlsFiles {
            cert: Some(&cert),
            key: Some(&key),
            client_ca: None,
        })
        .unwrap_err();
        assert!(e.contains("--tls-key") && e.contains("not a PEM"), "{e}");
        assert!(!e.contains("secret-key-material"));
    }
}
