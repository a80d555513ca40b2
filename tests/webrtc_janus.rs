//! Behind a real SFU: two publishers, headless Chromium and a GStreamer webrtcbin client
//! (tests/janus/janus_publish_gst.py), join a Janus 1.1 VideoRoom; Janus `rtp_forward`s
//! each to its own mixer source's plain-RTP ports with that source's video RTCP port
//! (`rtcp_port`), so the mixer's PLI/FIR reach Janus over the forwarder's RTCP socket and
//! Janus asks the publisher for a keyframe. The room has `fir_freq` 0 (Janus sends no
//! periodic keyframe requests of its own), forwarding starts seconds after the publishers'
//! first keyframes, and neither publisher sends another one unasked within the test, so
//! the mixer can only decode once its own PLI went through Janus: the test asserts, per
//! source, keyframe requests sent, RTCP received from Janus and pictures and audio
//! decoded, and that the MP4 composites both side by side: each half live (moving, not
//! black, not the placeholder), the GStreamer half its grey test pattern. VP8 and H.264.
//!
//! Janus (and libnice, in Janus and in webrtcbin) ignore loopback interfaces, so each run
//! re-executes this test binary inside a private network namespace (`unshare --net`) with
//! a veth carrying 127.0.0.2, as root. When not root or when janus/chromium/unshare/
//! GStreamer's webrtcbin are missing (scripts/install-webrtc-test-deps.sh installs them):
//! fails under CI (the `CI` environment variable set), else skips with a SKIP line on
//! stderr.

mod common;
mod rtc;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cloudmixer::proto::{
    cloud_mixer_client::CloudMixerClient, DestroyCloudMixerRequest, GetCloudMixerRequest,
    LayoutRegion, RegionParam, RtpAudio, RtpVideo, SourceConfig, SourcePorts, SourceStats,
    VideoCodec,
};
use common::media::{self, Frame};
use rtc::chromium::Chromium;
use rtc::janus::{self, Janus};
use serde_json::json;
use tonic::transport::Channel;

const ROOM: u64 = 1234;

/// Sets up lo + a veth with 127.0.0.2 in the new namespace, then runs the arguments.
const NETNS_SETUP: &str = "ip link set lo up && ip link add cmxa type veth peer name cmxb && \
    sysctl -qw net.ipv6.conf.cmxa.disable_ipv6=1 net.ipv6.conf.cmxb.disable_ipv6=1 && \
    ip addr add 127.0.0.2/32 dev cmxa && ip link set cmxb up && ip link set cmxa up || exit 99; \
    exec \"$@\"";

/// Runs the ignored test `inner` of this binary in a private network namespace.
fn in_netns(inner: &str) {
    let mut missing = rtc::missing_programs(&["janus", "chromium", "unshare", "ip"]);
    if !rtc::is_root() {
        missing.insert(0, "not root (a private network namespace for Janus)".into());
    }
    if !GstPublisher::available() {
        missing.push("GStreamer webrtcbin for /usr/bin/python3 not installed".into());
    }
    if !rtc::can_run(inner, &missing) {
        return;
    }
    let exe = std::env::current_exe().expect("test binary path");
    let out = Command::new("timeout")
        .args(["--kill-after=5", "150", "unshare", "--net", "--fork", "--"])
        .args(["sh", "-c", NETNS_SETUP, "netns"])
        .arg(exe)
        .args([
            "--ignored",
            "--exact",
            inner,
            "--nocapture",
            "--test-threads=1",
        ])
        .output()
        .expect("run unshare");
    // Captured, so the inner run's own "test result:" line does not count twice.
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(
        out.status.success(),
        "{inner} in a private netns: {}\n{stdout}\n{stderr}",
        out.status
    );
    for l in stderr.lines().filter(|l| l.starts_with("janus ")) {
        eprintln!("{l}");
    }
}

/// The GStreamer publisher script (tests/janus/janus_publish_gst.py) run by Debian's
/// Python (python3-gi); its output goes to `log`. TERMed when dropped.
struct GstPublisher {
    child: Child,
    log: PathBuf,
}

impl GstPublisher {
    const PYTHON: &'static str = "/usr/bin/python3";

