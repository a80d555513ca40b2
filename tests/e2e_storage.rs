//! Object storage upload and webhooks against real processes: the daemon, an `s3s-fs`
//! S3 server checking SigV4 signatures (tests/common/s3.rs) and a webhook endpoint
//! checking Standard Webhooks signatures (tests/common/webhook_sink.rs).
//!
//! - every output of a recording (composite and per-participant files) is uploaded;
//!   each object is byte-identical (SHA-256) to the file on disk; the catalog and the
//!   events (OutputInfoChanged with its upload) say UPLOADED; the REST record's
//!   presigned URL downloads the same bytes, a tampered or expired one is refused;
//! - the endpoint, failing its first requests, still gets every event, each under one
//!   id, signed;
//! - kill -9 with uploads pending (the store down) and a recording running: after the
//!   restart the store comes up, every file (the cut-off ones INTERRUPTED, with their
//!   playable duration) is uploaded once to one object, and every event is called back
//!   under one id each although the endpoint was down at first.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use cloudmixer::proto::mixer_event::Event;
use cloudmixer::proto::UploadState;
use common::catalog::{poll_rows, record, record_with, rest_addr, sha256_hex};
use common::daemon::Daemon;
use common::http;
use common::rpc;
use common::s3::{self, S3Server};
use common::sender::{Codec, SenderSpec};
use common::spec;
use common::webhook_sink::{Received, WebhookSink};
use serde_json::Value;

/// The webhook secret the daemon signs with and the endpoint checks.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// Bound of the waits for uploads and callbacks.
const LIMIT: Duration = Duration::from_secs(30);

/// `serve` flags for storage at `endpoint` and webhooks to `hook`, fast retries.
fn flags(dir: &std::path::Path, endpoint: &str, hook: &str, url_ttl: &str) -> Vec<String> {
    let secret = dir.join("secret");
    std::fs::write(&secret, SECRET).unwrap();
    [
        "--rest-listen",
        "127.0.0.1:0",
        "--storage-url",
        &format!("s3://{}/cm", s3::BUCKET),
        "--storage-endpoint",
        endpoint,
        "--webhook-url",
        hook,
        "--webhook-secret-file",
        secret.to_str().unwrap(),
        "--retry-first-delay-ms",
        "100",
        "--retry-max-delay-ms",
        "400",
        "--upload-attempts",
        "1000",
        "--webhook-attempts",
        "1000",
        "--url-ttl-secs",
        url_ttl,
    ]
    .map(String::from)
    .to_vec()
}

const ENV: [(&str, &str); 2] = [
    ("AWS_ACCESS_KEY_ID", s3::ACCESS_KEY),
    ("AWS_SECRET_ACCESS_KEY", s3::SECRET_KEY),
];

/// The rows of conference `conf` once `n` are listed and all UPLOADED.
async fn uploaded_rows(d: &Daemon, conf: &str, n: usize) -> Vec<Value> {
    let path = format!("/org/app/audio/{conf}");
    let rows = poll_rows(rest_addr(d), &path, |rows| {
        rows.len() >= n && rows.iter().all(|r| r["uploadState"] == "UPLOADED")
    })
    .await;
    assert_eq!(rows.len(), n, "{rows:?}");
    rows
}

/// Each row's object: at `s3://recordings/cm/<path>`, its bytes hashing to the row's
/// SHA-256, which is the file's on disk.
fn check_objects(d: &Daemon, s3: &S3Server, rows: &[Value]) {
    for r in rows {
        let path = r["path"].as_str().unwrap();
        assert_eq!(
            r["storageLocation"].as_str(),
            Some(format!("s3://{}/cm/{path}", s3::BUCKET).as_str()),
            "{r}"
        );
        let local = sha256_hex(&d.recordings().join(path));
        assert_eq!(r["sha256"].as_str(), Some(local.as_str()), "{r}");
        assert_eq!(
            sha256_hex(&s3.object_file(&format!("cm/{path}"))),
            local,
            "object {path}"
        );
    }
}

