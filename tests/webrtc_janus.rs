//! Behind a real SFU: headless Chromium publishes into a Janus 1.1 VideoRoom; Janus
//! `rtp_forward`s it to the mixer's plain-RTP ports with the mixer's video RTCP port
//! (`rtcp_port`), so the mixer's PLI/FIR reach Janus over the forwarder's RTCP socket and
//! Janus asks Chromium for a keyframe. The room has `fir_freq` 0 (Janus sends no periodic
//! keyframe requests of its own) and forwarding starts seconds after the publisher's
//! first keyframe, so the mixer can only decode once its own PLI went through Janus: the
//! test asserts keyframe requests sent, RTCP received from Janus, pictures decoded, and
//! the MP4's region moving and not black. VP8 and H.264.
//!
//! Janus (and libnice) ignore loopback interfaces, so each run re-executes this test
//! binary inside a private network namespace (`unshare --net`) with a veth carrying
//! 127.0.0.2, as root. Skips with a message when not root or when janus/chromium/unshare
//! are missing (scripts/install-webrtc-test-deps.sh installs them).

mod common;
mod rtc;

use std::process::Command;
use std::time::{Duration, Instant};

use cloudmixer::proto::{DestroyCloudMixerRequest, RtpAudio, RtpVideo, SourceConfig, VideoCodec};
use rtc::chromium::Chromium;
use rtc::janus::{self, Janus};
use serde_json::json;

const ROOM: u64 = 1234;

/// Sets up lo + a veth with 127.0.0.2 in the new namespace, then runs the arguments.
const NETNS_SETUP: &str = "ip link set lo up && ip link add cmxa type veth peer name cmxb && \
    sysctl -qw net.ipv6.conf.cmxa.disable_ipv6=1 net.ipv6.conf.cmxb.disable_ipv6=1 && \
    ip addr add 127.0.0.2/32 dev cmxa && ip link set cmxb up && ip link set cmxa up || exit 99; \
    exec \"$@\"";

/// Runs the ignored test `inner` of this binary in a private network namespace.
fn in_netns(inner: &str) {
    if !rtc::is_root() {
        eprintln!("SKIP: {inner} needs root (a private network namespace for Janus)");
        return;
    }
    for p in ["janus", "chromium", "unshare", "ip"] {
        if !rtc::have(p) {
            eprintln!("SKIP: {p} not installed (run scripts/install-webrtc-test-deps.sh)");
            return;
        }
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

    let d = common::daemon::Daemon::start();
    let mut c = d.client().await;
    let id = format!("janus-{}", name.to_lowercase());
    let src = SourceConfig {
        camid: "Janus1".into(),
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
    };
    let ports = c
        .create_cloud_mixer(rtc::create_request(&id, src))
        .await
        .expect("Create")
        .into_inner()
        .source_ports
        .remove(0);
    let t0 = Instant::now();

    let b = Chromium::open(
        "janus_publish.html",
        &format!("room={ROOM}&display=chromium&vcodec={name}"),
    );
    assert!(
        b.wait_line("answer applied", Duration::from_secs(20))
            .is_some(),
        "publisher: {:?}\njanus: {}",
        b.lines(),
        j.log()
    );
    let (s2, h2) = janus::videoroom();
    let p = janus::wait_publisher(s2, h2, ROOM, "chromium", Duration::from_secs(20));
    // The publisher's first keyframe is long gone when forwarding starts.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let streams: Vec<_> = p["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .filter_map(|st| match st["type"].as_str() {
            Some("audio") => Some(json!({"mid": st["mid"], "port": ports.audio_rtp_port,
                                          "pt": 111, "ssrc": 1001})),
            Some("video") => Some(json!({"mid": st["mid"], "port": ports.video_rtp_port,
                                          "pt": pt, "ssrc": 2001,
                                          "rtcp_port": ports.video_rtcp_port})),
            _ => None,
        })
        .collect();
    let fwd = janus::request(
        s2,
        h2,
        json!({"request": "rtp_forward", "room": ROOM, "publisher_id": p["id"],
               "host": "127.0.0.1", "host_family": "ipv4", "streams": streams}),
    );
    assert_eq!(fwd["videoroom"], "rtp_forward", "{fwd}");
    let st = rtc::wait_stats(
        &mut c,
        &id,
        Duration::from_secs(30),
        "pictures via Janus",
        |s| s.video_frames_decoded >= 30 && s.audio_frames_decoded >= 50,
    )
    .await;
    let live = t0.elapsed().as_secs_f64();
    assert!(st.keyframe_requests >= 1, "no PLI/FIR sent: {st:?}");
    assert!(
        st.rtcp_packets >= 1,
        "no RTCP from Janus' forwarder: {st:?}"
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    c.destroy_cloud_mixer(DestroyCloudMixerRequest {
        mixer_id: id.clone(),
        oper_user_id: String::new(),
    })
    .await
    .expect("Destroy");
    drop(b);
    let mp4 = rtc::output_path(&d, &id);
    let moved = rtc::assert_live(&mp4, live);
    let peak = rtc::audio_peak(&mp4, live, live + 2.0);
    assert!(
        peak > 0.02,
        "the fake microphone's beeps are missing: peak {peak}"
    );
    eprintln!(
        "janus {name}: live at {live:.1}s ({:.1}% moved), audio peak {peak:.2}, \
         keyframe requests {}, rtcp from janus {}, lost {}",
        moved * 100.0,
        st.keyframe_requests,
        st.rtcp_packets,
        st.packets_lost
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
