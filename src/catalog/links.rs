//! Download URLs of catalog records, shared by the REST and gRPC answers: an S3
//! presigned URL once the file is uploaded to a store that presigns, else the
//! daemon's own HMAC-signed URL ([`super::signed`]) under the REST API's base.

use super::row::{Recording, UPLOAD_UPLOADED};
use super::signed::UrlSigner;
use super::storage::Storage;

/// What a download URL is made from. Cheap to clone.
#[derive(Clone, Debug, Default)]
pub struct Links {
    /// The REST API's signer and base (`http://HOST:PORT` or `--rest-public-url`);
    /// None without `--rest-listen`.
    pub local: Option<(UrlSigner, String)>,
    pub storage: Option<Storage>,
    /// Lifetime of presigned URLs (`--url-ttl-secs`).
    pub ttl: std::time::Duration,
}

impl Links {
    /// The download URL of `r` made at `now_s` (Unix seconds); empty when its copies
    /// are gone (EXPIRED, DELETED) or there is neither a presigning store holding it
    /// nor a REST API to serve it.
    pub async fn download_url(&self, r: &Recording, now_s: i64) -> String {
        if r.status == "EXPIRED" || r.status == "DELETED" {
            return String::new();
        }
        if r.upload.state == UPLOAD_UPLOADED {
            if let Some((t, key)) = self
                .storage
                .as_ref()
                .and_then(|s| s.target_of(&r.upload.location))
            {
                if let Some(u) = t.presigned_get(&key, self.ttl).await {
                    return u;
                }
            }
        }
        match &self.local {
            Some((signer, base)) => {
                format!("{base}/files/{}?{}", r.id, signer.query(r.id, now_s))
            }
            None => String::new(),
        }
    }
}
