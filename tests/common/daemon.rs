//! The daemon under test: `cloudmixer serve --listen 127.0.0.1:0` (it picks its gRPC
//! port and prints it), a temporary recordings root and an RTP port range of its own, so
//! that tests can run in parallel.

use std::fs::File;
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use cloudmixer::proto::cloud_mixer_client::CloudMixerClient;
use tonic::transport::Channel;

use super::wait_for;

/// How long the daemon may take to start listening (a debug build under load is slow).
const LISTEN_TIMEOUT: Duration = Duration::from_secs(30);
/// Ports per daemon when the test does not ask for a particular range.
pub const DEFAULT_RTP_PORTS: u16 = 64;

/// A running `cloudmixer serve`; killed (SIGKILL) and reaped when dropped. Its log is
/// printed if the test is panicking, so a failure shows what the daemon said.
pub struct Daemon {
    child: Child,
    /// gRPC port on 127.0.0.1, as the daemon reported it.
    pub port: u16,
    /// The WHIP listener's address, as the daemon reported it (`--whip-listen` given).
    pub whip: Option<SocketAddr>,
    /// The metrics/health HTTP listener's address, as the daemon reported it
    /// (`http listening on HOST:PORT`, with `--http-listen`).
    pub http: Option<SocketAddr>,
    /// First and last UDP port the daemon may allocate.
    pub rtp_ports: (u16, u16),
    /// Holds the recordings root and the log; removed on drop.
    dir: tempfile::TempDir,
    /// The extra flags and environment it was started with (for [`Daemon::crash_and_restart`]).
    extra: Vec<String>,
    env: Vec<(String, String)>,
}

impl Daemon {
    /// Starts a daemon with [`DEFAULT_RTP_PORTS`] UDP ports and waits until it listens.
    pub fn start() -> Daemon {
        Self::start_with_rtp_ports(DEFAULT_RTP_PORTS)
    }

    /// Starts a daemon allowed `n_ports` UDP ports (even count: RTP/RTCP pairs).
    pub fn start_with_rtp_ports(n_ports: u16) -> Daemon {
        Self::start_with_args(n_ports, &[])
    }

    /// [`Self::start_with_rtp_ports`] with extra `serve` flags (e.g. `--whip-listen`).
    pub fn start_with_args(n_ports: u16, extra: &[String]) -> Daemon {
        Self::start_with_env(n_ports, extra, &[])
    }

    /// [`Self::start_with_args`] with extra environment variables.
    pub fn start_with_env(n_ports: u16, extra: &[String], env: &[(&str, &str)]) -> Daemon {
        let dir = tempfile::tempdir().expect("create a temp dir for the daemon");
        let recordings = dir.path().join("recordings");
        std::fs::create_dir_all(&recordings).expect("create recordings root");
        let (first, last) = free_udp_range(n_ports);
        let extra = extra.to_vec();
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let child = spawn(dir.path(), (first, last), &extra, &env);
        let mut d = Daemon {
            child,
            port: 0,
            whip: None,
            http: None,
            rtp_ports: (first, last),
            dir,
            extra,
            env,
        };
        d.wait_listening();
        d
    }

    /// Kills the daemon (SIGKILL: no shutdown, files left as they are) and starts it
    /// again with the same flags, recordings root and RTP ports; the previous log moves
    /// to `daemon.N.log`. Waits until it listens again (new gRPC port).
    pub fn crash_and_restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let logs = self.dir.path();
        let n = (1..).find(|n| !logs.join(format!("daemon.{n}.log")).exists());
        let old = logs.join(format!("daemon.{}.log", n.unwrap_or(0)));
        std::fs::rename(logs.join("daemon.log"), old).expect("keep the old log");
        self.child = spawn(logs, self.rtp_ports, &self.extra, &self.env);
        self.wait_listening();
    }

    /// Waits for the daemon's `listening on HOST:PORT` line (stdout, which goes to the
    /// log) and takes its ports from it and from `whip listening on HOST:PORT`.
    fn wait_listening(&mut self) {
        let log_path = self.dir.path().join("daemon.log");
        let child = &mut self.child;
        let ok = wait_for(LISTEN_TIMEOUT, Duration::from_millis(50), || {
            let log = std::fs::read_to_string(&log_path).unwrap_or_default();
            if let Some(found) = reported_addrs(&log) {
                return Some(Ok(found));
            }
            if let Ok(Some(status)) = child.try_wait() {
                return Some(Err(status));
            }
            None
        });
        match ok {
            Some(Ok((grpc, whip))) => {
                // Loopback, or every interface (reached through loopback).
                let ip = grpc.ip();
                assert!(
                    ip.is_loopback() || ip.is_unspecified(),
                    "gRPC bound on {grpc}"
                );
                self.port = grpc.port();
                self.whip = whip;
                self.http = reported_http(&std::fs::read_to_string(&log_path).unwrap_or_default());
            }
            Some(Err(status)) => panic!("daemon exited early ({status}):\n{}", self.log()),
            None => panic!(
                "daemon did not report its address within {LISTEN_TIMEOUT:?}:\n{}",
                self.log()
            ),
        }
    }

    /// "http://127.0.0.1:PORT".
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// A gRPC channel to the daemon.
    pub async fn channel(&self) -> Channel {
        Channel::from_shared(self.endpoint())
            .expect("valid endpoint URI")
            .connect_timeout(Duration::from_secs(5))
            .connect()
            .await
            .expect("connect to the daemon")
    }

    /// A `cloudmixer.v1.CloudMixer` client.
    pub async fn client(&self) -> CloudMixerClient<Channel> {
        CloudMixerClient::new(self.channel().await)
    }

    /// The recordings root given to the daemon.
    pub fn recordings(&self) -> PathBuf {
        self.dir.path().join("recordings")
    }

    /// Everything the daemon wrote to stdout and stderr so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("daemon.log")).unwrap_or_default()
    }

    /// The daemon's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The daemon's resident set size, bytes (`VmRSS` of /proc/PID/status).
    pub fn rss_bytes(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("read /proc/PID/status");
        let kb: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc/PID/status");
        kb * 1024
    }

    /// true while the process is alive.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends a signal by name ("TERM", "INT", "KILL") with the `kill` command.
    pub fn signal(&self, name: &str) {
        let ok = std::process::Command::new("kill")
            .args(["-s", name, &self.child.id().to_string()])
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -s {name} failed");
    }

    /// Waits up to `limit` for the process to exit; its status, or None if still alive.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<std::process::ExitStatus> {
        super::wait_for(limit, Duration::from_millis(50), || {
            self.child.try_wait().ok().flatten()
        })
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(60).collect();
            eprintln!("---- daemon log (last {} lines) ----", tail.len());
            for l in tail.iter().rev() {
                eprintln!("{l}");
            }
        }
    }
}

