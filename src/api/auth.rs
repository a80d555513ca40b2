//! Bearer-token authentication of the control API (RFC 6750 §2.1: gRPC metadata
//! `authorization: Bearer <token>`).
//!
//! The daemon is given a static set of tokens ([`TokenSet`]: a file with one token per
//! line, and/or the `CLOUDMIXER_AUTH_TOKENS` environment variable, comma-separated).
//! Every CloudMixer and reflection call must carry one of them; the gRPC health service
//! stays open (probes carry no credentials). A call without a token, with another
//! scheme, or with an unknown token fails with UNAUTHENTICATED before it reaches the
//! service. Tokens are compared in constant time (`subtle`), each against every known
//! token, and are never logged: [`TokenSet`]'s `Debug` shows only how many there are.
//!
//! Besides static tokens, the daemon can verify HS256 JWTs with an expiry
//! ([`crate::api::jwt`]; [`ServerAuth`] accepts either), and the TLS layer can require
//! client certificates (mutual TLS, `cli/tls.rs`). A daemon whose `--listen` address is
//! not loopback refuses to start with none of the three ([`require_for_listen`]); a
//! loopback-only daemon may run without.

use std::net::SocketAddr;
use std::sync::Arc;

use subtle::ConstantTimeEq;
use tonic::metadata::MetadataMap;
use tonic::{Request, Status};

use crate::api::jwt::{self, JwtKey};

/// Shortest token accepted, bytes: 16 (guessing must not be practical).
pub const MIN_TOKEN_LEN: usize = 16;
/// Longest token accepted, bytes.
pub const MAX_TOKEN_LEN: usize = 512;

/// Why a token list was refused. Messages never contain a token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Shorter than [`MIN_TOKEN_LEN`] or longer than [`MAX_TOKEN_LEN`] bytes.
    #[error("{source_name}: token {index} is {len} bytes; tokens must be {MIN_TOKEN_LEN}..={MAX_TOKEN_LEN} bytes")]
    Length {
        source_name: String,
        index: usize,
        len: usize,
    },
    /// Holds a character outside visible ASCII (RFC 6750 b64token is a subset of it).
    #[error("{source_name}: token {index} has a character outside visible ASCII (0x21-0x7E)")]
    Charset { source_name: String, index: usize },
    /// The token file could not be read.
    #[error("{source_name}: {message}")]
    Read {
        source_name: String,
        message: String,
    },
}

/// The tokens a daemon accepts. Cheap to clone (shared).
#[derive(Clone, Default)]
pub struct TokenSet {
    tokens: Arc<Vec<Vec<u8>>>,
}

impl std::fmt::Debug for TokenSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenSet({} tokens)", self.tokens.len())
    }
}

impl TokenSet {
    /// Tokens from `text`: one per line (or comma-separated when `commas`), surrounding
    /// white space trimmed; empty entries and lines starting with `#` are skipped.
    /// `source_name` names the file or variable in errors.
    /// Errors: [`TokenError::Length`], [`TokenError::Charset`].
    pub fn parse(text: &str, commas: bool, source_name: &str) -> Result<TokenSet, TokenError> {
        let entries: Vec<&str> = if commas {
            text.split(',').collect()
        } else {
            text.lines().collect()
        };
        let mut tokens = Vec::new();
        for e in entries.iter().map(|e| e.trim()) {
            if e.is_empty() || e.starts_with('#') {
                continue;
            }
            let index = tokens.len() + 1;
            if !(MIN_TOKEN_LEN..=MAX_TOKEN_LEN).contains(&e.len()) {
                return Err(TokenError::Length {
                    source_name: source_name.to_owned(),
                    index,
                    len: e.len(),
                });
            }
            if !e.bytes().all(|b| (0x21..=0x7e).contains(&b)) {
                return Err(TokenError::Charset {
                    source_name: source_name.to_owned(),
                    index,
                });
            }
            tokens.push(e.as_bytes().to_vec());
        }
        Ok(TokenSet {
            tokens: Arc::new(tokens),
        })
    }

    /// The tokens of `file` (one per line) and of `env_list` (comma-separated), together.
    /// Errors: the file cannot be read, or a token is malformed.
    pub fn load(
        file: Option<&std::path::Path>,
        env_list: Option<&str>,
    ) -> Result<TokenSet, TokenError> {
        let mut all = Vec::new();
        if let Some(path) = file {
            let name = path.display().to_string();
            let text = std::fs::read_to_string(path).map_err(|e| TokenError::Read {
                source_name: name.clone(),
                message: e.to_string(),
            })?;
            all.extend(Self::parse(&text, false, &name)?.tokens.iter().cloned());
        }
        if let Some(list) = env_list {
            let set = Self::parse(list, true, "CLOUDMIXER_AUTH_TOKENS")?;
            all.extend(set.tokens.iter().cloned());
        }
        Ok(TokenSet {
            tokens: Arc::new(all),
        })
    }

    /// Number of tokens.
    pub fn len(&self) -> usize {
        self.tokens.len()
    }

    /// No token: authentication is off.
    pub fn is_empty(&self) -> bool {
        self.tokens.is_empty()
    }

    /// Whether `candidate` is one of the tokens. Compares against every token, each in
    /// constant time for its length.
    pub fn contains(&self, candidate: &[u8]) -> bool {
        let mut hit = subtle::Choice::from(0);
        for t in self.tokens.iter() {
            hit |= t.as_slice().ct_eq(candidate);
        }
        hit.into()
    }

