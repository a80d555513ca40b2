//! A real RTMP server for the live-output tests: Debian's nginx with the RTMP module
//! (scripts/install-live-test-deps.sh), started in the foreground on loopback with a
//! generated config (application `live`, live on, nothing recorded), and stopped or
//! restarted by the test. Streams are read back with the ffmpeg CLI.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use super::{output_bounded, wait_for};

/// Debian's RTMP module.
const MODULE: &str = "/usr/lib/nginx/modules/ngx_rtmp_module.so";

/// A running nginx RTMP server; killed on drop.
pub struct RtmpServer {
    child: Option<Child>,
    dir: PathBuf,
    pub addr: SocketAddr,
}

impl RtmpServer {
    /// Starts nginx listening on 127.0.0.1:`port`, its files in `dir`.
    pub fn start(dir: &Path, port: u16) -> RtmpServer {
        assert!(
            Path::new(MODULE).is_file() && Path::new("/usr/sbin/nginx").is_file(),
            "nginx with the RTMP module is not installed: run scripts/install-live-test-deps.sh"
        );
        std::fs::create_dir_all(dir).expect("nginx dir");
        let conf = format!(
            "load_module {MODULE};\n\
             daemon off;\nmaster_process off;\nworker_processes 1;\n\
             pid {dir}/nginx.pid;\nerror_log {dir}/error.log info;\n\
             events {{ worker_connections 64; }}\n\
             rtmp {{ server {{ listen 127.0.0.1:{port}; chunk_size 4096;\n\
               application live {{ live on; record off; }} }} }}\n",
            dir = dir.display()
        );
        std::fs::write(dir.join("nginx.conf"), conf).expect("nginx.conf");
        let mut s = RtmpServer {
            child: None,
            dir: dir.to_owned(),
            addr: format!("127.0.0.1:{port}").parse().unwrap(),
        };
        s.restart();
        s
    }

    /// Starts nginx again after [`Self::stop`] (same port and config).
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "nginx is running");
        let child = Command::new("/usr/sbin/nginx")
            .arg("-p")
            .arg(&self.dir)
            .arg("-c")
            .arg(self.dir.join("nginx.conf"))
            .arg("-e")
            .arg(self.dir.join("error.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx");
        self.child = Some(child);
        let addr = self.addr;
        let up = wait_for(Duration::from_secs(20), Duration::from_millis(50), || {
            TcpStream::connect(addr).ok()
        });
        assert!(
            up.is_some(),
            "nginx did not listen on {addr}: {}",
            self.log()
        );
    }

    /// Kills nginx (every connection drops at once, as when a server dies).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// `rtmp://ADDR/live/<key>`.
    pub fn url(&self, key: &str) -> String {
        format!("rtmp://{}/live/{key}", self.addr)
    }

    /// nginx's error log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }

    /// Reads `seconds` of stream `key` back from nginx into `out` (FLV, stream copy),
    /// with the ffmpeg CLI; panics if nothing comes within 30 s.
    pub fn pull(&self, key: &str, seconds: u32, out: &Path) {
        let mut cmd = Command::new("ffmpeg");
        cmd.args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"])
            .args(["-rw_timeout", "10000000", "-i"])
            .arg(self.url(key))
            .args(["-t", &seconds.to_string(), "-c", "copy", "-f", "flv"])
            .arg(out);
        let o = output_bounded(&mut cmd, Duration::from_secs(30));
        assert!(
            o.status.success() && out.metadata().map_or(0, |m| m.len()) > 0,
            "pulling {key} from nginx: {}\nnginx: {}",
            String::from_utf8_lossy(&o.stderr),
            self.log()
        );
    }
}

impl Drop for RtmpServer {
    fn drop(&mut self) {
        self.stop();
    }
}