/// From the daemon's output so far: the gRPC address of its `listening on HOST:PORT`
/// line and the WHIP address of `whip listening on HOST:PORT`, once the former is there.
/// Only whole lines count (the file may end in the middle of one being written).
fn reported_addrs(log: &str) -> Option<(SocketAddr, Option<SocketAddr>)> {
    let whole = &log[..log.rfind('\n')? + 1];
    let addr = |prefix: &str| {
        whole.lines().find_map(|l| {
            let a = l.strip_prefix(prefix)?.trim();
            Some(
                a.parse::<SocketAddr>()
                    .unwrap_or_else(|e| panic!("daemon reported {l:?}: {e}")),
            )
        })
    };
    Some((addr("listening on ")?, addr("whip listening on ")))
}

/// Starts `serve` in `dir` (recordings root `dir/recordings`, log `dir/daemon.log`).
fn spawn(
    dir: &Path,
    (first, last): (u16, u16),
    extra: &[String],
    env: &[(String, String)],
) -> Child {
    let log = File::create(dir.join("daemon.log")).expect("create daemon log");
    serve_command(&dir.join("recordings"), first, last)
        .args(extra)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("dup log fd"))
        .stderr(log)
        .spawn()
        .expect("start the cloudmixer binary")
}

/// The address of the daemon's `http listening on HOST:PORT` line, if any (printed
/// before `listening on`).
fn reported_http(log: &str) -> Option<SocketAddr> {
    log.lines().find_map(|l| {
        let a = l.strip_prefix("http listening on ")?.trim();
        Some(
            a.parse()
                .unwrap_or_else(|e| panic!("daemon reported {l:?}: {e}")),
        )
    })
}

/// The `serve` command line. The one place that knows the daemon's flags.
fn serve_command(recordings: &Path, first: u16, last: u16) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cloudmixer"));
    c.arg("serve")
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--recordings-dir")
        .arg(recordings)
        .arg("--rtp-ports")
        .arg(format!("{first}-{last}"))
        // Tests run several mixers at once on whatever machine runs them; admission
        // control has its own test (tests/e2e_admission.rs), which passes its budget
        // after these (a later flag overrides an earlier one).
        .arg("--cpu-budget-millicores")
        .arg("1000000")
        // WHEP test servers run on loopback, which the default --whep-allow refuses; a
        // test wanting the default passes CLOUDMIXER_WHEP_ALLOW itself (start_with_env).
        .env("CLOUDMIXER_WHEP_ALLOW", "127.0.0.0/8,::1")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1");
    c
}

/// Next candidate block; starts at a pid-dependent offset so concurrent test binaries
/// (or runs) rarely probe the same blocks.
static NEXT_BLOCK: AtomicU32 = AtomicU32::new(u32::MAX);

/// `n` consecutive UDP ports (first even) in 20000..=59999 that are all bindable now.
pub fn free_udp_range(n: u16) -> (u16, u16) {
    const LOW: u32 = 20_000;
    const BLOCK: u32 = 128;
    const BLOCKS: u32 = (60_000 - LOW) / BLOCK;
    assert!(
        n >= 2 && u32::from(n) <= BLOCK && n & 1 == 0,
        "port count {n}"
    );
    let _ = NEXT_BLOCK.compare_exchange(
        u32::MAX,
        std::process::id().wrapping_mul(7919) % BLOCKS,
        Ordering::SeqCst,
        Ordering::SeqCst,
    );
    for _ in 0..BLOCKS {
        let b = NEXT_BLOCK.fetch_add(1, Ordering::SeqCst) % BLOCKS;
        let first = u16::try_from(LOW + b * BLOCK).expect("below 60000");
        let last = first + n - 1;
        let held: Result<Vec<UdpSocket>, _> = (first..=last)
            .map(|p| UdpSocket::bind(("127.0.0.1", p)))
            .collect();
        if held.is_ok() {
            return (first, last);
        }
    }
    panic!("no block of {n} free UDP ports in 20000..60000");
}
