//! The recordings catalog and its REST API (Easemob's four recording queries) against
//! the real daemon (`serve --rest-listen`), queried with curl:
//! - two conferences, each one mixer recording the composite and per-participant files
//!   from two ffmpeg senders; every output the mixers report is in the catalog once
//!   with its conference, record type, member name, size and the SHA-256 of the file on
//!   disk;
//! - by conference, by member, by time range paged by startId/length (every row once,
//!   ascending ids) and composites only; length 101 is refused with 400 naming it;
//! - a client over its request rate gets 429 with Retry-After;
//! - with tokens configured, a request without one gets 401;
//! - each record's signed URL downloads the same bytes (and byte ranges); a URL with
//!   another id or signature is refused, and one past its expiry;
//! - a recording cut off by kill -9 is listed INTERRUPTED after the restart;
//! - past their expiry, files are deleted and their rows marked EXPIRED.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use cloudmixer::proto::{OutputKind, RecordCfg};
use common::catalog::{get, record, record_with, rest_addr, sha256_hex, wait_rows, LIMIT};
use common::daemon::Daemon;
use common::http;
use common::rpc;
use common::sender::{Codec, SenderSpec};
use common::spec;
use serde_json::Value;

/// The composite of `rows` through its signed URL: the same bytes as the file on disk,
/// a byte range as asked, and a tampered URL refused.
fn check_downloads(d: &Daemon, rows: &[Value]) {
    let r = rows
        .iter()
        .find(|r| r["recordType"] == "MERGE_ALL")
        .expect("a composite");
    let url = r["url"].as_str().expect("url");
    let file = d.recordings().join(r["path"].as_str().unwrap());
    let original = std::fs::read(&file).expect("the recording");
    let dir = tempfile::tempdir().expect("tempdir");
    let whole = dir.path().join("whole");
    let (code, _) = http::get_with(url, &["-o", whole.to_str().unwrap()]);
    assert_eq!(code, 200, "{url}");
    assert_eq!(
        sha256_hex(&whole),
        r["sha256"].as_str().unwrap(),
        "downloaded bytes"
    );
    let part = dir.path().join("part");
    let (code, _) = http::get_with(
        url,
        &["-o", part.to_str().unwrap(), "-H", "Range: bytes=100-1099"],
    );
    assert_eq!(code, 206);
    assert_eq!(
        std::fs::read(&part).unwrap(),
        &original[100..1100],
        "bytes 100-1099"
    );
    let (code, _) = http::get_with(url, &["-o", "/dev/null", "-H", "Range: bytes=999999999-"]);
    assert_eq!(code, 416);
    // Another id under the same signature, and a changed signature.
    let other = url.replacen(&format!("/files/{}?", r["id"]), "/files/999?", 1);
    let flipped = format!(
        "{}{}",
        &url[..url.len() - 1],
        if url.ends_with('0') { '1' } else { '0' }
    );
    for bad in [other, flipped] {
        let (code, body) = http::get(&bad);
        assert_eq!(code, 403, "{bad}: {body}");
        assert!(body.contains("signature does not match"), "{body}");
    }
}

fn ids(rows: &[Value]) -> Vec<i64> {
    rows.iter().map(|r| r["id"].as_i64().expect("id")).collect()
}

with_both_catalogs!(
    two_conferences_are_listed_queried_and_paged_as_easemob_does,
    two_conferences_are_listed_queried_and_paged_as_easemob_does_with
);

