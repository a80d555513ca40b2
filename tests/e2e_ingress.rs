//! Network ingress you can trust (issue 10), end to end with real peers:
//!
//! - plain RTP latching: a stranger (a real ffmpeg sender bound to 127.0.0.2) sending
//!   VP8 of another colour to a source's RTP port while the real sender (127.0.0.1)
//!   streams is not mixed: the file shows only the real sender's red, and the stranger's
//!   datagrams count as `drops_foreign_address`;
//! - WHEP: a server (tests/whep_origin_proxy.py, a Python process in front of the
//!   `webrtc` crate test endpoint) that hands out its session URL on another origin gets
//!   the bearer token on the POST to the configured URL and never on the other origin;
//!   WHEP URLs the default `--whep-allow` refuses (loopback, cloud metadata) fail Create
//!   with INVALID_ARGUMENT naming the field;
//! - WHIP HTTP server: silent, slow (partial head) and idle keep-alive connections are
//!   closed within their timeouts; a connection over `--max-whip-connections` gets 503;
//! - with `--whip-tls-cert/--whip-tls-key` the WHIP URL is https and only TLS is served.

mod common;
mod rtc;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cloudmixer::proto::{SourceTransport, VideoCodec, WhepSource};
use common::daemon::Daemon;
use common::media::{self, check_colours, ColourAt, RED};
use common::rpc;
use common::sender::{self, Codec, SenderSpec};
use common::spec;

const CAM: &str = "Usr1.-1";

/// A VP8 publisher of `colour` to `port`, SSRC `ssrc`, sending from `local` (its RTP
/// and RTCP sockets are bound to that address: ffmpeg's `localaddr`).
fn vp8_sender(colour: &str, port: u16, ssrc: u32, local: &str) -> Child {
    let s = SenderSpec {
        picture: sender::solid(colour),
        codec: Codec::Vp8,
        video_port: Some(port),
        video_pt: 96,
        video_ssrc: ssrc,
        tone_hz: 440,
        audio_port: None,
        audio_pt: 111,
        audio_ssrc: 0,
        duration: Duration::from_secs(30),
    };
    let args = s
        .args()
        .into_iter()
        .map(|a| {
            if a.starts_with("rtp://") {
                format!("{a}&localaddr={local}")
            } else {
                a
            }
        })
        .collect();
    sender::spawn_ffmpeg(args)
}

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stranger_on_another_address_is_not_mixed() {
    let d = Daemon::start();
    let mut c = d.client().await;
    let id = "ingress-stranger";
    let req = spec::create_request(
        id,
        vec![spec::source(CAM, Some((VideoCodec::Vp8, 96)), false)],
        vec![spec::region(CAM, 0, 0, 1280, 720)],
        "ingress/stranger.mp4",
    );
    let (created, mut clock) = rpc::create_clocked(&mut c, req).await;
    let port = u16::try_from(created.source_ports[0].video_rtp_port).expect("port");
    let _real = Kill(vp8_sender("red", port, 0x1111_0001, "127.0.0.1"));
    let first = rpc::wait_first_source(&mut c, id, Duration::from_secs(15), |s| {
        s.video_frames_decoded >= 15
    })
    .await
    .expect("the real sender's pictures decoded");
    assert_eq!(first.drops_foreign_address, 0, "{first:?}");

    // The stranger: another host address, another SSRC, green, same payload type.
    let stranger_at = clock.now_s();
    let _stranger = Kill(vp8_sender("green", port, 0x5757_5757, "127.0.0.2"));
    let s = rpc::wait_first_source(&mut c, id, Duration::from_secs(15), |s| {
        s.drops_foreign_address >= 100
    })
    .await;
    let s =
        s.unwrap_or_else(|| panic!("stranger's datagrams not counted as foreign:\n{}", d.log()));
    let decoded_then = s.video_frames_decoded;
    // Three more seconds of both sending.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let end = rpc::sources(&mut c, id).await.remove(0);
    let until = clock.now_s();
    assert!(
        end.video_frames_decoded >= decoded_then + 30,
        "the real sender kept being decoded: {decoded_then} -> {}",
        end.video_frames_decoded
    );
    assert!(end.drops_foreign_address > s.drops_foreign_address);
    assert!(end.packets_dropped >= end.drops_foreign_address);
    assert!(
        !d.log().contains("SSRC changed"),
        "the stream restarted on the stranger's SSRC"
    );
    rpc::destroy(&mut c, id).await;
    let _ = clock.recorded_s().await;

    let path = d.recordings().join("ingress/stranger.mp4");
    // Every half second from 0.5 s after the stranger started to the end: red only.
    let mut t = stranger_at + 0.5;
    let mut checked = 0;
    while t < until - 0.3 {
        let f = media::frame_at(&path, t, 1280, 720);
        let pts = [
            ColourAt {
                what: "centre",
                x: 640,
                y: 360,
                rgb: RED,
            },
            ColourAt {
                what: "corner",
                x: 100,
                y: 100,
                rgb: RED,
            },
        ];
        if let Err(e) = check_colours(&f, &pts) {
            panic!("at {t:.1} s (stranger from {stranger_at:.1} s): {e}");
        }
        checked += 1;
        t += 0.5;
    }
    assert!(checked >= 6, "only {checked} sample points");
}

