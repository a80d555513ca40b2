//! The `Recordings` gRPC service (proto/cloudmixer/v1/cloudmixer.proto): the catalog's
//! queries and deletion over gRPC, the same rows and paging as the REST API
//! ([`super::rest`]). Credentials are checked by the server's interceptor.

// tonic::Status is the error type of every gRPC answer here.
#![allow(clippy::result_large_err)]

use tonic::{Request, Response, Status};

use super::easemob::{TimePage, MAX_PAGE_LENGTH};
use super::links::Links;
use super::retention::remove_copies;
use super::row::Recording;
use super::store::{Catalog, CatalogError};
use crate::events::unix_ms_now;
use crate::model::RecordingsRoot;
use crate::proto;
use crate::proto::recordings_server::Recordings;

/// The service; cheap to clone.
#[derive(Clone, Debug)]
pub struct RecordingsService {
    pub catalog: Catalog,
    pub links: Links,
    /// Where local copies are deleted (beneath it only).
    pub root: RecordingsRoot,
}

fn unavailable(e: CatalogError) -> Status {
    tracing::error!(error = %e, "catalog query failed");
    Status::unavailable("the recordings catalog cannot be read")
}

/// The time page of `r`. Errors: INVALID_ARGUMENT naming the field.
pub fn time_page(r: &proto::ListRecordingsRequest) -> Result<TimePage, Status> {
    if !(1..=MAX_PAGE_LENGTH).contains(&r.length) {
        return Err(Status::invalid_argument(format!(
            "length: must be 1..={MAX_PAGE_LENGTH}, got {}",
            r.length
        )));
    }
    if r.end_unix_ms < r.begin_unix_ms {
        return Err(Status::invalid_argument(
            "end_unix_ms: is before begin_unix_ms",
        ));
    }
    if r.start_id < 0 {
        return Err(Status::invalid_argument(format!(
            "start_id: must be >= 0, got {}",
            r.start_id
        )));
    }
    Ok(TimePage {
        begin_ms: r.begin_unix_ms,
        end_ms: r.end_unix_ms,
        start_id: r.start_id,
        length: r.length,
        merged_only: r.merged_only,
    })
}

impl RecordingsService {
    async fn row(&self, r: &Recording, now_s: i64) -> proto::RecordingRow {
        proto::RecordingRow {
            id: r.id,
            mixer_id: r.mixer_id.clone(),
            output_id: r.output_id.clone(),
            conference_id: r.conference_id.clone(),
            owner: r.owner.clone(),
            camid: r.camid.clone(),
            member_name: r.member_name.clone(),
            record_type: r.record_type.as_str().to_owned(),
            media: r.media.clone(),
            container: r.container.clone(),
            path: r.path.clone(),
            size_bytes: r.size_bytes,
            duration_ms: r.duration_ms,
            sha256: r.sha256.clone(),
            status: r.status.clone(),
            conference_begin_unix_ms: r.conference_begin_ms,
            conference_end_unix_ms: r.conference_end_ms,
            start_unix_ms: r.start_ms,
            end_unix_ms: r.end_ms,
            record_unix_ms: r.record_time_ms,
            expire_unix_ms: r.expire_time_ms,
            upload_state: r.upload.state.clone(),
            storage_location: r.upload.location.clone(),
            url: self.links.download_url(r, now_s).await,
        }
    }
}

#[tonic::async_trait]
impl Recordings for RecordingsService {
    async fn list_recordings(
        &self,
        request: Request<proto::ListRecordingsRequest>,
    ) -> Result<Response<proto::ListRecordingsResponse>, Status> {
        let q = request.into_inner();
        let (rows, page) = if q.conference_id.is_empty() {
            if !q.camid.is_empty() {
                return Err(Status::invalid_argument(
                    "camid: needs conference_id (the files of a member in a conference)",
                ));
            }
            let page = time_page(&q)?;
            let rows = self.catalog.by_time(&page).await.map_err(unavailable)?;
            (rows, Some(page))
        } else if q.camid.is_empty() {
            let rows = self
                .catalog
                .by_conference(&q.conference_id)
                .await
                .map_err(unavailable)?;
            (rows, None)
        } else {
            let rows = self
                .catalog
                .by_member(&q.camid, &q.conference_id)
                .await
                .map_err(unavailable)?;
            (rows, None)
        };
        let next_start_id = match page {
            Some(p) if rows.len() == p.length as usize => rows.last().map_or(0, |r| r.id + 1),
            _ => 0,
        };
        let now_s = unix_ms_now() / 1000;
        let mut recordings = Vec::with_capacity(rows.len());
        for r in &rows {
            recordings.push(self.row(r, now_s).await);
        }
        Ok(Response::new(proto::ListRecordingsResponse {
            recordings,
            next_start_id,
        }))
    }

    async fn delete_recording(
        &self,
        request: Request<proto::DeleteRecordingRequest>,
    ) -> Result<Response<proto::DeleteRecordingResponse>, Status> {
        let id = request.into_inner().id;
        let mut r = self
            .catalog
            .get(id)
            .await
            .map_err(unavailable)?
            .ok_or_else(|| Status::not_found(format!("id: no recording {id}")))?;
        remove_copies(&r, &self.root, self.links.storage.as_ref())
            .await
            .map_err(|e| Status::unavailable(format!("recording {id} not deleted: {e}")))?;
        self.catalog
            .mark_status(id, "DELETED")
            .await
            .map_err(unavailable)?;
        tracing::info!(id, path = %r.path, location = %r.upload.location, "recording deleted");
        r.status = "DELETED".into();
        Ok(Response::new(proto::DeleteRecordingResponse {
            recording: Some(self.row(&r, unix_ms_now() / 1000).await),
        }))
    }
}
