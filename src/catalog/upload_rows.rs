//! The catalog's upload bookkeeping: which files wait for an upload attempt, and each
//! attempt's outcome (columns `upload_*`, migrations/0002).

use super::row::{Recording, Upload, UPLOAD_PENDING};
use super::store::{recording, Catalog, CatalogError, COLUMNS};

impl Catalog {
    /// Up to `limit` files whose upload is PENDING and due at `now_ms` (their next
    /// attempt time passed), not EXPIRED or DELETED; earliest due first.
    pub async fn uploads_due(
        &self,
        now_ms: i64,
        limit: u32,
    ) -> Result<Vec<Recording>, CatalogError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM recordings WHERE upload_state = $1 AND upload_next_ms <= $2 \
             AND status NOT IN ('EXPIRED', 'DELETED') ORDER BY upload_next_ms, id LIMIT $3"
        );
        let rows = sqlx::query(&sql)
            .bind(UPLOAD_PENDING)
            .bind(now_ms)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(recording).collect()
    }

    /// Sets the upload columns of row `id` to `u`.
    pub async fn set_upload(&self, id: i64, u: &Upload) -> Result<(), CatalogError> {
        sqlx::query(
            "UPDATE recordings SET upload_state = $1, upload_location = $2, upload_attempts = $3, \
             upload_next_ms = $4, upload_error = $5 WHERE id = $6",
        )
        .bind(&u.state)
        .bind(&u.location)
        .bind(u.attempts)
        .bind(u.next_ms)
        .bind(&u.error)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every file of the mixer `mixer_id` created at `begin_ms`, ascending id.
    pub async fn by_mixer_run(
        &self,
        mixer_id: &str,
        begin_ms: i64,
    ) -> Result<Vec<Recording>, CatalogError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM recordings WHERE mixer_id = $1 AND conference_begin_ms = $2 \
             ORDER BY id"
        );
        let rows = sqlx::query(&sql)
            .bind(mixer_id)
            .bind(begin_ms)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(recording).collect()
    }
}