/// The WHEP proxy process: its two ports and its request log.
struct Proxy {
    child: Child,
    a: u16,
    lines: std::sync::mpsc::Receiver<serde_json::Value>,
    seen: Vec<serde_json::Value>,
}

impl Proxy {
    fn start(upstream: &str, other_host: &str) -> Proxy {
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/whep_origin_proxy.py");
        let mut child = Command::new("python3")
            .args([script, upstream, other_host])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("python3");
        let out = BufReader::new(child.stdout.take().expect("stdout"));
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str(&line) {
                    let _ = tx.send(v);
                }
            }
        });
        let ports: serde_json::Value = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the proxy's ports line");
        let a = ports["a"].as_u64().expect("port a") as u16;
        Proxy {
            child,
            a,
            lines: rx,
            seen: Vec::new(),
        }
    }

    /// Waits up to `limit` for a logged request matching `f`.
    fn wait(&mut self, limit: Duration, f: impl Fn(&serde_json::Value) -> bool) -> bool {
        let deadline = Instant::now() + limit;
        loop {
            if self.seen.iter().any(&f) {
                return true;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(v) => self.seen.push(v),
                Err(_) => return false,
            }
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whep_session_url_on_another_origin_gets_no_token() {
    const TOKEN: &str = "whep-secret-0123456789";
    let server = rtc::whep_server::start("127.0.0.1:0".parse().unwrap(), false).await;
    let mut proxy = Proxy::start(&server.url(), "127.0.0.2");
    let (d, _) = rtc::daemon_with_whip();
    let mut c = d.client().await;
    let id = "ingress-whep-origin";
    let mut src = rtc::source("Whep1", VideoCodec::Vp8, SourceTransport::Whep as i32);
    src.whep = Some(WhepSource {
        url: format!("http://127.0.0.1:{}/whep", proxy.a),
        bearer_token: TOKEN.into(),
    });
    c.create_cloud_mixer(rtc::create_request(id, src))
        .await
        .expect("Create");
    rtc::wait_stats(&mut c, id, Duration::from_secs(20), "pictures", |s| {
        s.video_frames_decoded >= 15
    })
    .await;
    // Destroy ends the session: DELETE on the session URL, on origin B.
    rpc::destroy(&mut c, id).await;
    let bearer = format!("Bearer {TOKEN}");
    assert!(
        proxy.wait(Duration::from_secs(1), |v| v["origin"] == "A"
            && v["method"] == "POST"
            && v["authorization"] == bearer.as_str()),
        "the configured origin got the token: {:?}",
        proxy.seen
    );
    assert!(
        proxy.wait(Duration::from_secs(10), |v| v["origin"] == "B"
            && v["method"] == "DELETE"
            && v["path"] == "/session/1"),
        "the session's DELETE reached the other origin: {:?}",
        proxy.seen
    );
    let leaked: Vec<_> = proxy
        .seen
        .iter()
        .filter(|v| v["origin"] == "B" && !v["authorization"].is_null())
        .collect();
    assert!(
        leaked.is_empty(),
        "token sent to another origin: {leaked:?}"
    );
    assert!(!d.log().contains(TOKEN), "the token is in the daemon's log");
    server.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn whep_urls_the_allow_list_refuses_fail_create() {
    // The default list (public addresses only), not the tests' loopback one.
    let d = Daemon::start_with_env(8, &[], &[("CLOUDMIXER_WHEP_ALLOW", "public")]);
    let mut c = d.client().await;
    for (url, kind) in [
        ("http://127.0.0.1:9/whep", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("https://[::1]:8443/whep", "loopback"),
        ("http://10.0.0.1/whep", "private"),
    ] {
        let mut src = rtc::source("Whep1", VideoCodec::Vp8, SourceTransport::Whep as i32);
        src.whep = Some(WhepSource {
            url: url.into(),
            bearer_token: String::new(),
        });
        let e = c
            .create_cloud_mixer(rtc::create_request("ingress-allow", src))
            .await
            .expect_err(url);
        assert_eq!(e.code(), tonic::Code::InvalidArgument, "{url}: {e:?}");
        let m = e.message();
        assert!(m.contains("sources[0].whep.url"), "{url}: {m}");
        assert!(m.contains(kind) && m.contains("--whep-allow"), "{url}: {m}");
    }
}

/// Reads from `s` until the peer closes (EOF or reset) or `limit` passes; the bytes
/// read and, if closed, after how long.
fn until_closed(s: &mut TcpStream, limit: Duration) -> (Vec<u8>, Option<Duration>) {
    let t0 = Instant::now();
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let left = limit.saturating_sub(t0.elapsed());
        if left.is_zero() {
            return (got, None);
        }
        s.set_read_timeout(Some(left)).expect("read timeout");
        match s.read(&mut buf) {
            Ok(0) => return (got, Some(t0.elapsed())),
            Ok(n) => got.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return (got, None)
            }
            Err(_) => return (got, Some(t0.elapsed())),
        }
    }
}

fn whip_daemon(extra: &[&str]) -> (Daemon, SocketAddr) {
    let mut args: Vec<String> = vec!["--whip-listen".into(), "127.0.0.1:0".into()];
    args.extend(extra.iter().map(|s| s.to_string()));
    let d = Daemon::start_with_args(8, &args);
    let whip = d.whip.expect("WHIP address");
    (d, whip)
}

#[test]
fn silent_slow_and_idle_whip_connections_are_closed() {
    let (_d, whip) = whip_daemon(&[
        "--whip-header-timeout-secs",
        "1",
        "--whip-idle-timeout-secs",
        "2",
    ]);
    // Slack for a loaded machine; the connections must not outlive it.
    let slack = Duration::from_millis(1500);

    // Nothing sent.
    let mut silent = TcpStream::connect(whip).expect("connect");
    // Half a request head, never finished (slowloris).
    let mut slow = TcpStream::connect(whip).expect("connect");
    slow.write_all(b"POST /whip/x HTTP/1.1\r\nHost: mixer\r\nContent-Ty")
        .expect("write");
    let (_, closed) = until_closed(&mut slow, Duration::from_secs(1) + slack);
    let closed = closed.expect("a partial request head closes within the header timeout");
    assert!(
        closed >= Duration::from_millis(800),
        "closed after {closed:?}"
    );
    let (_, closed) = until_closed(&mut silent, Duration::from_secs(2) + slack);
    closed.expect("a silent connection is closed within the idle timeout");

    // A keep-alive connection: one complete request (a CORS preflight), answered, then
    // nothing: waiting for the next request head, it is closed by the header timeout
    // (1 s; hyper starts it whenever it waits for a head), and in any case within the
    // idle timeout (2 s).
    let mut idle = TcpStream::connect(whip).expect("connect");
    idle.write_all(b"OPTIONS /whip/x HTTP/1.1\r\nHost: mixer\r\n\r\n")
        .expect("write");
    idle.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 1024];
    let n = idle.read(&mut buf).expect("the preflight's answer");
    assert!(
        buf[..n].starts_with(b"HTTP/1.1 204"),
        "{:?}",
        String::from_utf8_lossy(&buf[..n])
    );
    let answered = Instant::now();
    let (more, closed) = until_closed(&mut idle, Duration::from_secs(2) + slack);
    assert!(more.is_empty(), "{:?}", String::from_utf8_lossy(&more));
    let after = answered.elapsed();
    closed.expect("an idle keep-alive connection is closed");
    assert!(
        after >= Duration::from_millis(800),
        "closed after {after:?}"
    );
}

#[test]
fn a_whip_connection_over_the_cap_gets_503() {
    let (_d, whip) = whip_daemon(&["--max-whip-connections", "2"]);
    let held: Vec<TcpStream> = (0..2)
        .map(|_| TcpStream::connect(whip).expect("connect"))
        .collect();
    // Both are served: a preflight on the first is answered.
    let mut first = held[0].try_clone().expect("clone");
    first
        .write_all(b"OPTIONS /whip/x HTTP/1.1\r\nHost: mixer\r\n\r\n")
        .expect("write");
    first
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let mut buf = [0u8; 256];
    let n = first.read(&mut buf).expect("answer");
    assert!(buf[..n].starts_with(b"HTTP/1.1 204"));
    let mut third = TcpStream::connect(whip).expect("connect");
    let (got, closed) = until_closed(&mut third, Duration::from_secs(5));
    let text = String::from_utf8_lossy(&got);
    assert!(text.starts_with("HTTP/1.1 503"), "{text:?}");
    closed.expect("closed after the 503");
    drop(held);
    // Capacity comes back: a new connection is served (bounded retries while the
    // daemon notices the closes).
    let ok = common::wait_for(Duration::from_secs(5), Duration::from_millis(100), || {
        let mut s = TcpStream::connect(whip).ok()?;
        s.write_all(b"OPTIONS /whip/x HTTP/1.1\r\nHost: mixer\r\n\r\n")
            .ok()?;
        s.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
        let n = s.read(&mut buf).ok()?;
        buf[..n].starts_with(b"HTTP/1.1 204").then_some(())
    });
    assert!(ok.is_some(), "no connection served after the others closed");
}

/// `curl` (trusting `ca`) `method url` to the daemon's WHIP port, which "localhost"
/// resolves to; its stdout is the HTTP status code ("000" when no answer came).
fn curl_whip(whip: SocketAddr, ca: &std::path::Path, url: &str) -> std::process::Output {
    let resolve = format!("localhost:{}:127.0.0.1", whip.port());
    common::output_bounded(
        Command::new("curl")
            .args(["-sS", "-o", "/dev/null", "-w", "%{http_code}", "-m", "10"])
            .args(["--resolve", &resolve, "--cacert"])
            .arg(ca)
            .args(["-X", "OPTIONS", url]),
        Duration::from_secs(20),
    )
}

/// WHIP over https (`--whip-tls-cert/--whip-tls-key`): the WHIP URL handed out is
/// https, curl trusting the certificate gets the server's answer, and plain HTTP to
/// the same port gets none.
#[tokio::test]
async fn whip_over_tls_hands_out_https_and_serves_only_tls() {
    let dir = tempfile::tempdir().expect("temp dir");
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).expect("cert");
    let (cert, key) = (dir.path().join("whip.pem"), dir.path().join("whip.key"));
    std::fs::write(&cert, ck.cert.pem()).expect("write cert");
    std::fs::write(&key, ck.key_pair.serialize_pem()).expect("write key");
    let (cert_s, key_s) = (cert.display().to_string(), key.display().to_string());
    let (d, whip) = whip_daemon(&["--whip-tls-cert", &cert_s, "--whip-tls-key", &key_s]);

    let mut c = d.client().await;
    let created = c
        .create_cloud_mixer(rtc::create_request(
            "whip-tls",
            rtc::source("Web1", VideoCodec::Vp8, SourceTransport::Whip as i32),
        ))
        .await
        .expect("Create")
        .into_inner();
    let url = &created.source_ports[0].whip_url;
    let prefix = format!("https://127.0.0.1:{}/whip/", whip.port());
    assert!(url.starts_with(&prefix), "{url}");

    let path = url.trim_start_matches(&format!("https://127.0.0.1:{}", whip.port()));
    let https = curl_whip(
        whip,
        &cert,
        &format!("https://localhost:{}{path}", whip.port()),
    );
    let code = String::from_utf8_lossy(&https.stdout).into_owned();
    assert!(
        https.status.success() && code.len() == 3 && code != "000",
        "https: {code} {}",
        String::from_utf8_lossy(&https.stderr)
    );
    let plain = curl_whip(
        whip,
        &cert,
        &format!("http://localhost:{}{path}", whip.port()),
    );
    let plain_code = String::from_utf8_lossy(&plain.stdout).into_owned();
    assert!(
        !plain.status.success() && plain_code == "000",
        "plain HTTP to the TLS port answered {plain_code}"
    );
    eprintln!("WHIP over TLS: OPTIONS answered {code}; plain HTTP got no answer");
}
