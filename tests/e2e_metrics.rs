//! `serve --http-listen`: Prometheus `/metrics` scraped by a real Prometheus server
//! (Debian's `prometheus` package, scripts/install-deps.sh), and `/healthz`/`/readyz`,
//! with a real daemon and a real ffmpeg RTP publisher:
//! - Prometheus, scraping every second, stores the per-source packet counter rising
//!   while ffmpeg sends, and the gRPC counters by method and code;
//! - garbage sent to a source's RTP port is counted as a parse-error drop, in Get
//!   (`drops_parse_error`, summing to `packets_dropped`) and in `/metrics`;
//! - `/readyz` says 200 with the admission numbers, then 503 `max_mixers` when full;
//!   `/healthz` says 200 with the running mixer counted.

mod common;

use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use cloudmixer::proto::VideoCodec;
use common::daemon::Daemon;
use common::http;
use common::sender::{Codec, SenderSpec};
use common::{rpc, spec, wait_for};

/// How long Prometheus may take to start and to have scraped what a test waits for.
const PROM_WAIT: Duration = Duration::from_secs(60);

/// A running `prometheus` scraping one target every second; killed when dropped.
struct Prometheus {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Starts Prometheus with its storage in a temp dir, scraping `target` (host:port)
    /// at `/metrics` every second, and waits until it is ready.
    fn start(target: &str) -> Prometheus {
        let dir = tempfile::tempdir().expect("prometheus temp dir");
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: cloudmixer\n    scrape_interval: 1s\n    \
                 scrape_timeout: 1s\n    static_configs:\n      - targets: ['{target}']\n"
            ),
        )
        .expect("write prometheus.yml");
        // The OS picks the port; Prometheus binds it right after (a small race with
        // other processes, retried on another port if it lost).
        for _ in 0..3 {
            let port = free_tcp_port();
            let mut child = prometheus_command(&config, &dir.path().join("data"), port)
                .spawn()
                .expect("start prometheus (scripts/install-deps.sh installs it)");
            let ready = wait_for(PROM_WAIT, Duration::from_millis(200), || {
                if let Ok(Some(s)) = child.try_wait() {
                    return Some(Err(s));
                }
                let out = Command::new("curl")
                    .args(["-s", "-m", "2", "-o", "/dev/null", "-w", "%{http_code}"])
                    .arg(format!("http://127.0.0.1:{port}/-/ready"))
                    .output()
                    .ok()?;
                (out.stdout == b"200").then_some(Ok(()))
            });
            match ready {
                Some(Ok(())) => {
                    return Prometheus {
                        child,
                        port,
                        _dir: dir,
                    }
                }
                Some(Err(s)) => eprintln!("prometheus exited ({s}); retrying on another port"),
                None => {
                    let _ = child.kill();
                    let _ = child.wait();
                    panic!("prometheus not ready within {PROM_WAIT:?}");
                }
            }
        }
        panic!("prometheus did not start");
    }

    /// The value of instant query `q` (the first series), or None if it has no result.
    fn query(&self, q: &str) -> Option<f64> {
        let url = format!("http://127.0.0.1:{}/api/v1/query", self.port);
        let (code, body) = http::get_query(&url, "query", q);
        assert_eq!(code, 200, "{q}: {body}");
        let v: serde_json::Value = serde_json::from_str(&body).expect("query JSON");
        assert_eq!(v["status"], "success", "{q}: {body}");
        let r = v["data"]["result"].as_array()?.first()?.clone();
        r["value"][1].as_str()?.parse().ok()
    }

    /// Waits until query `q` has a value that `ok` accepts; returns it.
    fn wait_value(&self, q: &str, ok: impl Fn(f64) -> bool) -> f64 {
        wait_for(PROM_WAIT, Duration::from_millis(500), || {
            self.query(q).filter(|v| ok(*v))
        })
        .unwrap_or_else(|| panic!("Prometheus: {q} = {:?} after {PROM_WAIT:?}", self.query(q)))
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn prometheus_command(config: &Path, data: &Path, port: u16) -> Command {
    let mut c = Command::new("prometheus");
    c.arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--log.level=warn")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit());
    c
}

fn free_tcp_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind a free TCP port");
    l.local_addr().expect("local addr").port()
}