    /// Checks the `authorization` metadata of a call against the static tokens.
    /// Errors: UNAUTHENTICATED, saying whether the token was missing or not accepted.
    pub fn check(&self, metadata: &MetadataMap) -> Result<(), Status> {
        let token = bearer(metadata)?;
        if self.contains(token.as_bytes()) {
            Ok(())
        } else {
            Err(Status::unauthenticated("bearer token not accepted"))
        }
    }
}

/// The token of `authorization: Bearer <token>` (scheme case-insensitive, RFC 7235 §2.1).
/// Errors: UNAUTHENTICATED, saying whether credentials were missing or used another
/// scheme. The message never contains the header's value.
pub fn bearer(metadata: &MetadataMap) -> Result<&str, Status> {
    let Some(value) = metadata.get("authorization") else {
        return Err(Status::unauthenticated(
            "missing credentials: send \"authorization: Bearer <token>\" \
             (cloudmixer CLI: set CLOUDMIXER_TOKEN)",
        ));
    };
    value
        .to_str()
        .ok()
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then_some(rest.trim())
        })
        .ok_or_else(|| Status::unauthenticated("authorization must use the Bearer scheme"))
}

/// How the control API authenticates calls: static tokens ([`TokenSet`]) and/or HS256
/// JWTs ([`JwtKey`]); mutual TLS, when configured, is enforced by the TLS layer before a
/// call gets here. Also the server-side interceptor: every call must pass
/// [`ServerAuth::check`] (nothing configured: every call passes).
#[derive(Clone, Debug, Default)]
pub struct ServerAuth {
    /// Static tokens.
    pub tokens: TokenSet,
    /// The HS256 secret JWTs are verified with.
    pub jwt: Option<JwtKey>,
}

impl ServerAuth {
    /// Neither tokens nor a JWT secret: calls are not checked.
    pub fn is_open(&self) -> bool {
        self.tokens.is_empty() && self.jwt.is_none()
    }

    /// Accepts a call whose bearer token is one of the static tokens or a JWT that
    /// verifies with the secret.
    /// Errors: UNAUTHENTICATED (missing, other scheme, unknown token, expired or invalid
    /// JWT; the message says which, never the token).
    pub fn check(&self, metadata: &MetadataMap) -> Result<(), Status> {
        let token = bearer(metadata)?;
        if self.tokens.contains(token.as_bytes()) {
            return Ok(());
        }
        match &self.jwt {
            Some(key) if jwt::looks_like_jwt(token) => match key.verify(token) {
                Ok(claims) => {
                    tracing::debug!(sub = ?claims.sub, "JWT accepted");
                    Ok(())
                }
                Err(e) => Err(Status::unauthenticated(e.to_string())),
            },
            _ => Err(Status::unauthenticated("bearer token not accepted")),
        }
    }
}

impl tonic::service::Interceptor for ServerAuth {
    fn call(&mut self, req: Request<()>) -> Result<Request<()>, Status> {
        if self.is_open() {
            return Ok(req);
        }
        self.check(req.metadata())?;
        Ok(req)
    }
}

/// The client-side interceptor: adds `authorization: Bearer <token>` to every call.
#[derive(Clone)]
pub struct ClientAuth(Option<tonic::metadata::MetadataValue<tonic::metadata::Ascii>>);

impl std::fmt::Debug for ClientAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "ClientAuth(token)"
        } else {
            "ClientAuth(none)"
        })
    }
}

impl ClientAuth {
    /// With `token` (None or empty: calls go without credentials).
    /// Errors: INVALID_ARGUMENT if the token cannot be sent as a header value.
    pub fn new(token: Option<&str>) -> Result<ClientAuth, Status> {
        match token.map(str::trim).filter(|t| !t.is_empty()) {
            None => Ok(ClientAuth(None)),
            Some(t) => {
                let mut v: tonic::metadata::MetadataValue<_> =
                    format!("Bearer {t}").parse().map_err(|_| {
                        Status::invalid_argument("CLOUDMIXER_TOKEN: not a valid header value")
                    })?;
                v.set_sensitive(true);
                Ok(ClientAuth(Some(v)))
            }
        }
    }
}

impl tonic::service::Interceptor for ClientAuth {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        if let Some(v) = &self.0 {
            req.metadata_mut().insert("authorization", v.clone());
        }
        Ok(req)
    }
}

/// Refuses a `listen` address that is not loopback when no caller authentication is
/// configured (`auth` open and no client CA for mutual TLS, `mtls` false): the control
/// API must not be reachable from other hosts without credentials.
/// Errors: a message saying how to configure authentication.
pub fn require_for_listen(listen: SocketAddr, auth: &ServerAuth, mtls: bool) -> Result<(), String> {
    if listen.ip().is_loopback() || !auth.is_open() || mtls {
        return Ok(());
    }
    Err(format!(
        "--listen {listen} is reachable from other hosts, and no caller authentication is \
         configured: give tokens with --auth-tokens-file FILE (one per line) or \
         CLOUDMIXER_AUTH_TOKENS (comma-separated), {MIN_TOKEN_LEN}..={MAX_TOKEN_LEN} visible \
         ASCII characters each (e.g. `openssl rand -hex 32`); or a JWT secret with \
         --auth-jwt-secret-file FILE; or client certificates with --tls-client-ca FILE \
         (mutual TLS); or listen on a loopback address"
    ))
}

#[cfg(test)]
#[path = "auth_tests.rs"]
mod tests;
