//! The catalog's storage through `sqlx`'s `Any` driver, one set of queries for both
//! backends:
//!
//! - SQLite, embedded (the default): one file (`serve --catalog FILE`, default
//!   `<state dir>/catalog.sqlite3`), in WAL mode so queries never wait for the writer;
//! - PostgreSQL (`serve --catalog postgres://...`), when several daemons share one
//!   catalog.
//!
//! Schemas are in `migrations/sqlite/` and `migrations/postgres/` (the same tables),
//! applied at open, in order, recorded in `_sqlx_migrations`. Queries use `$N`
//! placeholders and SQL both dialects read. A row is keyed by (mixer id, mixer creation
//! time, output id): writing the same output again updates it in place and keeps its
//! id; ids ascend in the order outputs were first stored.

use std::path::Path;

use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::AnyPool;
use sqlx::{Executor, Row};

use super::easemob::TimePage;
use super::row::{record_type_named, RecordType, Recording, Upload};

/// Connections of the pool (SQLite: one writer at a time; readers in parallel under WAL).
const MAX_CONNECTIONS: u32 = 4;

/// A catalog error: the database cannot be opened, migrated, read or written.
#[derive(Debug, thiserror::Error)]
#[error("recordings catalog: {0}")]
pub struct CatalogError(String);

impl From<sqlx::Error> for CatalogError {
    fn from(e: sqlx::Error) -> Self {
        CatalogError(e.to_string())
    }
}

impl From<sqlx::migrate::MigrateError> for CatalogError {
    fn from(e: sqlx::migrate::MigrateError) -> Self {
        CatalogError(e.to_string())
    }
}

/// Handle to the catalog database. Cheap to clone (a pool).
#[derive(Clone, Debug)]
pub struct Catalog {
    pub(super) pool: AnyPool,
}

pub(super) const COLUMNS: &str =
    "id, mixer_id, output_id, conference_id, owner, camid, member_name, \
    record_type, media, container, path, size_bytes, duration_ms, sha256, status, \
    conference_begin_ms, conference_end_ms, start_ms, end_ms, record_time_ms, expire_time_ms, \
    upload_state, upload_location, upload_attempts, upload_next_ms, upload_error, webhook_urls";

/// [`COLUMNS`] but the id (assigned by the database).
const INSERT_COLUMNS: &str = "mixer_id, output_id, conference_id, owner, camid, member_name, \
    record_type, media, container, path, size_bytes, duration_ms, sha256, status, \
    conference_begin_ms, conference_end_ms, start_ms, end_ms, record_time_ms, expire_time_ms, \
    upload_state, upload_location, upload_attempts, upload_next_ms, upload_error, webhook_urls";

/// Is `catalog` (a `--catalog` value) a PostgreSQL URL?
pub fn is_postgres_url(catalog: &str) -> bool {
    catalog.starts_with("postgres://") || catalog.starts_with("postgresql://")
}

impl Catalog {
    /// Opens (creating it if missing) the SQLite database at `path` and applies the
    /// migrations. Errors: the file cannot be created or opened, or a migration fails.
    pub async fn open(path: &Path) -> Result<Catalog, CatalogError> {
        let url = format!("sqlite://{}?mode=rwc", path.display());
        Self::connect(&url).await
    }

