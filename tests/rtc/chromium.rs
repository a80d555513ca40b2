//! Headless Chromium with a fake camera and microphone, opening a page of tests/web/.
//! Flags as in a real deployment test: no sandbox (root), loopback ICE candidates
//! allowed, media permission granted; a throwaway profile; killed when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

/// A running Chromium; its stderr (console.log lines included) goes to `log`.
pub struct Chromium {
    child: Child,
    pub log: PathBuf,
    _profile: tempfile::TempDir,
}

impl Chromium {
    /// Opens `page` (a file of tests/web/) with the query string `query`.
    pub fn open(page: &str, query: &str) -> Chromium {
        let profile = tempfile::tempdir().expect("profile dir");
        let log = profile.path().join("chromium.log");
        let file = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("tests/web")
            .join(page);
        let url = format!("file://{}?{query}", file.display());
        let out = std::fs::File::create(&log).expect("log file");
        use std::os::unix::process::CommandExt;
        let child = Command::new("chromium")
            .process_group(0)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
            ])
            .args(["--no-first-run", "--disable-background-networking"])
            .args([
                "--disable-component-update",
                "--disable-sync",
                "--disable-default-apps",
            ])
            .args([
                "--disable-extensions",
                "--disable-features=MediaRouter,OptimizationHints",
            ])
            .args([
                "--use-fake-device-for-media-stream",
                "--use-fake-ui-for-media-stream",
            ])
            .args([
                "--allow-loopback-in-peer-connection",
                "--allow-file-access-from-files",
            ])
            .args([
                "--autoplay-policy=no-user-gesture-required",
                "--enable-logging=stderr",
            ])
            .arg("--v=0")
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg(url)
            .env("HOME", profile.path())
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup"))
            .stderr(out)
            .spawn()
            .expect("start chromium");
        Chromium {
            child,
            log,
            _profile: profile,
        }
    }

    /// The page's `WHIPTEST` console lines so far.
    pub fn lines(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| {
                let (_, m) = l.split_once("WHIPTEST ")?;
                // `CONSOLE(14)] "WHIPTEST POST 201", source: file:///...`
                Some(m.split('"').next().unwrap_or(m).trim().to_owned())
            })
            .collect()
    }

    /// Waits up to `limit` for a console line starting with `prefix`.
    pub fn wait_line(&self, prefix: &str, limit: std::time::Duration) -> Option<String> {
        crate::common::wait_for(limit, std::time::Duration::from_millis(100), || {
            self.lines().into_iter().find(|l| l.starts_with(prefix))
        })
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        // Chromium's own group (renderers, zygote): SIGKILL it as a whole.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