fn http_daemon(extra: &[&str]) -> Daemon {
    let mut args: Vec<String> = vec!["--http-listen".into(), "127.0.0.1:0".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    let d = Daemon::start_with_args(common::daemon::DEFAULT_RTP_PORTS, &args);
    assert!(d.http.is_some(), "daemon reported no http address");
    d
}

/// The value of the `/metrics` series whose line starts with `name{` and holds every
/// label of `labels` (`key="value"`).
fn metric(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines().find_map(|l| {
        let rest = l.strip_prefix(name)?.strip_prefix('{')?;
        let (lab, val) = rest.rsplit_once("} ")?;
        labels
            .iter()
            .all(|want| lab.split(',').any(|kv| kv == *want))
            .then(|| val.trim().parse().ok())?
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_scrapes_source_and_rpc_counters_moving() {
    let d = http_daemon(&[]);
    let http = d.http.unwrap();
    let mut c = d.client().await;
    let req = spec::create_request(
        "metrics",
        vec![spec::source("A", Some((VideoCodec::Vp8, 96)), true)],
        vec![spec::region("A", 0, 0, 1280, 720)],
        "metrics/m.mp4",
    );
    let created = rpc::create(&mut c, req).await;
    // A refused Create: counted with its code.
    let mut bad = spec::create_request("bad id!", vec![], vec![], "metrics/bad.mp4");
    bad.oper_user_id = "e2e".into();
    let refused = c
        .create_cloud_mixer(bad)
        .await
        .expect_err("bad mixer_id refused");
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);

    let p = &created.source_ports[0];
    let _a = SenderSpec::solid_to("red", Codec::Vp8, 440, p).start();
    let prom = Prometheus::start(&http.to_string());

    assert_eq!(prom.wait_value("up{job=\"cloudmixer\"}", |v| v == 1.0), 1.0);
    let packets =
        "cloudmixer_source_packets_total{mixer_id=\"metrics\",camid=\"A\",medium=\"video\"}";
    let first = prom.wait_value(packets, |v| v > 0.0);
    let later = prom.wait_value(packets, |v| v > first);
    eprintln!("Prometheus: video packets {first} then {later}");
    let audio =
        "cloudmixer_source_packets_total{mixer_id=\"metrics\",camid=\"A\",medium=\"audio\"}";
    prom.wait_value(audio, |v| v > 0.0);
    let ok_creates = "cloudmixer_grpc_responses_total{method=\"CreateCloudMixer\",code=\"OK\"}";
    assert_eq!(prom.wait_value(ok_creates, |v| v >= 1.0), 1.0);
    let bad_creates =
        "cloudmixer_grpc_responses_total{method=\"CreateCloudMixer\",code=\"INVALID_ARGUMENT\"}";
    assert_eq!(prom.wait_value(bad_creates, |v| v >= 1.0), 1.0);
    // Gets move the request counter as Prometheus sees it.
    let gets = "cloudmixer_grpc_requests_total{method=\"GetCloudMixer\"}";
    for _ in 0..3 {
        rpc::info(&mut c, "metrics").await;
    }
    assert!(prom.wait_value(gets, |v| v >= 3.0) >= 3.0);
    rpc::info(&mut c, "metrics").await;
    prom.wait_value(gets, |v| v >= 4.0);
    assert_eq!(
        prom.wait_value("cloudmixer_mixers{state=\"running\"}", |v| v == 1.0),
        1.0
    );
    prom.wait_value(
        "cloudmixer_mixer_tick_age_seconds{mixer_id=\"metrics\"}",
        |v| v < 2.0,
    );

    // Garbage to the video RTP port: a parse-error drop, in Get and in /metrics.
    let stranger = UdpSocket::bind("127.0.0.1:0").unwrap();
    let video_rtp = format!("127.0.0.1:{}", p.video_rtp_port);
    for _ in 0..5 {
        stranger.send_to(b"not an RTP packet", &video_rtp).unwrap();
    }
    let mut src = None;
    for _ in 0..100 {
        let s = rpc::sources(&mut c, "metrics").await.remove(0);
        if s.drops_parse_error >= 5 {
            src = Some(s);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let s = src.expect("5 parse-error drops counted within 10 s");
    assert_eq!(s.drops_parse_error, 5, "{s:?}");
    let by_cause = s.drops_parse_error
        + s.drops_pt_ssrc_mismatch
        + s.drops_foreign_address
        + s.drops_queue_full
        + s.drops_decode_error
        + s.drops_duplicate_or_late;
    assert_eq!(
        by_cause, s.packets_dropped,
        "causes sum to the total: {s:?}"
    );
    let (code, text) = http::get(&format!("http://{http}/metrics"));
    assert_eq!(code, 200);
    let labels = [
        "mixer_id=\"metrics\"",
        "camid=\"A\"",
        "cause=\"parse_error\"",
    ];
    assert_eq!(
        metric(&text, "cloudmixer_source_drops_total", &labels),
        Some(5.0),
        "{text}"
    );
    for cause in [
        "pt_ssrc_mismatch",
        "foreign_address",
        "queue_full",
        "decode_error",
        "duplicate_or_late",
        "oversized_picture",
    ] {
        let l = format!("cause=\"{cause}\"");
        assert!(
            metric(&text, "cloudmixer_source_drops_total", &["camid=\"A\"", &l]).is_some(),
            "no {cause} series"
        );
    }
    assert!(text.contains("# TYPE cloudmixer_source_packets_total counter"));
    assert!(text.contains("# TYPE cloudmixer_available_millicores gauge"));

    // Destroyed: the file counters move; the mixer's series stay until it is evicted.
    rpc::destroy(&mut c, "metrics").await;
    let ended = "cloudmixer_files_ended_total{status=\"finalized\"}";
    assert_eq!(prom.wait_value(ended, |v| v >= 1.0), 1.0);
    prom.wait_value("cloudmixer_file_bytes_ended_total", |v| v > 10_000.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_and_healthz_report_admission_and_tick_liveness() {
    let d = http_daemon(&["--max-mixers", "1", "--cpu-budget-millicores", "100000"]);
    let base = format!("http://{}", d.http.unwrap());
    let (code, r) = http::get_json(&format!("{base}/readyz"));
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["ready"], true);
    assert_eq!(r["mixers"], 0);
    assert_eq!(r["max_mixers"], 1);
    assert_eq!(r["budget_millicores"], 100000);
    assert_eq!(r["available_millicores"], 100000);
    let (code, h) = http::get_json(&format!("{base}/healthz"));
    assert_eq!(code, 200, "{h}");
    assert_eq!(h["healthy"], true);
    assert_eq!(h["running_mixers"], 0);
    assert_eq!(h["stall_after_ms"], 10000);

    let mut c = d.client().await;
    let req = spec::create_request(
        "ready",
        vec![spec::source("A", Some((VideoCodec::Vp8, 96)), false)],
        vec![spec::region("A", 0, 0, 1280, 720)],
        "ready/r.mp4",
    );
    rpc::create(&mut c, req).await;
    let (code, r) = http::get_json(&format!("{base}/readyz"));
    assert_eq!(code, 503, "{r}");
    assert_eq!(r["ready"], false);
    assert_eq!(r["reason"], "max_mixers");
    assert_eq!(r["mixers"], 1);
    let admitted = r["admitted_millicores"].as_u64().unwrap();
    assert!(admitted > 0, "{r}");
    assert_eq!(r["available_millicores"], 100000 - admitted);
    let (code, h) = http::get_json(&format!("{base}/healthz"));
    assert_eq!(code, 200, "{h}");
    assert_eq!(h["running_mixers"], 1);
    assert_eq!(h["stalled_mixers"], 0);

    rpc::destroy(&mut c, "ready").await;
    let (code, r) = http::get_json(&format!("{base}/readyz"));
    assert_eq!(code, 200, "{r}");
    assert_eq!(r["mixers"], 0);
    let (code, _) = http::get(&format!("{base}/nope"));
    assert_eq!(code, 404);
}