async fn two_conferences_are_listed_queried_and_paged_as_easemob_does_with(
    b: common::catalog::Backend,
) {
    let d = Daemon::start_with_args(
        common::daemon::DEFAULT_RTP_PORTS,
        &b.with(
            &[
                "--rest-listen",
                "127.0.0.1:0",
                "--rest-rate",
                "0.5",
                "--rest-burst",
                "60",
            ]
            .map(String::from),
        ),
    );
    b.check(&d);
    let rest = rest_addr(&d);
    let mut all = Vec::new();
    for (id, conf) in [("m-one", "conf-one"), ("m-two", "conf-two")] {
        let info = record(&d, id, conf).await;
        assert!(
            info.outputs.len() >= 3,
            "a composite and files of both: {:?}",
            info.outputs
        );
        let rows = wait_rows(rest, &format!("/org/app/audio/{conf}"), info.outputs.len()).await;
        // Exactly the mixer's outputs, each with its file's size and checksum.
        let want: BTreeSet<String> = info.outputs.iter().map(|o| o.output_id.clone()).collect();
        let got: BTreeSet<String> = rows
            .iter()
            .map(|r| r["outputId"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(got, want, "{conf}");
        for o in &info.outputs {
            let r = rows
                .iter()
                .find(|r| r["outputId"] == o.output_id.as_str())
                .unwrap();
            let (kind, member) = if o.kind == OutputKind::Mixed as i32 {
                ("MERGE_ALL", "")
            } else if o.camid == "A" {
                ("ONLY_REC_ONE_AV", "Alice")
            } else {
                ("ONLY_REC_ONE_AV", "B")
            };
            assert_eq!(
                (r["recordType"].as_str(), r["memberName"].as_str()),
                (Some(kind), Some(member)),
                "{r}"
            );
            assert_eq!(
                (r["confrId"].as_str(), r["mixerId"].as_str()),
                (Some(conf), Some(id))
            );
            // Every file (the composite too) has its wall-clock span, as long as its media.
            let (start, end) = (
                r["startUnixMs"].as_i64().unwrap(),
                r["endUnixMs"].as_i64().unwrap(),
            );
            let span = end - start;
            let dur = r["durationMs"].as_i64().unwrap();
            assert!(
                start > 0 && (span - dur).abs() <= 500,
                "span {span} ms, media {dur} ms: {r}"
            );
            assert_eq!(r["status"], "FINALIZED");
            assert_eq!(r["sizeBytes"].as_u64(), Some(o.size_bytes), "{}", o.path);
            let file = d.recordings().join(&o.path);
            assert_eq!(
                r["sha256"].as_str(),
                Some(sha256_hex(&file).as_str()),
                "{}",
                o.path
            );
            assert_eq!(r["confrType"], "CONFR");
            assert_eq!(r["recordTime"].as_str().map(str::len), Some(19), "{r}");
        }
        if conf == "conf-one" {
            check_downloads(&d, &rows);
        }
        // One member's files.
        let alice = get(rest, &format!("/org/app/audio/A/{conf}")).1;
        let n_alice = info.outputs.iter().filter(|o| o.camid == "A").count();
        let data = alice["data"].as_array().unwrap();
        assert!(n_alice > 0 && data.len() == n_alice, "{alice}");
        assert!(data.iter().all(|r| r["userName"] == "A"));
        all.extend(rows);
    }
    let mut want_ids = ids(&all);
    want_ids.sort_unstable();

    // Paging by startId/length over a range covering both: every row once, in order.
    let range = "20000101000000/29991231235959";
    let (mut start, mut walked, mut pages) = (0i64, Vec::new(), 0);
    loop {
        let (code, v) = get(rest, &format!("/org/app/audio/{range}/{start}/2"));
        assert_eq!(code, 200, "{v}");
        let page = ids(v["data"].as_array().unwrap());
        assert!(page.len() <= 2);
        walked.extend(page);
        pages += 1;
        match v["nextStartId"].as_i64() {
            Some(next) => start = next,
            None => break,
        }
    }
    assert_eq!(walked, want_ids, "paged walk ({pages} pages)");
    // A range that ended before the recordings: nothing.
    let (_, v) = get(rest, "/org/app/audio/20000101000000/20000102000000/0/100");
    assert_eq!(v["count"], 0, "{v}");
    // Composites only.
    let (_, v) = get(rest, &format!("/org/app/audio/merge/{range}/0/100"));
    let merged = v["data"].as_array().unwrap();
    assert_eq!(merged.len(), 2, "{v}");
    assert!(merged.iter().all(|r| r["recordType"] == "MERGE_ALL"));
    // length 101 is refused, naming it.
    let (code, v) = get(rest, &format!("/org/app/audio/{range}/0/101"));
    assert_eq!((code, v["param"].as_str()), (400, Some("length")), "{v}");

    check_grpc_and_cli(&d, rest, &want_ids).await;

    // Over the rate: 429 with Retry-After (the burst is 60 at 0.5 request/s).
    let url = format!("http://{rest}/org/app/audio/conf-one");
    let limited = (0..80).find_map(|_| {
        let (code, text) = http::get_with(&url, &["-i"]);
        (code == 429).then_some(text)
    });
    let text = limited.expect("no 429 within 80 requests over a burst of 60");
    assert!(
        text.to_ascii_lowercase().contains("retry-after: "),
        "{text}"
    );
}

/// The same four queries over gRPC (`Recordings`) give the REST answers' rows; paging
/// walks `all_ids` once; length 101 is INVALID_ARGUMENT naming it; the CLI lists the
/// same and deletes a file (gone from disk, row DELETED).
async fn check_grpc_and_cli(d: &Daemon, rest: std::net::SocketAddr, all_ids: &[i64]) {
    use cloudmixer::proto::recordings_client::RecordingsClient;
    use cloudmixer::proto::ListRecordingsRequest;
    let c = RecordingsClient::new(d.channel().await);
    let list = |q: ListRecordingsRequest| {
        let mut c = c.clone();
        async move { c.list_recordings(q).await.map(|r| r.into_inner()) }
    };
    let grpc_ids = |a: &cloudmixer::proto::ListRecordingsResponse| {
        a.recordings.iter().map(|r| r.id).collect::<Vec<_>>()
    };
    for conf in ["conf-one", "conf-two"] {
        let q = ListRecordingsRequest {
            conference_id: conf.into(),
            ..Default::default()
        };
        let rest_rows = get(rest, &format!("/org/app/audio/{conf}")).1;
        assert_eq!(
            grpc_ids(&list(q.clone()).await.unwrap()),
            ids(rest_rows["data"].as_array().unwrap()),
            "{conf}"
        );
        let member = ListRecordingsRequest {
            camid: "A".into(),
            ..q
        };
        let rest_rows = get(rest, &format!("/org/app/audio/A/{conf}")).1;
        assert_eq!(
            grpc_ids(&list(member).await.unwrap()),
            ids(rest_rows["data"].as_array().unwrap()),
            "{conf} A"
        );
    }
    let range = |start_id, length, merged_only| ListRecordingsRequest {
        begin_unix_ms: 0,
        end_unix_ms: i64::MAX,
        start_id,
        length,
        merged_only,
        ..Default::default()
    };
    let (mut start, mut walked) = (0, Vec::new());
    loop {
        let page = list(range(start, 2, false)).await.unwrap();
        walked.extend(grpc_ids(&page));
        if page.next_start_id == 0 {
            break;
        }
        start = page.next_start_id;
    }
    assert_eq!(walked, all_ids, "gRPC paged walk");
    let merged = list(range(0, 100, true)).await.unwrap();
    assert_eq!(merged.recordings.len(), 2);
    assert!(merged
        .recordings
        .iter()
        .all(|r| r.record_type == "MERGE_ALL"));
    let err = list(range(0, 101, false)).await.unwrap_err();
    assert_eq!(err.code(), tonic::Code::InvalidArgument);
    assert!(err.message().starts_with("length:"), "{err:?}");

    // The CLI: the same rows; then one file deleted.
    let server = d.endpoint();
    let out = common::cloudmixer_cli(&[
        "recordings",
        "--server",
        &server,
        "--json",
        "conference",
        "conf-two",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let rest_rows = get(rest, "/org/app/audio/conf-two").1;
    assert_eq!(
        ids(v["data"].as_array().unwrap()),
        ids(rest_rows["data"].as_array().unwrap())
    );
    let victim = &v["data"][1];
    let file = d.recordings().join(victim["path"].as_str().unwrap());
    assert!(file.exists());
    let id = victim["id"].to_string();
    let out = common::cloudmixer_cli(&["recordings", "--server", &server, "delete", &id]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!file.exists(), "{} still there", file.display());
    let after = list(ListRecordingsRequest {
        conference_id: "conf-two".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let row = after
        .recordings
        .iter()
        .find(|r| r.id.to_string() == id)
        .unwrap();
    assert_eq!((row.status.as_str(), row.url.as_str()), ("DELETED", ""));
    let out = common::cloudmixer_cli(&["recordings", "--server", &server, "delete", "999999"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && err.contains("NOT_FOUND"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_tokens_the_rest_api_needs_one() {
    const TOKEN: &str = "rest-token-5be1c2d3a4f60718";
    let d = Daemon::start_with_env(
        8,
        &["--rest-listen".into(), "127.0.0.1:0".into()],
        &[("CLOUDMIXER_AUTH_TOKENS", TOKEN)],
    );
    let rest = rest_addr(&d);
    let url = format!("http://{rest}/org/app/audio/nothing");
    let (code, body) = http::get(&url);
    assert_eq!(code, 401, "{body}");
    let (code, body) = http::get_with(&url, &["-H", &format!("Authorization: Bearer {TOKEN}")]);
    assert_eq!(code, 200, "{body}");
    assert!(!d.log().contains(TOKEN), "the token reached the log");
}

with_both_catalogs!(
    a_recording_cut_off_by_a_crash_is_listed_interrupted_after_restart,
    a_recording_cut_off_by_a_crash_is_listed_interrupted_after_restart_with
);

/// kill -9 in the middle of a recording, restart: the catalog (kept on disk) lists the
/// cut-off composite as INTERRUPTED with its playable duration and its file's checksum,
/// and keeps what it listed before the crash.
async fn a_recording_cut_off_by_a_crash_is_listed_interrupted_after_restart_with(
    b: common::catalog::Backend,
) {
    let mut d = Daemon::start_with_args(
        common::daemon::DEFAULT_RTP_PORTS,
        &b.with(&["--rest-listen", "127.0.0.1:0", "--url-ttl-secs", "1"].map(String::from)),
    );
    b.check(&d);
    let before = record(&d, "m-done", "conf-crash").await;
    let rest = rest_addr(&d);
    wait_rows(rest, "/org/app/audio/conf-crash", before.outputs.len()).await;

    let mut c = d.client().await;
    let a = spec::source("A", Some((cloudmixer::proto::VideoCodec::Vp8, 96)), true);
    let mut req = spec::create_request("m-cut", vec![a], vec![], "catalog/m-cut.mp4");
    req.conference_id = "conf-crash".into();
    let created = rpc::create(&mut c, req).await;
    let _a = SenderSpec::solid_to("red", Codec::Vp8, 440, &created.source_ports[0]).start();
    rpc::wait_pictures_and_written(&mut c, "m-cut", 3_000).await;
    d.crash_and_restart();

    let rest = rest_addr(&d);
    let rows = wait_rows(rest, "/org/app/audio/conf-crash", before.outputs.len() + 1).await;
    let cut = rows
        .iter()
        .find(|r| r["mixerId"] == "m-cut")
        .expect("the interrupted recording is listed");
    assert_eq!(cut["status"], "INTERRUPTED", "{cut}");
    assert_eq!(cut["recordType"], "MERGE_ALL");
    let ms = cut["durationMs"].as_u64().expect("durationMs");
    assert!(ms >= 2_000, "playable duration {ms} ms: {cut}");
    let file = d.recordings().join("catalog/m-cut.mp4");
    assert_eq!(cut["sha256"].as_str(), Some(sha256_hex(&file).as_str()));
    assert!(
        rows.iter()
            .filter(|r| r["mixerId"] == "m-done")
            .all(|r| r["status"] == "FINALIZED"),
        "{rows:?}"
    );
}

with_both_catalogs!(
    recordings_past_their_expiry_are_deleted_and_marked_expired,
    recordings_past_their_expiry_are_deleted_and_marked_expired_with
);

/// Retention (`--retention-secs 3`, swept every second): once past its expireTime every
/// file of the conference is gone from the recordings root and its row is EXPIRED; a
/// job recorded earlier with its own `record_cfg.retention_secs` (1 hour) keeps all.
async fn recordings_past_their_expiry_are_deleted_and_marked_expired_with(
    b: common::catalog::Backend,
) {
    let d = Daemon::start_with_args(
        common::daemon::DEFAULT_RTP_PORTS,
        &b.with(
            &[
                "--rest-listen",
                "127.0.0.1:0",
                "--retention-secs",
                "3",
                "--expiry-sweep-secs",
                "1",
            ]
            .map(String::from),
        ),
    );
    b.check(&d);
    let rest = rest_addr(&d);
    let keep = RecordCfg {
        retention_secs: 3600,
        ..Default::default()
    };
    let kept = record_with(&d, "m-keep", "conf-keep", keep).await;
    let info = record(&d, "m-old", "conf-old").await;
    let n = info.outputs.len();
    let deadline = tokio::time::Instant::now() + LIMIT;
    let rows = loop {
        let (code, v) = tokio::task::block_in_place(|| get(rest, "/org/app/audio/conf-old"));
        assert_eq!(code, 200, "{v}");
        let rows = v["data"].as_array().cloned().unwrap_or_default();
        if rows.len() == n && rows.iter().all(|r| r["status"] == "EXPIRED") {
            break rows;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not all expired: {v}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    for r in &rows {
        let expire = r["expireUnixMs"].as_i64().unwrap();
        assert_eq!(expire - r["recordUnixMs"].as_i64().unwrap(), 3_000, "{r}");
        let file = d.recordings().join(r["path"].as_str().unwrap());
        assert!(!file.exists(), "{} still there", file.display());
    }
    assert!(n >= 3, "{:?}", info.outputs);
    let (code, v) = tokio::task::block_in_place(|| get(rest, "/org/app/audio/conf-keep"));
    assert_eq!(code, 200, "{v}");
    let rows = v["data"].as_array().cloned().unwrap_or_default();
    assert_eq!(rows.len(), kept.outputs.len(), "{v}");
    for r in &rows {
        assert_eq!(r["status"], "FINALIZED", "{r}");
        let expire = r["expireUnixMs"].as_i64().unwrap();
        assert_eq!(
            expire - r["recordUnixMs"].as_i64().unwrap(),
            3_600_000,
            "{r}"
        );
        let file = d.recordings().join(r["path"].as_str().unwrap());
        assert!(file.exists(), "{} deleted", file.display());
    }
}
