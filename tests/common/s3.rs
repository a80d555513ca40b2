//! A real S3-compatible server for the storage tests: `s3s-fs` (crates.io, the s3s
//! project's file-system store; installed by scripts/install-storage-test-deps.sh),
//! a separate process speaking the S3 HTTP protocol and checking SigV4 signatures
//! (header and presigned-URL forms) against the access key it was started with. Its
//! objects are plain files under its root, `<root>/<bucket>/<key>`, so a test can read
//! them back byte for byte.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::wait_for;

/// Access key and secret the server checks signatures with.
pub const ACCESS_KEY: &str = "cloudmixer-test";
pub const SECRET_KEY: &str = "cloudmixer-test-secret-0123456789";
/// The bucket every test uses.
pub const BUCKET: &str = "recordings";

/// A running `s3s-fs`; killed when dropped.
pub struct S3Server {
    child: Child,
    pub addr: SocketAddr,
    root: PathBuf,
}

/// The `s3s-fs` binary: on PATH or in ~/.cargo/bin. Panics when missing (the test
/// scripts install it; a missing server is a failure, never a skip).
pub fn binary() -> PathBuf {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([home.join(".cargo/bin")])
        .map(|d| d.join("s3s-fs"))
        .find(|p| p.is_file())
        .expect("s3s-fs not installed: run scripts/install-storage-test-deps.sh")
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
pub fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl S3Server {
    /// Starts a server on `port` storing under `root` (the bucket directory is
    /// created), and waits until it accepts connections.
    pub fn start(root: &Path, port: u16) -> S3Server {
        std::fs::create_dir_all(root.join(BUCKET)).expect("bucket dir");
        let log = std::fs::File::create(root.with_extension("log")).expect("s3 log");
        let child = Command::new(binary())
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
            .arg(root)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start s3s-fs");
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let up = wait_for(Duration::from_secs(20), Duration::from_millis(50), || {
            TcpStream::connect(addr).ok()
        });
        assert!(up.is_some(), "s3s-fs did not listen on {addr}");
        S3Server {
            child,
            addr,
            root: root.to_owned(),
        }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The file holding object `key` of [`BUCKET`].
    pub fn object_file(&self, key: &str) -> PathBuf {
        self.root.join(BUCKET).join(key)
    }

    /// Every object key of [`BUCKET`] (files under its directory, relative, sorted),
    /// leaving out s3s-fs's own bookkeeping (names starting with `.`).
    pub fn keys(&self) -> Vec<String> {
        fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let p = e.path();
                let name = e.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') {
                    continue;
                }
                if p.is_dir() {
                    walk(base, &p, out);
                } else {
                    out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
                }
            }
        }
        let mut out = Vec::new();
        let base = self.root.join(BUCKET);
        walk(&base, &base, &mut out);
        out.sort();
        out
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