/// The endpoint's requests once `done` holds for them (bounded by [`LIMIT`]).
async fn wait_received(sink: &WebhookSink, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        let got = sink.received();
        if done(&got) {
            return got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "webhooks so far: {got:#?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The accepted messages by id: every request signed, and each id always carrying the
/// same event.
fn by_id(got: &[Received]) -> BTreeMap<String, Received> {
    let mut ids = BTreeMap::new();
    for r in got {
        assert!(r.signature_ok, "bad signature: {r:?}");
        let first = ids.entry(r.id.clone()).or_insert_with(|| r.clone());
        assert_eq!(first.body, r.body, "one id, one message");
    }
    ids.retain(|_, r| got.iter().any(|g| g.id == r.id && g.accepted));
    ids
}

/// (type, mixer, output) of each accepted message: each event under exactly one id.
fn events(ids: &BTreeMap<String, Received>) -> BTreeSet<(String, String, String)> {
    let list: Vec<_> = ids
        .values()
        .map(|r| {
            let d = &r.body["data"];
            (
                r.event_type.clone(),
                d["mixerId"].as_str().unwrap_or_default().to_owned(),
                d["outputId"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let set: BTreeSet<_> = list.iter().cloned().collect();
    assert_eq!(set.len(), list.len(), "an event under two ids: {list:?}");
    set
}

with_both_catalogs!(
    outputs_are_uploaded_verified_presigned_and_called_back,
    outputs_are_uploaded_verified_presigned_and_called_back_with
);

async fn outputs_are_uploaded_verified_presigned_and_called_back_with(b: common::catalog::Backend) {
    let dir = tempfile::tempdir().unwrap();
    let s3 = S3Server::start(&dir.path().join("s3"), s3::free_tcp_port());
    let sink = WebhookSink::start(0, SECRET);
    sink.fail_next(3);
    // The job's own endpoint (record_cfg.webhook_urls), besides the daemon's.
    let job_sink = WebhookSink::start(0, SECRET);
    let d = Daemon::start_with_env(
        common::daemon::DEFAULT_RTP_PORTS,
        &b.with(&flags(dir.path(), &s3.endpoint(), &sink.url(), "4")),
        &ENV,
    );
    b.check(&d);
    let mut c = d.client().await;
    let mut stream = c
        .watch_events(cloudmixer::proto::WatchEventsRequest {
            mixer_id: String::new(),
        })
        .await
        .expect("WatchEvents")
        .into_inner();
    let job = cloudmixer::proto::RecordCfg {
        webhook_urls: vec![job_sink.url()],
        ..Default::default()
    };
    let info = record_with(&d, "m-up", "conf-up", job).await;
    let n = info.outputs.len();
    assert!(
        n >= 3,
        "a composite and two participants' files: {:?}",
        info.outputs
    );
    let rows = uploaded_rows(&d, "conf-up", n).await;
    check_objects(&d, &s3, &rows);
    assert_eq!(s3.keys().len(), n, "one object per file: {:?}", s3.keys());

    // Every output's upload reported as an OutputInfoChanged, UPLOADED at its location.
    let mut uploaded = BTreeSet::new();
    let deadline = tokio::time::Instant::now() + LIMIT;
    while uploaded.len() < n {
        let ev = tokio::time::timeout_at(deadline, stream.message())
            .await
            .expect("the upload events in time")
            .expect("event stream")
            .expect("an event");
        if let Some(Event::OutputInfoChanged(o)) = ev.event {
            let info = o.output_info.unwrap_or_default();
            if let Some(u) = info
                .upload
                .filter(|u| u.state == UploadState::Uploaded as i32)
            {
                assert!(u.location.ends_with(&info.path), "{u:?} {}", info.path);
                uploaded.insert(info.output_id);
            }
        }
    }

    // The presigned URL of each record downloads the object's bytes; tampered: refused.
    for r in &rows {
        let url = r["url"].as_str().unwrap();
        assert!(url.contains("X-Amz-Signature="), "a presigned URL: {url}");
        let out = dir.path().join("download");
        let (code, _) = http::get_with(url, &["-o", out.to_str().unwrap()]);
        assert_eq!(code, 200, "{url}");
        assert_eq!(
            sha256_hex(&out),
            r["sha256"].as_str().unwrap(),
            "downloaded bytes"
        );
    }
    let url = rows[0]["url"].as_str().unwrap().to_owned();
    let at = url.find("X-Amz-Signature=").unwrap() + "X-Amz-Signature=".len();
    let flip = if &url[at..at + 1] == "0" { "1" } else { "0" };
    let tampered = format!("{}{flip}{}", &url[..at], &url[at + 1..]);
    let (code, body) = http::get(&tampered);
    assert_eq!(code, 403, "tampered: {body}");
    // Expired (--url-ttl-secs 4): the same URL is refused once its time is past.
    let expired = common::wait_for(LIMIT, Duration::from_millis(250), || {
        let (code, body) = http::get(&url);
        (code != 200).then_some((code, body))
    })
    .expect("the URL expires");
    assert_eq!(expired.0, 403, "expired: {}", expired.1);
    assert!(expired.1.contains("xpired"), "expired: {}", expired.1);

    // Webhooks: every event once per id, signed, though the first 3 requests failed.
    let want = 2 * n + 2; // started, ended; finalized + upload completed per file
    let got = wait_received(&sink, |g| by_id(g).len() >= want).await;
    let ids = by_id(&got);
    assert!(
        got.len() >= want + 3,
        "the 3 refused requests were retried: {got:#?}"
    );
    let ev = events(&ids);
    assert_eq!(ev.len(), want, "{ev:?}");
    // The job's endpoint is told the same messages, under the same ids.
    let job_got = wait_received(&job_sink, |g| by_id(g).len() >= want).await;
    let job_ids = by_id(&job_got);
    assert_eq!(
        job_ids.keys().collect::<Vec<_>>(),
        ids.keys().collect::<Vec<_>>(),
        "the job's endpoint"
    );
    for r in &rows {
        let o = r["outputId"].as_str().unwrap().to_owned();
        for t in ["recording.output_finalized", "recording.upload_completed"] {
            assert!(
                ev.contains(&(t.into(), "m-up".into(), o.clone())),
                "{t} {o}: {ev:?}"
            );
        }
    }
    let ended = ids
        .values()
        .find(|r| r.event_type == "recording.ended")
        .expect("recording.ended");
    let files = ended.body["data"]["files"].as_array().expect("files");
    assert_eq!(
        files.len(),
        n,
        "every file in the end-of-call callback: {ended:?}"
    );

    // The job's manifest: in the callback and in the state dir, the same document.
    let m = &ended.body["data"]["manifest"];
    let sources: Vec<(&str, &str)> = m["sources"]
        .as_array()
        .expect("sources")
        .iter()
        .map(|s| {
            (
                s["camid"].as_str().unwrap(),
                s["displayName"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(sources, [("A", "Alice"), ("B", "")], "{m}");
    let first = &m["layoutChanges"][0];
    assert_eq!(first["camids"], serde_json::json!(["A", "B"]), "{m}");
    assert!(first["layout"]["regions"].is_array(), "{m}");
    let mut want: Vec<String> = rows
        .iter()
        .map(|r| r["sha256"].as_str().unwrap().to_owned())
        .collect();
    let mut got: Vec<String> = m["outputs"]
        .as_array()
        .expect("outputs")
        .iter()
        .map(|o| o["sha256"].as_str().unwrap().to_owned())
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "the manifest's outputs are the catalog's files");
    let file = d
        .recordings()
        .join(".cloudmixer/manifests")
        .join(format!("m-up-{}.json", m["beginUnixMs"]));
    let on_disk: Value = serde_json::from_slice(&std::fs::read(&file).expect("manifest file"))
        .expect("manifest JSON");
    assert_eq!(&on_disk, m, "{}", file.display());
}

with_both_catalogs!(
    kill_9_with_uploads_pending_and_a_recording_running_loses_nothing,
    kill_9_with_uploads_pending_and_a_recording_running_loses_nothing_with
);

async fn kill_9_with_uploads_pending_and_a_recording_running_loses_nothing_with(
    b: common::catalog::Backend,
) {
    let dir = tempfile::tempdir().unwrap();
    let (s3_port, hook_port) = (s3::free_tcp_port(), s3::free_tcp_port());
    let hook = format!("http://127.0.0.1:{hook_port}/hook");
    // The store and the endpoint are down: uploads and callbacks fail and back off.
    let mut d = Daemon::start_with_env(
        common::daemon::DEFAULT_RTP_PORTS,
        &b.with(&flags(
            dir.path(),
            &format!("http://127.0.0.1:{s3_port}"),
            &hook,
            "3600",
        )),
        &ENV,
    );
    b.check(&d);
    let done = record(&d, "m-done", "conf-kill").await;
    poll_rows(rest_addr(&d), "/org/app/audio/conf-kill", |rows| {
        rows.len() == done.outputs.len()
            && rows.iter().all(|r| {
                r["uploadState"] == "PENDING" && r["uploadAttempts"].as_i64().unwrap_or(0) >= 1
            })
    })
    .await;
    let mut c = d.client().await;
    let a = spec::source("A", Some((cloudmixer::proto::VideoCodec::Vp8, 96)), true);
    let mut req = spec::create_request("m-cut", vec![a], vec![], "catalog/m-cut.mp4");
    req.conference_id = "conf-kill".into();
    let created = rpc::create(&mut c, req).await;
    let _a = SenderSpec::solid_to("red", Codec::Vp8, 440, &created.source_ports[0]).start();
    rpc::wait_pictures_and_written(&mut c, "m-cut", 3_000).await;
    d.crash_and_restart();
    // Only now do the store and then the endpoint come up.
    let s3 = S3Server::start(&dir.path().join("s3"), s3_port);
    let n = done.outputs.len() + 1;
    let rows = uploaded_rows(&d, "conf-kill", n).await;
    check_objects(&d, &s3, &rows);
    assert_eq!(s3.keys().len(), n, "one object per file: {:?}", s3.keys());
    let cut = rows
        .iter()
        .find(|r| r["mixerId"] == "m-cut")
        .expect("m-cut listed");
    assert_eq!(cut["status"], "INTERRUPTED", "{cut}");
    assert!(
        cut["durationMs"].as_i64().unwrap() >= 2_000,
        "playable duration: {cut}"
    );
    let sink = WebhookSink::start(hook_port, SECRET);

    // m-done: started, ended, finalized + uploaded per file; m-cut (its start was
    // queued before the crash): started, ended, finalized (INTERRUPTED), uploaded.
    let want = 2 + 2 * done.outputs.len() + 4;
    let got = wait_received(&sink, |g| by_id(g).len() >= want).await;
    let ev = events(&by_id(&got));
    assert_eq!(ev.len(), want, "{ev:?}");
    for t in ["recording.started", "recording.ended"] {
        for m in ["m-done", "m-cut"] {
            assert!(
                ev.contains(&(t.into(), m.into(), String::new())),
                "{t} {m}: {ev:?}"
            );
        }
    }
    let fin = got
        .iter()
        .find(|r| {
            r.event_type == "recording.output_finalized" && r.body["data"]["mixerId"] == "m-cut"
        })
        .expect("m-cut finalized");
    assert_eq!(fin.body["data"]["status"], "INTERRUPTED", "{fin:?}");
}
