//! A real PostgreSQL server for the shared-catalog tests: Debian's `postgresql`
//! package (installed by scripts/install-deps.sh), a cluster of its own made by
//! `initdb` in a temporary directory and started by `pg_ctl` on a free port of
//! 127.0.0.1, as the `postgres` user when the tests run as root (PostgreSQL refuses
//! root). Stopped (`pg_ctl stop -m immediate`) when dropped.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::s3::free_tcp_port;
use super::{output_bounded, run_bounded};

/// Bound of initdb, start and stop.
const LIMIT: Duration = Duration::from_secs(60);

/// A running PostgreSQL cluster.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    pub port: u16,
}

/// The newest `/usr/lib/postgresql/<version>/bin`. Panics when PostgreSQL is missing
/// (the test scripts install it; missing is a failure, never a skip).
fn bin_dir() -> PathBuf {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL not installed (/usr/lib/postgresql): run scripts/install-deps.sh")
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_string_lossy().parse().ok()?;
            Some((v, e.path().join("bin")))
        })
        .filter(|(_, p)| p.join("pg_ctl").is_file())
        .collect();
    versions.sort();
    versions.pop().expect("no PostgreSQL server binaries").1
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// `program args...` as the postgres user when root, else as ourselves.
fn as_postgres(program: &Path) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

impl Postgres {
    /// initdb + start; waits until it accepts connections.
    pub fn start() -> Postgres {
        let bin = bin_dir();
        let dir = tempfile::Builder::new()
            .prefix("cloudmixer-pg")
            .tempdir()
            .expect("temp dir");
        if is_root() {
            let ok = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(dir.path())
                .status()
                .expect("chown");
            assert!(ok.success(), "chown the cluster dir to postgres");
        }
        let data = dir.path().join("data");
        let out = run_bounded(
            as_postgres(&bin.join("initdb"))
                .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "-D"])
                .arg(&data),
            LIMIT,
        );
        assert!(
            data.join("PG_VERSION").exists(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out)
        );
        let port = free_tcp_port();
        let opts = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            dir.path().display()
        );
        let out = run_bounded(
            as_postgres(&bin.join("pg_ctl"))
                .args(["-w", "-t", "30", "-D"])
                .arg(&data)
                .arg("-l")
                .arg(dir.path().join("server.log"))
                .args(["-o", &opts, "start"]),
            LIMIT,
        );
        let pg = Postgres { dir, bin, port };
        assert!(
            pg.ready(),
            "PostgreSQL did not start: {}\n{}",
            String::from_utf8_lossy(&out),
            std::fs::read_to_string(pg.dir.path().join("server.log")).unwrap_or_default()
        );
        pg
    }

    fn ready(&self) -> bool {
        Command::new(self.bin.join("pg_isready"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .stdout(std::process::Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
    }

    /// The `--catalog` URL of its `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = output_bounded(
            as_postgres(&self.bin.join("pg_ctl"))
                .args(["-m", "immediate", "-D"])
                .arg(self.dir.path().join("data"))
                .arg("stop"),
            LIMIT,
        );
    }
}
