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
            "SELECT {COLUMNS} FROM recordings WHERE upload_state = ? AND upload_next_ms <= ? \
             AND status NOT IN ('EXPIRED', 'DELETED') ORDER BY upload_next_ms, id LIMIT ?"
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
            "UPDATE recordings SET upload_state = ?, upload_location = ?, upload_attempts = ?, \
             upload_next_ms = ?, upload_error = ? WHERE id = ?",
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
            "SELECT {COLUMNS} FROM recordings WHERE mixer_id = ? AND conference_begin_ms = ? \
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
