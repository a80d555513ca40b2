//! A customer's webhook endpoint for the tests: a small HTTP/1.1 server on its own
//! thread that checks every request's Standard Webhooks signature (webhook-id,
//! webhook-timestamp, webhook-signature over "id.timestamp.body", HMAC-SHA256) and
//! records it; it can be told to answer 503 to its next N requests.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// One request received.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub event_type: String,
    pub body: serde_json::Value,
    /// The signature matched the secret.
    pub signature_ok: bool,
    /// Answered 2xx (not one of the forced failures).
    pub accepted: bool,
}

/// The running endpoint; its thread ends with the process.
pub struct WebhookSink {
    pub addr: SocketAddr,
    got: Arc<Mutex<Vec<Received>>>,
    fail_next: Arc<AtomicUsize>,
}

impl WebhookSink {
    /// Listens on `port` (0: any) with the secret `whsec_...`.
    pub fn start(port: u16, secret: &str) -> WebhookSink {
        let key = B64
            .decode(secret.strip_prefix("whsec_").expect("whsec_ secret"))
            .expect("base64 secret");
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the webhook sink");
        let addr = listener.local_addr().unwrap();
        let got = Arc::new(Mutex::new(Vec::new()));
        let fail_next = Arc::new(AtomicUsize::new(0));
        let (g, f) = (got.clone(), fail_next.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let _ = serve_one(stream, &key, &g, &f);
            }
        });
        WebhookSink {
            addr,
            got,
            fail_next,
        }
    }

    /// `http://127.0.0.1:PORT/hook`.
    pub fn url(&self) -> String {
        format!("http://{}/hook", self.addr)
    }

    /// Answers 503 to the next `n` requests.
    pub fn fail_next(&self, n: usize) {
        self.fail_next.store(n, Ordering::SeqCst);
    }

    /// Every request so far.
    pub fn received(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

fn serve_one(
    stream: std::net::TcpStream,
    key: &[u8],
    got: &Mutex<Vec<Received>>,
    fail_next: &AtomicUsize,
) -> std::io::Result<()> {
    let mut r = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    r.read_line(&mut line)?;
    let mut headers = std::collections::HashMap::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body)?;
    let body = String::from_utf8_lossy(&body).into_owned();
    let h = |k: &str| headers.get(k).cloned().unwrap_or_default();
    let (id, ts) = (h("webhook-id"), h("webhook-timestamp"));
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(format!("{id}.{ts}.{body}").as_bytes());
    let want = format!("v1,{}", B64.encode(mac.finalize().into_bytes()));
    let signature_ok = h("webhook-signature").split(' ').any(|s| s == want);
    let accepted = fail_next
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_err();
    let json: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
    got.lock().unwrap().push(Received {
        id,
        event_type: json["type"].as_str().unwrap_or_default().to_owned(),
        body: json,
        signature_ok,
        accepted,
    });
    let status = if accepted {
        "204 No Content"
    } else {
        "503 Service Unavailable"
    };
    let mut w = stream;
    write!(
        w,
        "HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    )?;
    w.flush()
}