    /// True if `PYTHON` can load GStreamer's webrtcbin bindings and element.
    fn available() -> bool {
        Command::new(Self::PYTHON)
            .args([
                "-c",
                "import gi; gi.require_version('Gst', '1.0'); \
                 gi.require_version('GstWebRTC', '1.0'); \
                 from gi.repository import Gst, GstWebRTC; Gst.init(None); \
                 assert Gst.ElementFactory.find('webrtcbin') and Gst.ElementFactory.find('nicesrc')",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Joins `room` as publisher `display`, sending `codec` ("vp8"/"h264") and Opus;
    /// bounded to 120 s.
    fn start(dir: &Path, room: u64, display: &str, codec: &str) -> GstPublisher {
        let script =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/janus/janus_publish_gst.py");
        let log = dir.join(format!("{display}.log"));
        let out = std::fs::File::create(&log).expect("log file");
        let child = Command::new("timeout")
            .args(["--kill-after=5", "120", Self::PYTHON])
            .arg(script)
            .args(["--server", janus::API, "--room", &room.to_string()])
            .args(["--display", display, "--codec", codec, "--duration", "110"])
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup"))
            .stderr(out)
            .spawn()
            .expect("start janus_publish_gst.py");
        GstPublisher { child, log }
    }

    /// The script's output so far.
    fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// Waits up to `limit` for a progress line `JANUSGST <what>`.
    fn wait_line(&self, what: &str, limit: Duration) -> bool {
        let line = format!("JANUSGST {what}");
        common::wait_for(limit, Duration::from_millis(100), || {
            self.output()
                .lines()
                .any(|l| l.starts_with(&line))
                .then_some(())
        })
        .is_some()
    }
}

impl Drop for GstPublisher {
    fn drop(&mut self) {
        // TERM to `timeout`, which passes it on (and KILLs 5 s later if need be).
        let _ = Command::new("kill")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// A video+Opus RTP source of the mixer.
fn rtp_source(camid: &str, codec: VideoCodec, pt: u32) -> SourceConfig {
    SourceConfig {
        content_type: 0,
        host: false,
        camid: camid.into(),
        video: Some(RtpVideo {
            codec: codec as i32,
            payload_type: pt,
            ssrc: None,
        }),
        audio: Some(RtpAudio {
            codec: 1,
            payload_type: 111,
            ssrc: None,
        }),
        ..Default::default()
    }
}

/// The stats of source `camid`.
async fn source_stats(c: &mut CloudMixerClient<Channel>, id: &str, camid: &str) -> SourceStats {
    let info = c
        .get_cloud_mixer(GetCloudMixerRequest {
            mixer_id: id.into(),
        })
        .await
        .expect("GetCloudMixer")
        .into_inner();
    info.sources
        .into_iter()
        .find(|s| s.camid == camid)
        .unwrap_or_else(|| panic!("no source {camid}"))
}

/// Forwards publisher `display`'s streams (seen through a new observer session) to
/// `ports`, with the video RTCP port for feedback; SSRCs `ssrc_base + 1`/`+ 2`.
fn forward(display: &str, ports: &SourcePorts, pt: u32, ssrc_base: u32) {
    let (s, h) = janus::videoroom();
    let p = janus::wait_publisher(s, h, ROOM, display, Duration::from_secs(20));
    let streams: Vec<_> = p["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .filter_map(|st| match st["type"].as_str() {
            Some("audio") => Some(json!({"mid": st["mid"], "port": ports.audio_rtp_port,
                                          "pt": 111, "ssrc": ssrc_base + 1})),
            Some("video") => Some(json!({"mid": st["mid"], "port": ports.video_rtp_port,
                                          "pt": pt, "ssrc": ssrc_base + 2,
                                          "rtcp_port": ports.video_rtcp_port})),
            _ => None,
        })
        .collect();
    assert_eq!(streams.len(), 2, "{display}: {p}");
    let fwd = janus::request(
        s,
        h,
        json!({"request": "rtp_forward", "room": ROOM, "publisher_id": p["id"],
               "host": "127.0.0.1", "host_family": "ipv4", "streams": streams}),
    );
    assert_eq!(fwd["videoroom"], "rtp_forward", "{display}: {fwd}");
}

/// The columns `x0..x0 + w` of `f`.
fn columns(f: &Frame, x0: u32, w: u32) -> Frame {
    let mut rgb = Vec::with_capacity((w * f.height * 3) as usize);
    for y in 0..f.height {
        let row = ((y * f.width + x0) * 3) as usize;
        rgb.extend_from_slice(&f.rgb[row..row + (w * 3) as usize]);
    }
    Frame {
        width: w,
        height: f.height,
        rgb,
    }
}

/// Fraction of pixels within 40 per channel of `c`.
fn share_near(f: &Frame, c: [u8; 3]) -> f64 {
    let n = f
        .rgb
        .chunks(3)
        .filter(|p| p.iter().zip(c).all(|(v, e)| v.abs_diff(e) <= 40))
        .count();
    n as f64 / (f.rgb.len() / 3) as f64
}

/// Asserts the region of columns `x0..x0 + w` live at `t` s: not the placeholder, not
/// black, and different 0.5 s later (moving). Returns the share of its pixels that moved.
fn assert_region_live(mp4: &Path, t: f64, x0: u32, w: u32, what: &str) -> f64 {
    let a = columns(&media::frame_at(mp4, t, rtc::W, rtc::H), x0, w);
    let b = columns(&media::frame_at(mp4, t + 0.5, rtc::W, rtc::H), x0, w);
    for (f, at) in [(&a, t), (&b, t + 0.5)] {
        let share = rtc::placeholder_share(f);
        assert!(
            share < 0.5,
            "{what} at {at} s: {:.0}% placeholder",
            share * 100.0
        );
        let m = rtc::mean_level(f);
        assert!(m > 20.0, "{what} at {at} s: black (mean level {m:.1})");
    }
    let d = rtc::frame_diff(&a, &b);
    assert!(
        d > 0.002,
        "{what}: {t} s -> {} s: picture does not move ({:.2}% of pixels changed)",
        t + 0.5,
        d * 100.0
    );
    d
}

async fn janus_forward_with_rtcp(codec: VideoCodec) {
    let h264 = codec == VideoCodec::H264;
    let (name, pt) = if h264 { ("H264", 102) } else { ("VP8", 96) };
    let dir = tempfile::tempdir().expect("temp dir");
    let j = Janus::start(dir.path());
    let (s, h) = janus::videoroom();
    let created = janus::request(
        s,
        h,
        json!({"request": "create", "room": ROOM, "publishers": 4, "fir_freq": 0,
               "videocodec": name.to_lowercase(), "audiocodec": "opus", "bitrate": 1500000}),
    );
    assert_eq!(created["videoroom"], "created", "{created}");

    // Chromium on the left half, GStreamer on the right.
    let d = common::daemon::Daemon::start();
    let mut c = d.client().await;
    let id = format!("janus-{}", name.to_lowercase());
    let mut req = rtc::create_request(&id, rtp_source("Janus1", codec, pt));
    req.sources.push(rtp_source("Janus2", codec, pt));
    let half = rtc::W / 2;
    let region = |camid: &str, left: u32| LayoutRegion {
        r#type: 0,
        top: 0,
        left: left as i32,
        width: half as i32,
        height: rtc::H as i32,
        keep_aspect_ratio: false,
        z_order: None,
        placeholder_image: Vec::new(),
        param: Some(RegionParam {
            camid: camid.into(),
        }),
    };
    req.video_file_cfg.as_mut().expect("cfg").layout_config =
        vec![region("Janus1", 0), region("Janus2", half)];
    let ports = c
        .create_cloud_mixer(req)
        .await
        .expect("Create")
        .into_inner()
        .source_ports;
    let port_of = |camid: &str| {
        ports
            .iter()
            .find(|p| p.camid == camid)
            .unwrap_or_else(|| panic!("no ports for {camid}: {ports:?}"))
            .clone()
    };
    let t0 = Instant::now();

    let b = Chromium::open(
        "janus_publish.html",
        &format!("room={ROOM}&display=chromium&vcodec={name}"),
    );
    let g = GstPublisher::start(dir.path(), ROOM, "gstreamer", &name.to_lowercase());
    assert!(
        b.wait_line("answer applied", Duration::from_secs(20))
            .is_some(),
        "chromium publisher: {:?}\njanus: {}",
        b.lines(),
        j.log()
    );
    assert!(
        g.wait_line("ICE connected", Duration::from_secs(20)),
        "gstreamer publisher: {}\njanus: {}",
        g.output(),
        j.log()
    );
    // The publishers' first keyframes are long gone when forwarding starts (the test's
    // premise, not a wait for a condition).
    tokio::time::sleep(Duration::from_secs(3)).await;
    forward("chromium", &port_of("Janus1"), pt, 1000);
    forward("gstreamer", &port_of("Janus2"), pt, 3000);
    let mut st = Vec::new();
    for (camid, who) in [("Janus1", "chromium"), ("Janus2", "gstreamer")] {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let s = source_stats(&mut c, &id, camid).await;
            if s.video_frames_decoded >= 30 && s.audio_frames_decoded >= 50 {
                st.push(s);
                break;
            }
            assert!(
                Instant::now() < deadline,
                "pictures of {who} via Janus: not within 30 s; stats {s:?}\n{}",
                if who == "gstreamer" {
                    g.output()
                } else {
                    format!("{:?}", b.lines())
                }
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let live = t0.elapsed().as_secs_f64();
    for (s, who) in st.iter().zip(["chromium", "gstreamer"]) {
        assert!(s.keyframe_requests >= 1, "{who}: no PLI/FIR sent: {s:?}");
        assert!(
            s.rtcp_packets >= 1,
            "{who}: no RTCP from Janus' forwarder: {s:?}"
        );
    }
    // Paces the recording: the live windows checked after `live`.
    tokio::time::sleep(Duration::from_secs(3)).await;
    c.destroy_cloud_mixer(DestroyCloudMixerRequest {
        mixer_id: id.clone(),
        oper_user_id: String::new(),
    })
    .await
    .expect("Destroy");
    drop(b);
    drop(g);
    let mp4 = rtc::output_path(&d, &id);
    let moved_c = assert_region_live(&mp4, live, 0, half, "chromium (left)");
    let moved_g = assert_region_live(&mp4, live, half, half, "gstreamer (right)");
    // videotestsrc's ball on a grey (128) background: the right half is GStreamer's.
    let right = columns(&media::frame_at(&mp4, live, rtc::W, rtc::H), half, half);
    let grey = share_near(&right, [128, 128, 128]);
    assert!(
        grey > 0.5,
        "right half is not GStreamer's grey test pattern ({:.0}% grey)",
        grey * 100.0
    );
    let peak = rtc::audio_peak(&mp4, live, live + 2.0);
    assert!(peak > 0.02, "the publishers' audio is missing: peak {peak}");
    eprintln!(
        "janus {name}: live at {live:.1}s (moved: chromium {:.1}%, gstreamer {:.1}%), \
         audio peak {peak:.2}, keyframe requests {}/{}, rtcp from janus {}/{}, lost {}/{}",
        moved_c * 100.0,
        moved_g * 100.0,
        st[0].keyframe_requests,
        st[1].keyframe_requests,
        st[0].rtcp_packets,
        st[1].rtcp_packets,
        st[0].packets_lost,
        st[1].packets_lost
    );
}

#[test]
fn janus_vp8_rtp_forward_with_rtcp_feedback() {
    in_netns("janus_vp8_in_netns");
}

#[test]
fn janus_h264_rtp_forward_with_rtcp_feedback() {
    in_netns("janus_h264_in_netns");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "runs inside a private network namespace, started by janus_vp8_rtp_forward_with_rtcp_feedback"]
async fn janus_vp8_in_netns() {
    janus_forward_with_rtcp(VideoCodec::Vp8).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "runs inside a private network namespace, started by janus_h264_rtp_forward_with_rtcp_feedback"]
async fn janus_h264_in_netns() {
    janus_forward_with_rtcp(VideoCodec::H264).await;
}
