//! Helpers of the WebRTC end-to-end tests (tests/webrtc_*.rs): a daemon with a WHIP
//! listener, a one-source mixer, polling its stats, checks of a region's content
//! (moving, not the placeholder), a WHEP test server ([`whep_server`]) and headless
//! Chromium ([`chromium`]).
#![allow(dead_code)]

pub mod chromium;
pub mod janus;
pub mod whep_server;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use cloudmixer::proto::{
    cloud_mixer_client::CloudMixerClient, CreateCloudMixerRequest, GetCloudMixerRequest,
    LayoutRegion, RegionParam, RtpAudio, RtpVideo, SourceConfig, SourceStats, VideoCodec,
    VideoFileCfg,
};
use tonic::transport::Channel;

use crate::common::daemon::Daemon;
use crate::common::media::{self, Frame};

/// Output size and rate of the WebRTC tests' mixers.
pub const W: u32 = 640;
pub const H: u32 = 360;
pub const FPS: u32 = 15;
/// The canvas colour: the placeholder of a source with no live picture.
pub const PLACEHOLDER: [u8; 3] = [0, 0, 255];

/// A daemon with a WHIP listener on a port it picks (`--whip-listen 127.0.0.1:0`) and
/// loopback ICE candidates; returns it and the WHIP address it reported.
pub fn daemon_with_whip() -> (Daemon, String) {
    let d = Daemon::start_with_args(
        8,
        &[
            "--whip-listen".into(),
            "127.0.0.1:0".into(),
            "--webrtc-loopback".into(),
        ],
    );
    let whip = d
        .whip
        .expect("the daemon reports its WHIP address")
        .to_string();
    (d, whip)
}

/// Whether a WebRTC test can run here, given what it needs and `missing` says is absent
/// (e.g. "chromium not installed"). Nothing missing: true. Something missing: with the
/// environment variable `CI` set (non-empty), panics, because CI installs every tool
/// (scripts/test.sh runs scripts/install-webrtc-test-deps.sh) and a test that did not
/// run must not count as passed there; elsewhere prints `SKIP: <test>: ...` to stderr and
/// returns false (the test then returns early: cargo still counts it as passed).
pub fn can_run(test: &str, missing: &[String]) -> bool {
    if missing.is_empty() {
        return true;
    }
    let why = format!(
        "{test}: {} (scripts/install-webrtc-test-deps.sh, as root, installs the tools)",
        missing.join("; ")
    );
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty());
    assert!(
        !ci,
        "CI is set, so this test must run, but it cannot: {why}"
    );
    eprintln!("SKIP: {why}");
    false
}

/// "`prog` not installed" for each of `progs` not on PATH.
pub fn missing_programs(progs: &[&str]) -> Vec<String> {
    progs
        .iter()
        .filter(|p| !have(p))
        .map(|p| format!("{p} not installed"))
        .collect()
}

/// A source with `codec` (payload type ignored by WebRTC) and Opus.
pub fn source(camid: &str, codec: VideoCodec, transport: i32) -> SourceConfig {
    SourceConfig {
        content_type: 0,
        host: false,
        camid: camid.into(),
        video: Some(RtpVideo {
            codec: codec as i32,
            payload_type: 96,
            ssrc: None,
        }),
        audio: Some(RtpAudio {
            codec: 1,
            payload_type: 111,
            ssrc: None,
        }),
        transport,
        whep: None,
        ..Default::default()
    }
}

/// A 640x360@15 mixer showing `src` full canvas on a blue background.
pub fn create_request(id: &str, src: SourceConfig) -> CreateCloudMixerRequest {
    let camid = src.camid.clone();
    CreateCloudMixerRequest {
        conference_id: String::new(),
        record_cfg: None,
        mixer_id: id.into(),
        oper_user_id: "webrtc-e2e".into(),
        sources: vec![src],
        video_file_cfg: Some(VideoFileCfg {
            svr_path_name: format!("webrtc/{id}.mp4"),
            v_width: W,
            v_height: H,
            v_fps: FPS,
            v_bps: 0,
            background_color: "#0000FF".into(),
            speaking_ring_color: String::new(),
            region_border_color: String::new(),
            region_border_px: 0,
            background_image: Vec::new(),
            loudness_target_lufs: 0,
            snapshot_interval_secs: 0,
            live_push_urls: Vec::new(),
            hls_segment_secs: 0,
            layout_config: vec![LayoutRegion {
                r#type: 0,
                top: 0,
                left: 0,
                width: W as i32,
                height: H as i32,
                keep_aspect_ratio: false,
                z_order: None,
                placeholder_image: Vec::new(),
                param: Some(RegionParam { camid }),
            }],
            layout_preset: None,
            a_bps: 0,
        }),
        playout_delay_ms: 0,
        stale_timeout_ms: 0,
    }
}

