//! The durable webhook queue (table `webhooks`, migrations/0002): one row per message
//! and endpoint, written in the same catalog as the recordings, so a callback queued
//! before a crash is still delivered after the restart.
//!
//! A message id is derived from its event ([`super::notice`]): queuing the same event
//! again (the feed re-reads every mixer at start) changes nothing.

use sqlx::Row;

use super::store::{Catalog, CatalogError};

/// `webhooks.state` of a message not yet accepted by its endpoint.
pub const PENDING: &str = "PENDING";
/// `webhooks.state` once the endpoint answered 2xx.
pub const DELIVERED: &str = "DELIVERED";
/// `webhooks.state` once every attempt failed.
pub const FAILED: &str = "FAILED";

/// One message for one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The `webhook-id` header (Standard Webhooks), the same on every attempt.
    pub msg_id: String,
    pub url: String,
    /// e.g. `recording.ended`.
    pub event_type: String,
    /// The JSON body, exactly as signed and sent.
    pub body: String,
    /// Attempts made so far.
    pub attempts: i64,
}

impl Catalog {
    /// Queues message `msg_id` (type `event_type`, JSON `body`) for each of `urls`, due
    /// at `now_ms`; a (message, endpoint) already queued is left as it is.
    pub async fn enqueue_webhook(
        &self,
        msg_id: &str,
        event_type: &str,
        body: &str,
        urls: &[String],
        now_ms: i64,
    ) -> Result<(), CatalogError> {
        for url in urls {
            sqlx::query(
                "INSERT INTO webhooks (msg_id, url, event_type, body, created_ms, state, \
                 next_attempt_ms) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (msg_id, url) DO NOTHING",
            )
            .bind(msg_id)
            .bind(url)
            .bind(event_type)
            .bind(body)
            .bind(now_ms)
            .bind(PENDING)
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        }
        Ok(())
    }

    /// Up to `limit` PENDING deliveries due at `now_ms`, in the order queued.
    pub async fn webhooks_due(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<Delivery>, CatalogError> {
        let rows = sqlx::query(
            "SELECT msg_id, url, event_type, body, attempts FROM webhooks \
             WHERE state = $1 AND next_attempt_ms <= $2 ORDER BY created_ms, msg_id LIMIT $3",
        )
        .bind(PENDING)
        .bind(now_ms)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Delivery {
                    msg_id: r.try_get("msg_id")?,
                    url: r.try_get("url")?,
                    event_type: r.try_get("event_type")?,
                    body: r.try_get("body")?,
                    attempts: r.try_get("attempts")?,
                })
            })
            .collect()
    }

    /// Records an attempt of `d`: its new `state`, attempt count, next attempt time
    /// (PENDING) and error (empty when delivered).
    pub async fn webhook_attempted(
        &self,
        d: &Delivery,
        state: &str,
        attempts: i64,
        next_ms: i64,
        error: &str,
    ) -> Result<(), CatalogError> {
        sqlx::query(
            "UPDATE webhooks SET state = $1, attempts = $2, next_attempt_ms = $3, last_error = $4 \
             WHERE msg_id = $5 AND url = $6",
        )
        .bind(state)
        .bind(attempts)
        .bind(next_ms)
        .bind(error)
        .bind(&d.msg_id)
        .bind(&d.url)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// How many (message, endpoint) rows are in `state`.
    pub async fn webhooks_in(&self, state: &str) -> Result<i64, CatalogError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM webhooks WHERE state = $1")
            .bind(state)
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("n")?)
    }
}
