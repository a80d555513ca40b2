//! Signed download URLs of catalogued files the daemon serves itself (REST
//! `GET /files/{id}?expires=..&sig=..`).
//!
//! `sig` is the hex HMAC-SHA256 (RFC 2104) of `"{id}.{expires}"` under the daemon's
//! URL key; `expires` is Unix seconds. A URL verifies only with the same key, id and
//! expiry, before the expiry; the comparison is constant time. The key is 32 random
//! bytes kept (hex) in a file of the state directory, created on first start with mode
//! 0600, so URLs stay valid across restarts; deleting the file revokes every URL.
//! A URL's lifetime (`serve --url-ttl-secs`) is separate from the file's retention.

use std::io::{self, Write};
use std::path::Path;

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

/// Lifetime of a download URL when not configured, seconds (one hour).
pub const DEFAULT_URL_TTL_SECS: u64 = 3_600;

/// Bytes of the URL key.
const KEY_LEN: usize = 32;

/// Why a URL was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Past its `expires`.
    #[error("the download URL has expired")]
    Expired,
    /// `sig` does not match (tampered id or expiry, another key, malformed).
    #[error("the download URL's signature does not match")]
    BadSignature,
}

/// Signs and verifies download URLs; see the module docs.
#[derive(Clone)]
pub struct UrlSigner {
    key: Vec<u8>,
    ttl_s: i64,
}

impl std::fmt::Debug for UrlSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UrlSigner")
            .field("ttl_s", &self.ttl_s)
            .finish_non_exhaustive()
    }
}

impl UrlSigner {
    /// A signer with `key` whose URLs live `ttl_s` seconds.
    pub fn new(key: Vec<u8>, ttl_s: u64) -> Self {
        Self {
            key,
            ttl_s: i64::try_from(ttl_s).unwrap_or(i64::MAX),
        }
    }

    /// The signer whose key is in `path` (hex), creating the file with a random key
    /// (mode 0600) if it does not exist. Errors: the file cannot be read or created, or
    /// holds no 32-byte hex key.
    pub fn load_or_create(path: &Path, ttl_s: u64) -> io::Result<Self> {
        let key = match std::fs::read_to_string(path) {
            Ok(text) => decode_hex(text.trim())
                .filter(|k| k.len() == KEY_LEN)
                .ok_or_else(|| {
                    io::Error::new(io::ErrorKind::InvalidData, "not a 32-byte hex key")
                })?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let mut key = vec![0u8; KEY_LEN];
                rand::rngs::OsRng.fill_bytes(&mut key);
                let mut f = std::fs::OpenOptions::new();
                f.write(true).create_new(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut f, 0o600);
                f.open(path)?.write_all(hex(&key).as_bytes())?;
                key
            }
            Err(e) => return Err(e),
        };
        Ok(Self::new(key, ttl_s))
    }

    fn mac(&self, id: i64, expires: i64) -> Hmac<Sha256> {
        // HMAC takes keys of any length.
        let mut m = Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC accepts any key");
        m.update(format!("{id}.{expires}").as_bytes());
        m
    }

    /// How long its URLs live.
    pub fn ttl(&self) -> std::time::Duration {
        std::time::Duration::from_secs(u64::try_from(self.ttl_s).unwrap_or(0))
    }

    /// The query string of file `id`'s URL made at `now_s` (Unix seconds):
    /// `expires=<now + ttl>&sig=<hex>`.
    pub fn query(&self, id: i64, now_s: i64) -> String {
        let expires = now_s.saturating_add(self.ttl_s);
        let sig = hex(&self.mac(id, expires).finalize().into_bytes());
        format!("expires={expires}&sig={sig}")
    }

    /// Checks a URL of file `id` at `now_s`. Errors: [`UrlError`].
    pub fn verify(&self, id: i64, expires: i64, sig: &str, now_s: i64) -> Result<(), UrlError> {
        let sig = decode_hex(sig).ok_or(UrlError::BadSignature)?;
        self.mac(id, expires)
            .verify_slice(&sig)
            .map_err(|_| UrlError::BadSignature)?;
        if now_s > expires {
            return Err(UrlError::Expired);
        }
        Ok(())
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(q: &str) -> (i64, String) {
        let (e, s) = q.split_once("&sig=").unwrap();
        (
            e.trim_start_matches("expires=").parse().unwrap(),
            s.to_owned(),
        )
    }

    #[test]
    fn urls_verify_until_they_expire_and_not_when_changed() {
        let s = UrlSigner::new(vec![7; 32], 60);
        let (expires, sig) = parts(&s.query(42, 1_000));
        assert_eq!(expires, 1_060);
        assert_eq!(s.verify(42, expires, &sig, 1_060), Ok(()));
        assert_eq!(s.verify(42, expires, &sig, 1_061), Err(UrlError::Expired));
        assert_eq!(
            s.verify(43, expires, &sig, 1_000),
            Err(UrlError::BadSignature)
        );
        assert_eq!(
            s.verify(42, expires + 1, &sig, 1_000),
            Err(UrlError::BadSignature)
        );
        assert_eq!(
            s.verify(42, expires, "zz", 1_000),
            Err(UrlError::BadSignature)
        );
        let other = UrlSigner::new(vec![8; 32], 60);
        assert_eq!(
            other.verify(42, expires, &sig, 1_000),
            Err(UrlError::BadSignature)
        );
    }

    #[test]
    fn the_key_is_created_once_and_kept() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("url.key");
        let a = UrlSigner::load_or_create(&path, 60).unwrap();
        let b = UrlSigner::load_or_create(&path, 60).unwrap();
        let (e, sig) = parts(&a.query(1, 0));
        assert_eq!(b.verify(1, e, &sig, 0), Ok(()), "same key after a restart");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::write(&path, "short").unwrap();
        assert!(UrlSigner::load_or_create(&path, 60).is_err());
    }
}
