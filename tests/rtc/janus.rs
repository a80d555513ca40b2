//! Janus 1.1 (Debian) for the tests: started by tests/janus/janus_start.sh (VideoRoom,
//! HTTP API on 127.0.0.1:8088), controlled over its plain HTTP API.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

/// Janus' HTTP API root.
pub const API: &str = "http://127.0.0.1:8088/janus";

/// A running Janus; stopped (its `timeout` wrapper TERMed) when dropped.
pub struct Janus {
    pid: u32,
    pub dir: PathBuf,
}

impl Janus {
    /// Starts Janus with its run directory under `dir`. Panics if it does not come up.
    pub fn start(dir: &Path) -> Janus {
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/janus/janus_start.sh");
        let out = Command::new("bash")
            .arg(script)
            .env("JDIR", dir)
            .env("JANUS_MAX_S", "180")
            .output()
            .expect("run janus_start.sh");
        assert!(
            out.status.success(),
            "janus did not start: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let pid = std::fs::read_to_string(dir.join("janus.pid"))
            .expect("janus.pid")
            .trim()
            .parse()
            .expect("a pid");
        Janus {
            pid,
            dir: dir.to_owned(),
        }
    }

    /// Janus' log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("janus.log")).unwrap_or_default()
    }
}

impl Drop for Janus {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(self.pid.to_string()).status();
    }
}

fn body_of(resp: &str) -> String {
    let (head, body) = resp.split_once("\r\n\r\n").unwrap_or(("", resp));
    if !head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        return body.to_owned();
    }
    let mut out = String::new();
    let mut rest = body;
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

/// POSTs `body` (a transaction id is added) to `API + path`; the JSON reply.
pub fn call(path: &str, mut body: Value) -> Value {
    body["transaction"] = json!(format!("{:x}", rand_u64()));
    let (st, resp) = super::http(
        "POST",
        &format!("{API}{path}"),
        &[("Content-Type", "application/json")],
        &body.to_string(),
    );
    assert_eq!(st, 200, "janus {path}: {resp}");
    serde_json::from_str(&body_of(&resp)).unwrap_or_else(|e| panic!("janus {path}: {e}: {resp}"))
}

/// Long-polls the session's events (at most `maxev` = 10).
pub fn poll(session: u64) -> Vec<Value> {
    let (_, resp) = super::http(
        "GET",
        &format!("{API}/{session}?maxev=10&rid={}", rand_u64()),
        &[],
        "",
    );
    match serde_json::from_str(&body_of(&resp)) {
        Ok(Value::Array(v)) => v,
        Ok(v) => vec![v],
        Err(_) => vec![],
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    h.finish()
}

/// A session with a VideoRoom handle: (session, handle).
pub fn videoroom() -> (u64, u64) {
    let s = call("", json!({"janus": "create"}))["data"]["id"]
        .as_u64()
        .expect("session");
    let h = call(
        &format!("/{s}"),
        json!({"janus": "attach", "plugin": "janus.plugin.videoroom"}),
    )["data"]["id"]
        .as_u64()
        .expect("handle");
    (s, h)
}

/// A VideoRoom request; the plugin's reply data.
pub fn request(s: u64, h: u64, body: Value) -> Value {
    let r = call(
        &format!("/{s}/{h}"),
        json!({"janus": "message", "body": body}),
    );
    r["plugindata"]["data"].clone()
}

/// Waits up to `limit` for a publisher called `display` with streams, seen by joining
/// `room` as a silent publisher; returns its participant JSON (id, streams).
pub fn wait_publisher(s: u64, h: u64, room: u64, display: &str, limit: Duration) -> Value {
    call(
        &format!("/{s}/{h}"),
        json!({"janus": "message", "body": {"request": "join", "ptype": "publisher",
               "room": room, "display": "observer"}}),
    );
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        for ev in poll(s) {
            let pubs = ev["plugindata"]["data"]["publishers"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            if let Some(p) = pubs.into_iter().find(|p| {
                p["display"] == display && p["streams"].as_array().is_some_and(|v| !v.is_empty())
            }) {
                return p;
            }
        }
        call(&format!("/{s}"), json!({"janus": "keepalive"}));
    }
    panic!("no publisher {display:?} in room {room} within {limit:?}");
}
