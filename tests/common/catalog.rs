//! The recordings catalog seen from a test: the REST address a daemon printed, a
//! recording of two senders to fill it, bounded polls of its rows, file checksums.

use std::net::SocketAddr;
use std::time::Duration;

use cloudmixer::proto::{MixerInfo, RecordCfg, RecordMode};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::daemon::Daemon;
use super::http;
use super::rpc;
use super::sender::{Codec, SenderSpec};
use super::spec;

/// Bound of the wait for the catalog to list a mixer's outputs.
pub const LIMIT: Duration = Duration::from_secs(20);

/// The address of the daemon's `rest listening on HOST:PORT` line.
pub fn rest_addr(d: &Daemon) -> SocketAddr {
    d.log()
        .lines()
        .find_map(|l| l.strip_prefix("rest listening on "))
        .unwrap_or_else(|| panic!("no REST address in the log:\n{}", d.log()))
        .trim()
        .parse()
        .expect("an address")
}

/// Records conference `conf` with mixer `id`: composite + per-participant files of two
/// senders, "Alice" (named) and B (no name); returns the final info.
pub async fn record(d: &Daemon, id: &str, conf: &str) -> MixerInfo {
    record_with(d, id, conf, RecordCfg::default()).await
}

/// [`record`] with `cfg`'s fields (its mode is always MIXED_AND_SINGLE).
pub async fn record_with(d: &Daemon, id: &str, conf: &str, cfg: RecordCfg) -> MixerInfo {
    let mut c = d.client().await;
    let mut a = spec::source("A", Some((cloudmixer::proto::VideoCodec::Vp8, 96)), true);
    a.display_name = "Alice".into();
    let b = spec::source("B", Some((cloudmixer::proto::VideoCodec::H264, 102)), true);
    let mut req = spec::create_request(id, vec![a, b], vec![], &format!("catalog/{id}.mp4"));
    req.conference_id = conf.into();
    req.record_cfg = Some(RecordCfg {
        mode: RecordMode::MixedAndSingle as i32,
        ..cfg
    });
    let created = rpc::create(&mut c, req).await;
    let _a = SenderSpec::solid_to("red", Codec::Vp8, 440, &created.source_ports[0]).start();
    let _b = SenderSpec::solid_to("blue", Codec::H264, 1000, &created.source_ports[1]).start();
    rpc::wait_pictures_and_written(&mut c, id, 2_000).await;
    rpc::destroy(&mut c, id).await
}

pub fn get(rest: SocketAddr, path: &str) -> (u16, Value) {
    http::get_json(&format!("http://{rest}{path}"))
}

/// `GET path` until `done` holds for its rows (bounded by [`LIMIT`]); returns them.
pub async fn poll_rows(
    rest: SocketAddr,
    path: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        let (code, v) = tokio::task::block_in_place(|| get(rest, path));
        assert_eq!(code, 200, "{path}: {v}");
        let rows = v["data"].as_array().cloned().unwrap_or_default();
        if done(&rows) {
            return rows;
        }
        assert!(tokio::time::Instant::now() < deadline, "{path}: still {v}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `GET path` until its `data` holds `n` rows (the feed stores outputs as they end).
pub async fn wait_rows(rest: SocketAddr, path: &str, n: usize) -> Vec<Value> {
    let rows = poll_rows(rest, path, |rows| rows.len() >= n).await;
    assert_eq!(rows.len(), n, "{path}: more rows than outputs: {rows:?}");
    rows
}

pub fn sha256_hex(path: &std::path::Path) -> String {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The catalog a test's daemon uses: SQLite (the default, in its state dir) or a
/// PostgreSQL server of the test's own; the same tests run with both.
pub struct Backend {
    /// Extra `serve` flags (`--catalog URL` for PostgreSQL).
    pub flags: Vec<String>,
    _pg: Option<super::postgres::Postgres>,
}

impl Backend {
    pub fn sqlite() -> Backend {
        Backend {
            flags: Vec::new(),
            _pg: None,
        }
    }

    pub fn postgres() -> Backend {
        let pg = super::postgres::Postgres::start();
        Backend {
            flags: vec!["--catalog".into(), pg.url()],
            _pg: Some(pg),
        }
    }

    /// Asserts that `d` opened this backend's catalog (its log names it).
    pub fn check(&self, d: &Daemon) {
        let want = match &self._pg {
            Some(pg) => format!("catalog={}", pg.url()),
            None => "catalog.sqlite3".to_owned(),
        };
        let log = d.log();
        assert!(
            log.lines()
                .any(|l| l.contains("recordings catalog open") && l.contains(&want)),
            "the daemon did not open {want}:\n{log}"
        );
    }

    /// `flags` followed by this backend's.
    pub fn with(&self, flags: &[String]) -> Vec<String> {
        flags.iter().chain(&self.flags).cloned().collect()
    }
}

/// Runs the async test body `$body(Backend)` twice: `$name::sqlite` and
/// `$name::postgres`.
#[macro_export]
macro_rules! with_both_catalogs {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body(super::common::catalog::Backend::sqlite()).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$body(super::common::catalog::Backend::postgres()).await
            }
        }
    };
}