    /// Opens the catalog at `url`: `postgres://user:password@host:port/db` (the
    /// database must exist) or `sqlite://FILE?mode=rwc`; applies the migrations.
    /// Errors: the database cannot be reached or opened, or a migration fails.
    pub async fn connect(url: &str) -> Result<Catalog, CatalogError> {
        sqlx::any::install_default_drivers();
        let postgres = is_postgres_url(url);
        let pool = AnyPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if !postgres {
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect(url)
            .await?;
        if postgres {
            sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        } else {
            sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        }
        Ok(Catalog { pool })
    }

    /// Stores `r` (its `id` is ignored): inserts it, or updates the row of the same
    /// output in place, keeping its first record and expiry times and an EXPIRED or
    /// DELETED status, and its upload state unless the file's SHA-256 changed (a changed file
    /// is uploaded again). Returns the row's id.
    pub async fn upsert(&self, r: &Recording) -> Result<i64, CatalogError> {
        let sql = format!(
            "INSERT INTO recordings ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, \
             $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26) \
             ON CONFLICT (mixer_id, conference_begin_ms, output_id) DO UPDATE SET \
             member_name = excluded.member_name, path = excluded.path, \
             size_bytes = excluded.size_bytes, duration_ms = excluded.duration_ms, \
             upload_state = CASE WHEN recordings.sha256 = excluded.sha256 \
               THEN recordings.upload_state ELSE excluded.upload_state END, \
             upload_attempts = CASE WHEN recordings.sha256 = excluded.sha256 \
               THEN recordings.upload_attempts ELSE 0 END, \
             sha256 = excluded.sha256, \
             status = CASE WHEN recordings.status IN ('EXPIRED', 'DELETED') \
               THEN recordings.status ELSE excluded.status END, \
             conference_end_ms = CASE WHEN excluded.conference_end_ms > recordings.conference_end_ms \
               THEN excluded.conference_end_ms ELSE recordings.conference_end_ms END, \
             start_ms = excluded.start_ms, end_ms = excluded.end_ms \
             RETURNING id",
            INSERT_COLUMNS
        );
        let row = sqlx::query(&sql)
            .bind(&r.mixer_id)
            .bind(&r.output_id)
            .bind(&r.conference_id)
            .bind(&r.owner)
            .bind(&r.camid)
            .bind(&r.member_name)
            .bind(r.record_type.as_str())
            .bind(&r.media)
            .bind(&r.container)
            .bind(&r.path)
            .bind(r.size_bytes)
            .bind(r.duration_ms)
            .bind(&r.sha256)
            .bind(&r.status)
            .bind(r.conference_begin_ms)
            .bind(r.conference_end_ms)
            .bind(r.start_ms)
            .bind(r.end_ms)
            .bind(r.record_time_ms)
            .bind(r.expire_time_ms)
            .bind(&r.upload.state)
            .bind(&r.upload.location)
            .bind(r.upload.attempts)
            .bind(r.upload.next_ms)
            .bind(&r.upload.error)
            .bind(r.webhook_urls.join("\n"))
            .fetch_one(&self.pool)
            .await?;
        Ok(row.try_get("id")?)
    }

    /// Sets the conference end (Unix ms) of every row of the mixer `mixer_id` created
    /// at `begin_ms`.
    pub async fn end_conference(
        &self,
        mixer_id: &str,
        begin_ms: i64,
        end_ms: i64,
    ) -> Result<(), CatalogError> {
        sqlx::query(
            "UPDATE recordings SET conference_end_ms = $1 \
             WHERE mixer_id = $2 AND conference_begin_ms = $3 AND conference_end_ms = 0",
        )
        .bind(end_ms)
        .bind(mixer_id)
        .bind(begin_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Up to `limit` rows past their expiry at `now_ms` and not yet EXPIRED, oldest
    /// expiry first.
    pub async fn due(&self, now_ms: i64, limit: u32) -> Result<Vec<Recording>, CatalogError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM recordings WHERE expire_time_ms <= $1 AND status NOT IN ('EXPIRED', 'DELETED') \
             ORDER BY expire_time_ms, id LIMIT $2"
        );
        let rows = sqlx::query(&sql)
            .bind(now_ms)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(recording).collect()
    }

    /// Marks row `id` EXPIRED (its file deleted by the retention).
    pub async fn mark_expired(&self, id: i64) -> Result<(), CatalogError> {
        self.mark_status(id, "EXPIRED").await
    }

    /// Sets row `id`'s status (`EXPIRED`, `DELETED`: its copies are gone).
    pub async fn mark_status(&self, id: i64, status: &str) -> Result<(), CatalogError> {
        sqlx::query("UPDATE recordings SET status = $1 WHERE id = $2")
            .bind(status)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The row `id`, if listed.
    pub async fn get(&self, id: i64) -> Result<Option<Recording>, CatalogError> {
        let sql = format!("SELECT {COLUMNS} FROM recordings WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(recording).transpose()
    }

    /// Every file of conference `conference_id`, ascending id.
    pub async fn by_conference(&self, conference_id: &str) -> Result<Vec<Recording>, CatalogError> {
        let sql = format!("SELECT {COLUMNS} FROM recordings WHERE conference_id = $1 ORDER BY id");
        let rows = sqlx::query(&sql)
            .bind(conference_id)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(recording).collect()
    }

    /// Every file of participant `camid` in conference `conference_id`, ascending id.
    pub async fn by_member(
        &self,
        camid: &str,
        conference_id: &str,
    ) -> Result<Vec<Recording>, CatalogError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM recordings WHERE conference_id = $1 AND camid = $2 ORDER BY id"
        );
        let rows = sqlx::query(&sql)
            .bind(conference_id)
            .bind(camid)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(recording).collect()
    }

    /// One page of the files finished in the page's time range ([`TimePage`]).
    pub async fn by_time(&self, p: &TimePage) -> Result<Vec<Recording>, CatalogError> {
        let merged = if p.merged_only {
            " AND record_type = 'MERGE_ALL'"
        } else {
            ""
        };
        let sql = format!(
            "SELECT {COLUMNS} FROM recordings \
             WHERE record_time_ms >= $1 AND record_time_ms <= $2 AND id >= $3{merged} \
             ORDER BY id LIMIT $4"
        );
        let rows = sqlx::query(&sql)
            .bind(p.begin_ms)
            .bind(p.end_ms)
            .bind(p.start_id)
            .bind(i64::from(p.length))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(recording).collect()
    }

    /// Closes the pool (waits for running queries).
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A row read back.
pub(super) fn recording(row: &AnyRow) -> Result<Recording, CatalogError> {
    let record_type: String = row.try_get("record_type")?;
    Ok(Recording {
        id: row.try_get("id")?,
        mixer_id: row.try_get("mixer_id")?,
        output_id: row.try_get("output_id")?,
        conference_id: row.try_get("conference_id")?,
        owner: row.try_get("owner")?,
        camid: row.try_get("camid")?,
        member_name: row.try_get("member_name")?,
        record_type: record_type_named(&record_type).unwrap_or(RecordType::OnlyRecOneAv),
        media: row.try_get("media")?,
        container: row.try_get("container")?,
        path: row.try_get("path")?,
        size_bytes: row.try_get("size_bytes")?,
        duration_ms: row.try_get("duration_ms")?,
        sha256: row.try_get("sha256")?,
        status: row.try_get("status")?,
        conference_begin_ms: row.try_get("conference_begin_ms")?,
        conference_end_ms: row.try_get("conference_end_ms")?,
        start_ms: row.try_get("start_ms")?,
        end_ms: row.try_get("end_ms")?,
        record_time_ms: row.try_get("record_time_ms")?,
        expire_time_ms: row.try_get("expire_time_ms")?,
        upload: Upload {
            state: row.try_get("upload_state")?,
            location: row.try_get("upload_location")?,
            attempts: row.try_get("upload_attempts")?,
            next_ms: row.try_get("upload_next_ms")?,
            error: row.try_get("upload_error")?,
        },
        webhook_urls: row
            .try_get::<String, _>("webhook_urls")?
            .lines()
            .map(str::to_owned)
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(mixer: &str, output: &str, conf: &str, t: RecordType, time: i64) -> Recording {
        Recording {
            id: 0,
            mixer_id: mixer.into(),
            output_id: output.into(),
            conference_id: conf.into(),
            owner: "op".into(),
            camid: if t == RecordType::MergeAll {
                String::new()
            } else {
                output.into()
            },
            member_name: String::new(),
            record_type: t,
            media: "av".into(),
            container: "mp4".into(),
            path: format!("{mixer}/{output}.mp4"),
            size_bytes: 10,
            duration_ms: 1000,
            sha256: String::new(),
            status: "FINALIZED".into(),
            conference_begin_ms: 1,
            conference_end_ms: 0,
            start_ms: 0,
            end_ms: 0,
            record_time_ms: time,
            expire_time_ms: time + 1,
            upload: Upload::default(),
            webhook_urls: Vec::new(),
        }
    }

    #[tokio::test]
    async fn rows_are_stored_updated_in_place_and_queried() {
        let dir = tempfile::tempdir().unwrap();
        let c = Catalog::open(&dir.path().join("c.sqlite3")).await.unwrap();
        let a = c
            .upsert(&rec("m1", "mixed", "c1", RecordType::MergeAll, 100))
            .await
            .unwrap();
        let b = c
            .upsert(&rec("m1", "u1", "c1", RecordType::OnlyRecOneAv, 200))
            .await
            .unwrap();
        let mut hooked = rec("m2", "mixed", "c2", RecordType::MergeAll, 300);
        hooked.webhook_urls = vec!["http://a/x".into(), "https://b/y?k=1".into()];
        let d = c.upsert(&hooked).await.unwrap();
        assert!(a < b && b < d);
        let got = c.get(d).await.unwrap().expect("row d");
        assert_eq!(got.webhook_urls, hooked.webhook_urls);
        let mut again = rec("m1", "u1", "c1", RecordType::OnlyRecOneAv, 200);
        again.sha256 = "ab".into();
        assert_eq!(c.upsert(&again).await.unwrap(), b, "same output, same row");
        let conf = c.by_conference("c1").await.unwrap();
        assert_eq!(conf.iter().map(|r| r.id).collect::<Vec<_>>(), [a, b]);
        assert_eq!(conf[1].sha256, "ab");
        assert_eq!(
            c.get(b).await.unwrap().map(|r| r.output_id),
            Some("u1".into())
        );
        assert_eq!(c.get(d + 1).await.unwrap(), None);
        assert_eq!(c.by_member("u1", "c1").await.unwrap().len(), 1);
        let page = |start_id, length, merged_only| TimePage {
            begin_ms: 0,
            end_ms: 1000,
            start_id,
            length,
            merged_only,
        };
        let ids = |v: Vec<Recording>| v.into_iter().map(|r| r.id).collect::<Vec<_>>();
        assert_eq!(ids(c.by_time(&page(0, 2, false)).await.unwrap()), [a, b]);
        assert_eq!(ids(c.by_time(&page(b + 1, 2, false)).await.unwrap()), [d]);
        assert_eq!(ids(c.by_time(&page(0, 100, true)).await.unwrap()), [a, d]);
        // Expiry: row a (expires at 101) is due at 150, then marked and kept marked.
        assert_eq!(ids(c.due(150, 10).await.unwrap()), [a]);
        c.mark_expired(a).await.unwrap();
        assert!(c.due(150, 10).await.unwrap().is_empty());
        c.upsert(&rec("m1", "mixed", "c1", RecordType::MergeAll, 100))
            .await
            .unwrap();
        assert_eq!(c.get(a).await.unwrap().unwrap().status, "EXPIRED");
        c.end_conference("m1", 1, 500).await.unwrap();
        assert!(c
            .by_conference("c1")
            .await
            .unwrap()
            .iter()
            .all(|r| r.conference_end_ms == 500));
        c.close().await;
        // Reopened: the rows are still there, the migration is not applied twice.
        let c = Catalog::open(&dir.path().join("c.sqlite3")).await.unwrap();
        assert_eq!(c.by_conference("c2").await.unwrap().len(), 1);
    }
}
