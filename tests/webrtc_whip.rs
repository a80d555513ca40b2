//! WHIP end to end with a real browser: headless Chromium (fake camera and microphone)
//! publishes straight to the daemon's WHIP endpoint (RFC 9725), leaves with DELETE and
//! rejoins; the MP4 is checked by content: a moving, non-black picture in the source's
//! region while it publishes, the placeholder (the blue canvas) while it is away, the
//! live picture again after, the fake microphone's beeps in the audio — one file.
//! Also the endpoint's HTTP contract: 401 without/with a wrong token, 415 for a non-SDP
//! body, 405 for PATCH. VP8 and H.264 (packetization-mode 1).
//!
//! Chromium talks to the `webrtc` crate over loopback (`--allow-loopback-in-peer-connection`
//! and the daemon's `--webrtc-loopback`), so no network namespace is needed. When
//! `chromium` is not installed (scripts/install-webrtc-test-deps.sh): fails under CI (the
//! `CI` environment variable set), else skips with a SKIP line on stderr.

mod common;
mod rtc;

use std::time::{Duration, Instant};

use cloudmixer::proto::{
    DestroyCloudMixerRequest, SourceConnectionState, SourceTransport, VideoCodec,
};
use rtc::chromium::Chromium;

/// How long each Chromium session publishes before it DELETEs its session.
const PUBLISH_S: f64 = 7.0;
/// How long the publisher stays away (> the 2 s stale timeout + playout delay).
const AWAY: Duration = Duration::from_secs(5);

fn http_contract(url: &str, token: &str) {
    let sdp = [("Content-Type", "application/sdp")];
    let (st, _) = rtc::http("POST", url, &sdp, "v=0\r\n");
    assert_eq!(st, 401, "POST without a token");
    let bad = format!("Bearer {token}x");
    let (st, _) = rtc::http("POST", url, &[sdp[0], ("Authorization", &bad)], "v=0\r\n");
    assert_eq!(st, 401, "POST with a wrong token");
    let good = format!("Bearer {token}");
    let (st, _) = rtc::http(
        "POST",
        url,
        &[("Content-Type", "text/plain"), ("Authorization", &good)],
        "x",
    );
    assert_eq!(st, 415, "POST of a non-SDP body");
    let (st, _) = rtc::http(
        "PATCH",
        &format!("{url}/session"),
        &[("Authorization", &good)],
        "",
    );
    assert_eq!(st, 405, "PATCH (trickle ICE) is not supported");
}

async fn chromium_whip_leave_and_rejoin(codec: VideoCodec) {
    if !rtc::can_run(
        &format!("chromium WHIP {codec:?}"),
        &rtc::missing_programs(&["chromium"]),
    ) {
        return;
    }
    let name = if codec == VideoCodec::H264 {
        "H264"
    } else {
        "VP8"
    };
    let (d, _) = rtc::daemon_with_whip();
    let mut c = d.client().await;
    let id = format!("whip-{}", name.to_lowercase());
    let created = c
        .create_cloud_mixer(rtc::create_request(
            &id,
            rtc::source("Web1", codec, SourceTransport::Whip as i32),
        ))
        .await
        .expect("Create")
        .into_inner();
    let t0 = Instant::now();
    let since = || t0.elapsed().as_secs_f64();
    let p = &created.source_ports[0];
    assert!(
        p.whip_url.starts_with("http://127.0.0.1:") && p.whip_url.contains("/whip/"),
        "{p:?}"
    );
    assert_eq!(p.video_rtp_port, 0, "WHIP sources get no UDP ports");
    assert!(p.whip_token.len() >= 32, "{p:?}");
    http_contract(&p.whip_url, &p.whip_token);

    let query = format!(
        "url={}&token={}&seconds={PUBLISH_S}&vcodec={name}",
        p.whip_url, p.whip_token
    );
    // First session.
    let b1 = Chromium::open("whip_publish.html", &query);
    let s = rtc::wait_stats(
        &mut c,
        &id,
        Duration::from_secs(25),
        "Chromium's first pictures",
        |s| s.video_frames_decoded >= 30,
    )
    .await;
    let live1 = since();
    assert_eq!(s.connection_state, SourceConnectionState::Connected as i32);
    assert_eq!(s.video_codec, codec as i32);
    assert!(
        b1.lines().iter().any(|l| l == "POST 201"),
        "{:?}",
        b1.lines()
    );
    let s = rtc::wait_stats(
        &mut c,
        &id,
        Duration::from_secs(15),
        "leave (DELETE)",
        |s| s.connection_state == SourceConnectionState::Disconnected as i32,
    )
    .await;
    let gone = since();
    assert!(
        b1.wait_line("DELETE 200", Duration::from_secs(3)).is_some(),
        "{:?}",
        b1.lines()
    );
    drop(b1);
    let first = s.clone();
    // Paces the test: the publisher stays away longer than the stale timeout.
    tokio::time::sleep(AWAY).await;

    // Rejoin.
    let b2 = Chromium::open("whip_publish.html", &query);
    let before = first.video_frames_decoded;
    let s = rtc::wait_stats(
        &mut c,
        &id,
        Duration::from_secs(25),
        "pictures after rejoining",
        |s| {
            s.connection_state == SourceConnectionState::Connected as i32
                && s.video_frames_decoded >= before + 30
        },
    )
    .await;
    let live2 = since();
    // Paces the recording: `assert_live`'s windows after the rejoin.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let end = since();
    c.destroy_cloud_mixer(DestroyCloudMixerRequest {
        mixer_id: id.clone(),
        oper_user_id: String::new(),
    })
    .await
    .expect("Destroy");
    drop(b2);

    let mp4 = rtc::output_path(&d, &id);
    let d1 = rtc::assert_live(&mp4, live1);
    rtc::assert_placeholder(&mp4, gone + 3.0);
    let d2 = rtc::assert_live(&mp4, live2.min(end - 1.8));
    let peak = rtc::audio_peak(&mp4, live1 - 1.0, gone);
    assert!(
        peak > 0.02,
        "the fake microphone's beeps are missing: peak {peak}"
    );
    eprintln!(
        "whip {name}: live at {live1:.1}s ({:.1}% moved), left at {gone:.1}s, back at {live2:.1}s \
         ({:.1}% moved), audio peak {peak:.2}; stats {s:?}",
        d1 * 100.0,
        d2 * 100.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chromium_whip_vp8_leave_and_rejoin() {
    chromium_whip_leave_and_rejoin(VideoCodec::Vp8).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn chromium_whip_h264_leave_and_rejoin() {
    chromium_whip_leave_and_rejoin(VideoCodec::H264).await;
}
