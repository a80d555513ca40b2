//! Webhook delivery: signs each queued message per the Standard Webhooks spec
//! (<https://www.standardwebhooks.com/>, "Signature scheme") and POSTs it to its
//! endpoint until it answers 2xx, with exponential backoff ([`super::retry`]), from
//! the durable queue in the catalog ([`super::outbox`]).
//!
//! Headers of every attempt: `webhook-id` (the message id, the same on every attempt:
//! receivers de-duplicate on it), `webhook-timestamp` (Unix seconds of the attempt) and
//! `webhook-signature` = `v1,` + base64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}")).
//! The secret is `whsec_` + base64 of its bytes (`serve --webhook-secret-file`).

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::Notify;

use super::outbox::{Delivery, DELIVERED, FAILED, PENDING};
use super::retry::RetryPolicy;
use super::store::Catalog;
use crate::events::unix_ms_now;

/// Prefix of a secret in its text form.
pub const SECRET_PREFIX: &str = "whsec_";
/// How long one POST may take, connection included.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Deliveries read from the queue per look.
const BATCH: u32 = 32;
/// Longest wait between looks at the queue when nothing wakes the task.
const IDLE_LOOK: Duration = Duration::from_millis(500);

/// A webhook signing secret (its bytes; never logged: `Debug` hides them).
#[derive(Clone)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

impl WebhookSecret {
    /// Parses `whsec_<base64>` (surrounding whitespace ignored). Errors: no prefix,
    /// bad base64, fewer than 24 bytes.
    pub fn parse(text: &str) -> Result<WebhookSecret, String> {
        let b64 = text
            .trim()
            .strip_prefix(SECRET_PREFIX)
            .ok_or_else(|| format!("a webhook secret starts with {SECRET_PREFIX}"))?;
        let bytes = B64
            .decode(b64)
            .map_err(|e| format!("webhook secret: bad base64: {e}"))?;
        if bytes.len() < 24 {
            return Err(format!(
                "webhook secret: {} bytes, at least 24 needed",
                bytes.len()
            ));
        }
        Ok(WebhookSecret(bytes))
    }

    /// A new random secret of 32 bytes.
    pub fn random() -> WebhookSecret {
        let mut b = Vec::with_capacity(32);
        b.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        b.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
        WebhookSecret(b)
    }

    /// Its text form, `whsec_<base64>`.
    pub fn to_text(&self) -> String {
        format!("{SECRET_PREFIX}{}", B64.encode(&self.0))
    }

    /// The `webhook-signature` value of message `msg_id` sent at `timestamp_s` (Unix
    /// seconds) with `body`: `v1,<base64 HMAC-SHA256>`.
    pub fn sign(&self, msg_id: &str, timestamp_s: i64, body: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key");
        mac.update(format!("{msg_id}.{timestamp_s}.").as_bytes());
        mac.update(body.as_bytes());
        format!("v1,{}", B64.encode(mac.finalize().into_bytes()))
    }
}

/// The delivery task's settings.
#[derive(Clone, Debug)]
pub struct DeliveryConfig {
    pub secret: WebhookSecret,
    /// Backoff; `primary_attempts` is the attempts per message and endpoint.
    pub policy: RetryPolicy,
}

/// Starts the delivery task; `wake` is notified when a message is queued.
pub fn spawn(catalog: Catalog, cfg: DeliveryConfig, wake: Arc<Notify>) {
    tokio::spawn(async move {
        let client = match reqwest::Client::builder().timeout(REQUEST_TIMEOUT).build() {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "webhooks: no HTTP client; none will be sent");
                return;
            }
        };
        loop {
            let due = match catalog.webhooks_due(unix_ms_now(), BATCH).await {
                Ok(d) => d,
                Err(e) => {
                    tracing::error!(error = %e, "webhooks: queue not readable");
                    Vec::new()
                }
            };
            if due.is_empty() {
                let _ = tokio::time::timeout(IDLE_LOOK, wake.notified()).await;
                continue;
            }
            for d in due {
                attempt(&catalog, &client, &cfg, &d).await;
            }
        }
    });
}

/// One POST of `d` and its outcome recorded.
async fn attempt(catalog: &Catalog, client: &reqwest::Client, cfg: &DeliveryConfig, d: &Delivery) {
    let ts = unix_ms_now() / 1000;
    let sent = client
        .post(&d.url)
        .header("content-type", "application/json")
        .header("webhook-id", &d.msg_id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", cfg.secret.sign(&d.msg_id, ts, &d.body))
        .body(d.body.clone())
        .send()
        .await;
    let error = match sent {
        Ok(r) if r.status().is_success() => None,
        Ok(r) => Some(format!("HTTP {}", r.status().as_u16())),
        Err(e) => Some(e.to_string()),
    };
    let attempts = d.attempts + 1;
    let (state, next_ms, err) = match error {
        None => (DELIVERED, 0, String::new()),
        Some(e) if cfg.policy.target(attempts, false).is_none() => (FAILED, 0, e),
        Some(e) => (PENDING, unix_ms_now() + cfg.policy.delay_ms(attempts), e),
    };
    match state {
        DELIVERED => {
            tracing::info!(msg_id = %d.msg_id, event = %d.event_type, url = %d.url, attempts, "webhook delivered")
        }
        FAILED => {
            tracing::warn!(msg_id = %d.msg_id, event = %d.event_type, url = %d.url, attempts, error = %err, "webhook given up")
        }
        _ => {
            tracing::info!(msg_id = %d.msg_id, event = %d.event_type, url = %d.url, attempts, error = %err, "webhook attempt failed; will retry")
        }
    }
    if let Err(e) = catalog
        .webhook_attempted(d, state, attempts, next_ms, &err)
        .await
    {
        tracing::error!(error = %e, msg_id = %d.msg_id, "webhooks: attempt not recorded");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Standard Webhooks reference vector (the spec's libraries' tests).
    #[test]
    fn signs_the_standard_webhooks_example() {
        let s = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            s.sign(
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                r#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn secrets_round_trip_and_bad_ones_are_refused() {
        let s = WebhookSecret::random();
        let again = WebhookSecret::parse(&s.to_text()).unwrap();
        assert_eq!(s.sign("m", 1, "b"), again.sign("m", 1, "b"));
        assert!(WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").is_err());
        assert!(WebhookSecret::parse("whsec_!!").is_err());
        assert!(WebhookSecret::parse("whsec_AAAA").is_err(), "too short");
        assert_eq!(format!("{s:?}"), "WebhookSecret(..)");
    }
}
