//! `cloudmixer recordings ...`: the recordings catalog through the daemon's
//! `Recordings` gRPC service, the same queries as the REST API (Easemob's, seed 003).

use clap::{Args, Subcommand};
use serde_json::{json, Value};
use tonic::{Request, Status};

use crate::catalog::easemob::{format_time, parse_compact};
use crate::cli::client_arg::ClientArgs;
use crate::cli::connect::connect_recordings;
use crate::proto;

/// `recordings` flags.
#[derive(Debug, Args)]
pub struct RecordingsArgs {
    #[command(flatten)]
    pub client: ClientArgs,
    #[command(subcommand)]
    pub query: RecordingsQuery,
}

/// What to list or delete.
#[derive(Debug, Subcommand)]
pub enum RecordingsQuery {
    /// Every file of a conference (the Create request's conference_id), ascending id:
    /// `cloudmixer recordings conference CONF`.
    Conference { conference_id: String },
    /// Every file of one participant (camid) in a conference:
    /// `cloudmixer recordings member CONF CAMID`.
    Member {
        conference_id: String,
        camid: String,
    },
    /// One page of the files finished between two times (UTC, yyyyMMddHHmmss, both
    /// inclusive): `cloudmixer recordings range 20261206000000 20261207000000
    /// --start-id 0 --length 100`; the last line tells the next page's --start-id.
    Range {
        begin: String,
        end: String,
        /// First id of the page.
        #[arg(long, default_value_t = 0)]
        start_id: i64,
        /// Files per page, 1..=100.
        #[arg(long, default_value_t = 100)]
        length: u32,
        /// Composite (MERGE_ALL) files only.
        #[arg(long)]
        merged: bool,
    },
    /// Delete one file (its object in storage and its local copy); its row stays,
    /// status DELETED.
    Delete { id: i64 },
}

/// Runs `recordings`. Errors: INVALID_ARGUMENT (a time not in yyyyMMddHHmmss form, or
/// the daemon's), NOT_FOUND (delete: no such id), UNAVAILABLE.
pub async fn run(a: RecordingsArgs) -> Result<(), Status> {
    let mut c = connect_recordings(&a.client).await?;
    let time = |field: &str, v: &str| {
        parse_compact(v).ok_or_else(|| {
            Status::invalid_argument(format!("{field}: must be yyyyMMddHHmmss (UTC), got {v:?}"))
        })
    };
    let req = match a.query {
        RecordingsQuery::Delete { id } => {
            let r = c
                .delete_recording(Request::new(proto::DeleteRecordingRequest { id }))
                .await?
                .into_inner()
                .recording
                .unwrap_or_default();
            if a.client.json {
                print(&row_json(&r));
            } else {
                println!("deleted {} {}", r.id, r.path);
            }
            return Ok(());
        }
        RecordingsQuery::Conference { conference_id } => proto::ListRecordingsRequest {
            conference_id,
            ..Default::default()
        },
        RecordingsQuery::Member {
            conference_id,
            camid,
        } => proto::ListRecordingsRequest {
            conference_id,
            camid,
            ..Default::default()
        },
        RecordingsQuery::Range {
            begin,
            end,
            start_id,
            length,
            merged,
        } => proto::ListRecordingsRequest {
            begin_unix_ms: time("begin", &begin)?,
            // The whole last second, as the REST API reads it.
            end_unix_ms: time("end", &end)? + 999,
            start_id,
            length,
            merged_only: merged,
            ..Default::default()
        },
    };
    let answer = c.list_recordings(Request::new(req)).await?.into_inner();
    if a.client.json {
        print(&json!({
            "count": answer.recordings.len(),
            "data": answer.recordings.iter().map(row_json).collect::<Vec<_>>(),
            "nextStartId": (answer.next_start_id > 0).then_some(answer.next_start_id),
        }));
        return Ok(());
    }
    println!("ID\tCONFERENCE\tTYPE\tMEMBER\tSTATUS\tUPLOAD\tRECORDED (UTC)\tBYTES\tPATH");
    for r in &answer.recordings {
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}\t{}",
            r.id,
            r.conference_id,
            r.record_type,
            r.member_name,
            r.status,
            r.upload_state,
            format_time(r.record_unix_ms),
            r.size_bytes,
            r.path
        );
    }
    if answer.next_start_id > 0 {
        println!("next page: --start-id {}", answer.next_start_id);
    }
    Ok(())
}

/// The REST record's JSON names for a row.
fn row_json(r: &proto::RecordingRow) -> Value {
    json!({
        "id": r.id,
        "mixerId": r.mixer_id,
        "outputId": r.output_id,
        "confrId": r.conference_id,
        "owner": r.owner,
        "userName": r.camid,
        "memberName": r.member_name,
        "recordType": r.record_type,
        "media": r.media,
        "container": r.container,
        "path": r.path,
        "sizeBytes": r.size_bytes,
        "durationMs": r.duration_ms,
        "sha256": r.sha256,
        "status": r.status,
        "confrBeginTime": format_time(r.conference_begin_unix_ms),
        "confrEndTime": format_time(r.conference_end_unix_ms),
        "recordTime": format_time(r.record_unix_ms),
        "expireTime": format_time(r.expire_unix_ms),
        "uploadState": r.upload_state,
        "storageLocation": r.storage_location,
        "url": r.url,
    })
}

fn print(v: &Value) {
    println!(
        "{}",
        serde_json::to_string_pretty(v).unwrap_or_else(|_| v.to_string())
    );
}
