//! Helpers shared by the end-to-end tests: the daemon under test ([`daemon`]), ffmpeg RTP
//! publishers ([`sender`]) and checks of an output file's content ([`media`]).
//!
//! The ffmpeg/ffprobe command-line tools are used here only, never by the daemon.
//! Every child process is bounded: killed when its handle drops, and every wait loop
//! has a deadline.
#![allow(dead_code)]

pub mod catalog;
pub mod daemon;
pub mod decodable;
pub mod http;
pub mod lossy_relay;
pub mod media;
pub mod outputs;
pub mod postgres;
pub mod rpc;
pub mod rtmp;
pub mod s3;
pub mod sender;
pub mod spec;
pub mod sync_pattern;
pub mod sync_run;
pub mod webhook_sink;

use std::time::{Duration, Instant};

/// Polls `f` every `step` until it returns `Some` or `limit` passes.
pub fn wait_for<T>(limit: Duration, step: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(step);
    }
}

/// Runs the `cloudmixer` binary under test with `args` (at most 30 s) and returns its
/// status, stdout and stderr, whatever the status.
pub fn cloudmixer_cli(args: &[&str]) -> std::process::Output {
    output_bounded(
        std::process::Command::new(env!("CARGO_BIN_EXE_cloudmixer")).args(args),
        Duration::from_secs(30),
    )
}

/// Runs a command to completion with a time limit; returns its stdout.
/// Panics with stderr if it fails, cannot start or overruns (then it is killed).
pub fn run_bounded(cmd: &mut std::process::Command, limit: Duration) -> Vec<u8> {
    let desc = format!("{cmd:?}");
    let out = output_bounded(cmd, limit);
    assert!(
        out.status.success(),
        "{desc} failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Runs a command to completion with a time limit (stdin closed) and returns its exit
/// status, stdout and stderr, whatever the status. Panics if it cannot start or overruns
/// (then it is killed).
pub fn output_bounded(cmd: &mut std::process::Command, limit: Duration) -> std::process::Output {
    use std::io::Read;
    use std::process::Stdio;
    let desc = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {desc}: {e}"));
    // Drain both pipes on threads so a chatty child never blocks on a full pipe.
    let mut out = child.stdout.take().expect("stdout was piped above");
    let mut err = child.stderr.take().expect("stderr was piped above");
    let out_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_t = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let status = wait_for(limit, Duration::from_millis(20), || {
        child.try_wait().expect("try_wait on a child we own")
    });
    let Some(status) = status else {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{desc} did not finish within {limit:?}");
    };
    std::process::Output {
        status,
        stdout: out_t.join().expect("stdout reader thread"),
        stderr: err_t.join().expect("stderr reader thread"),
    }
}
