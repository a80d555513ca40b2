//! HS256 JSON Web Tokens (RFC 7519, signed per RFC 7515 with HMAC-SHA256) as control API
//! bearer tokens, the way LiveKit's API keys work: the operator holds a shared secret,
//! mints short-lived tokens with it (`cloudmixer token`, or any JWT library), and the
//! daemon accepts a token whose signature verifies and whose `exp` has not passed.
//!
//! Claims: `exp` (required, Unix seconds), `sub` (optional, who the caller is; logged at
//! debug level), `iat`/`nbf` (optional; `nbf` is checked). Clock skew allowed:
//! [`LEEWAY_SECS`]. Only HS256 is accepted (the header's `alg` must say so: no `none`, no
//! algorithm confusion). The secret is never logged: [`JwtKey`]'s `Debug` shows nothing.

use std::path::Path;

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// Shortest secret accepted, bytes: 32 (RFC 7518 §3.2: a key of at least the hash size).
pub const MIN_SECRET_LEN: usize = 32;
/// Clock skew tolerated on `exp` and `nbf`, seconds.
pub const LEEWAY_SECS: u64 = 30;
/// Longest lifetime `cloudmixer token` mints, seconds (30 days).
pub const MAX_TTL_SECS: u64 = 30 * 24 * 3600;

/// The claims cloudmixer reads and writes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// Expiry, Unix seconds.
    pub exp: u64,
    /// Issued at, Unix seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<u64>,
    /// Subject: who the token was issued to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
}

/// Why a token was not accepted. Messages never contain the token or the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// `exp` is in the past (beyond the leeway).
    #[error("bearer token expired")]
    Expired,
    /// Bad signature, wrong algorithm, malformed, missing `exp`, or `nbf` in the future.
    #[error("bearer token not accepted ({0})")]
    Invalid(&'static str),
}

/// The HS256 secret a daemon verifies tokens with.
#[derive(Clone)]
pub struct JwtKey {
    decoding: DecodingKey,
    encoding: EncodingKey,
}

impl std::fmt::Debug for JwtKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("JwtKey(HS256)")
    }
}

impl JwtKey {
    /// The secret is the file's bytes with surrounding white space trimmed.
    /// Errors: the file cannot be read, or the secret is shorter than
    /// [`MIN_SECRET_LEN`] bytes (the message names the file, never the secret).
    pub fn from_file(path: &Path) -> Result<JwtKey, String> {
        let bytes =
            std::fs::read(path).map_err(|e| format!("JWT secret {}: {e}", path.display()))?;
        Self::from_secret(bytes.trim_ascii()).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Errors: shorter than [`MIN_SECRET_LEN`] bytes.
    pub fn from_secret(secret: &[u8]) -> Result<JwtKey, String> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(format!(
                "JWT secret is {} bytes; at least {MIN_SECRET_LEN} are needed (e.g. `openssl rand -hex 32`)",
                secret.len()
            ));
        }
        Ok(JwtKey {
            decoding: DecodingKey::from_secret(secret),
            encoding: EncodingKey::from_secret(secret),
        })
    }

    /// Verifies `token` at the current time and returns its claims.
    /// Errors: [`JwtError`].
    pub fn verify(&self, token: &str) -> Result<Claims, JwtError> {
        let mut v = Validation::new(Algorithm::HS256);
        v.leeway = LEEWAY_SECS;
        v.validate_nbf = true;
        v.validate_aud = false;
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &v)
            .map(|d| d.claims)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind as K;
                match e.kind() {
                    K::ExpiredSignature => JwtError::Expired,
                    K::InvalidSignature => JwtError::Invalid("bad signature"),
                    K::InvalidAlgorithm => JwtError::Invalid("algorithm must be HS256"),
                    K::MissingRequiredClaim(_) => JwtError::Invalid("no exp claim"),
                    K::ImmatureSignature => JwtError::Invalid("not valid yet (nbf)"),
                    _ => JwtError::Invalid("malformed"),
                }
            })
    }

    /// A token for `sub` valid for `ttl_secs` from `now_unix` (seconds).
    /// Errors: `ttl_secs` is 0 or above [`MAX_TTL_SECS`].
    pub fn mint(&self, sub: Option<&str>, now_unix: u64, ttl_secs: u64) -> Result<String, String> {
        if ttl_secs == 0 || ttl_secs > MAX_TTL_SECS {
            return Err(format!("ttl must be 1..={MAX_TTL_SECS} seconds"));
        }
        let claims = Claims {
            exp: now_unix + ttl_secs,
            iat: Some(now_unix),
            sub: sub.map(str::to_owned),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(|e| format!("cannot sign the token: {e}"))
    }
}

/// Whether `token` has the shape of a JWS compact serialization (three base64url parts).
pub fn looks_like_jwt(token: &str) -> bool {
    token.split('.').count() == 3
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"0123456789abcdef0123456789abcdef";

    fn now() -> u64 {
        jsonwebtoken::get_current_timestamp()
    }

    #[test]
    fn minted_token_verifies_and_carries_its_subject() {
        let k = JwtKey::from_secret(SECRET).unwrap();
        let t = k.mint(Some("controller-1"), now(), 60).unwrap();
        assert!(looks_like_jwt(&t));
        let c = k.verify(&t).unwrap();
        assert_eq!(c.sub.as_deref(), Some("controller-1"));
    }

    #[test]
    fn expired_wrong_key_and_tampered_tokens_are_refused() {
        let k = JwtKey::from_secret(SECRET).unwrap();
        let old = k.mint(None, now() - 3600, 60).unwrap();
        assert_eq!(k.verify(&old), Err(JwtError::Expired));
        let other = JwtKey::from_secret(b"another-secret-of-enough-length-xx").unwrap();
        let t = other.mint(None, now(), 60).unwrap();
        assert_eq!(k.verify(&t), Err(JwtError::Invalid("bad signature")));
        let good = k.mint(None, now(), 60).unwrap();
        let mut parts: Vec<&str> = good.split('.').collect();
        // {"alg":"none"} with the same claims and no signature.
        let none_header = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0";
        parts[0] = none_header;
        let forged = format!("{}.{}.", parts[0], parts[1]);
        assert!(k.verify(&forged).is_err());
        assert!(k.verify("a.b.c").is_err());
    }

    #[test]
    fn short_secrets_are_refused_without_echoing_them() {
        let e = JwtKey::from_secret(b"tiny-secret").unwrap_err();
        assert!(!e.contains("tiny-secret"), "{e}");
        assert!(JwtKey::from_secret(SECRET)
            .unwrap()
            .mint(None, now(), MAX_TTL_SECS + 1)
            .is_err());
    }
}