/// The stats of the mixer's only source.
pub async fn stats(c: &mut CloudMixerClient<Channel>, id: &str) -> SourceStats {
    let info = c
        .get_cloud_mixer(GetCloudMixerRequest {
            mixer_id: id.into(),
        })
        .await
        .expect("GetCloudMixer")
        .into_inner();
    info.sources.into_iter().next().expect("one source")
}

/// Polls the source's stats every 100 ms until `f` holds; the stats then, or panics
/// after `limit` with the last stats and `what`.
pub async fn wait_stats(
    c: &mut CloudMixerClient<Channel>,
    id: &str,
    limit: Duration,
    what: &str,
    f: impl Fn(&SourceStats) -> bool,
) -> SourceStats {
    let deadline = Instant::now() + limit;
    loop {
        let s = stats(c, id).await;
        if f(&s) {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "{what}: not within {limit:?}; stats {s:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Share of pixels (0..1) that changed by more than 24 in some channel between two
/// RGB frames (compression noise stays below that).
pub fn frame_diff(a: &Frame, b: &Frame) -> f64 {
    let n = a
        .rgb
        .chunks(3)
        .zip(b.rgb.chunks(3))
        .filter(|(x, y)| x.iter().zip(*y).any(|(p, q)| p.abs_diff(*q) > 24))
        .count();
    n as f64 / (a.rgb.len() / 3) as f64
}

/// Fraction of pixels within 40 per channel of [`PLACEHOLDER`].
pub fn placeholder_share(f: &Frame) -> f64 {
    let n = f
        .rgb
        .chunks(3)
        .filter(|p| p.iter().zip(PLACEHOLDER).all(|(v, e)| v.abs_diff(e) <= 40))
        .count();
    n as f64 / (f.rgb.len() / 3) as f64
}

/// Mean of all channels of all pixels.
pub fn mean_level(f: &Frame) -> f64 {
    f.rgb.iter().map(|v| u64::from(*v)).sum::<u64>() as f64 / f.rgb.len() as f64
}

/// Asserts the source's live picture from `t` s on: not the placeholder, not black, and
/// moving — some 0.5 s step within [`t`, `t` + 1.5 s] changes more than 0.2 % of the
/// pixels. (One step alone is not enough: a WebRTC publisher that just (re)joined may
/// hold a picture for a few hundred ms while its bandwidth estimate ramps up.) Returns
/// the largest share of pixels that changed.
pub fn assert_live(mp4: &Path, t: f64) -> f64 {
    let mut best = 0.0f64;
    let mut prev = media::frame_at(mp4, t, W, H);
    for step in 1..=3 {
        let at = t + 0.5 * f64::from(step);
        let next = media::frame_at(mp4, at, W, H);
        for (f, when) in [(&prev, at - 0.5), (&next, at)] {
            let share = placeholder_share(f);
            assert!(share < 0.5, "{when} s: {:.0}% placeholder", share * 100.0);
            let m = mean_level(f);
            assert!(m > 20.0, "{when} s: black (mean level {m:.1})");
        }
        best = best.max(frame_diff(&prev, &next));
        if best > 0.002 {
            return best;
        }
        prev = next;
    }
    panic!(
        "{t} s -> {} s: picture does not move (at most {:.2}% of pixels changed per 0.5 s)",
        t + 1.5,
        best * 100.0
    );
}

/// Asserts the placeholder (the blue canvas) at `t` s.
pub fn assert_placeholder(mp4: &Path, t: f64) {
    let f = media::frame_at(mp4, t, W, H);
    let share = placeholder_share(&f);
    assert!(
        share > 0.95,
        "{t} s: only {:.0}% placeholder",
        share * 100.0
    );
}

/// Peak absolute sample of the audio between `t1` and `t2` s.
pub fn audio_peak(mp4: &Path, t1: f64, t2: f64) -> f32 {
    media::audio_between(mp4, t1, t2)
        .iter()
        .fold(0.0f32, |m, s| m.max(s.abs()))
}

/// The absolute path of the mixer's file under the daemon's recordings root.
pub fn output_path(d: &Daemon, id: &str) -> PathBuf {
    d.recordings().join(format!("webrtc/{id}.mp4"))
}

/// Minimal blocking HTTP/1.1 request (for protocol checks); returns status and body.
pub fn http(method: &str, url: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("http URL");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let mut s = std::net::TcpStream::connect(host).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    req.push_str(body);
    s.write_all(req.as_bytes()).expect("send");
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (status, out)
}

/// True when running as root (network namespaces, Chromium sandbox off).
pub fn is_root() -> bool {
    std::process::Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// True if `prog` is on PATH.
pub fn have(prog: &str) -> bool {
    std::process::Command::new("sh")
        .args(["-c", &format!("command -v {prog}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}
