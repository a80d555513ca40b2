//! WHEP pull end to end: a WHEP endpoint (tests/rtc/whep_server.rs: `webrtc` crate
//! peer connections serving an ffmpeg testsrc2 + 440 Hz stream) -> the daemon's WHEP
//! client -> the MP4, checked by content; then the server goes away and comes back on
//! the same port, and the mixer reconnects (events and a live picture after), in the
//! same file. Runs on loopback (both ends are the `webrtc` crate with loopback
//! candidates), VP8 and H.264.

mod common;
mod rtc;

use std::time::{Duration, Instant};

use cloudmixer::proto::{
    mixer_event::Event, DestroyCloudMixerRequest, SourceConnectionState, SourceTransport,
    VideoCodec, WatchEventsRequest, WhepSource,
};

async fn whep_pull_and_reconnect(codec: VideoCodec) {
    let h264 = codec == VideoCodec::H264;
    // Port 0: the server binds a free port; it comes back on that same one below.
    let server = rtc::whep_server::start("127.0.0.1:0".parse().unwrap(), h264).await;
    let addr = server.addr;
    let (d, _) = rtc::daemon_with_whip();
    let mut c = d.client().await;
    let id = format!("whep-{}", if h264 { "h264" } else { "vp8" });
    let mut events = c
        .watch_events(WatchEventsRequest {
            mixer_id: id.clone(),
        })
        .await
        .expect("WatchEvents")
        .into_inner();
    let mut src = rtc::source("Whep1", codec, SourceTransport::Whep as i32);
    src.whep = Some(WhepSource {
        url: server.url(),
        bearer_token: "t0ken".into(),
    });
    c.create_cloud_mixer(rtc::create_request(&id, src))
        .await
        .expect("Create");
    let t0 = Instant::now();
    let since = |t: Instant| t.duration_since(t0).as_secs_f64();

    let s = rtc::wait_stats(
        &mut c,
        &id,
        Duration::from_secs(20),
        "first pictures",
        |s| s.video_frames_decoded >= 30 && s.audio_frames_decoded >= 50,
    )
    .await;
    let first_live = since(Instant::now());
    assert_eq!(s.transport, SourceTransport::Whep as i32);
    assert_eq!(s.video_codec, codec as i32);
    assert_eq!(s.connection_state, SourceConnectionState::Connected as i32);
    assert_eq!((s.width, s.height), (640, 360), "{s:?}");
    assert!(s.video_packets > 0 && s.video_bytes > 0 && s.last_packet_unix_ms > 0);
    // Paces the recording: long enough for `assert_live`'s 1.5 s of windows before the
    // server goes.
    tokio::time::sleep(Duration::from_secs(3)).await;

    // The server goes away...
    let gone = since(Instant::now());
    server.shutdown().await;
    rtc::wait_stats(&mut c, &id, Duration::from_secs(20), "reconnecting", |s| {
        s.connection_state == SourceConnectionState::Reconnecting as i32
    })
    .await;
    // Paces the test: the server stays away a while (the client retries with backoff).
    tokio::time::sleep(Duration::from_secs(3)).await;
    // ... and comes back on the same address.
    let server = rtc::whep_server::start(addr, h264).await;
    let before = rtc::stats(&mut c, &id).await.video_frames_decoded;
    rtc::wait_stats(
        &mut c,
        &id,
        Duration::from_secs(30),
        "pictures after the restart",
        |s| {
            s.connection_state == SourceConnectionState::Connected as i32
                && s.video_frames_decoded >= before + 30
        },
    )
    .await;
    let back = since(Instant::now());
    // Paces the recording: `assert_live`'s windows after the restart.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let end = since(Instant::now());
    c.destroy_cloud_mixer(DestroyCloudMixerRequest {
        mixer_id: id.clone(),
        oper_user_id: String::new(),
    })
    .await
    .expect("Destroy");
    server.shutdown().await;

    // Events: connected, then disconnected and reconnecting with a reason, connected again.
    let mut seen = Vec::new();
    while let Ok(Ok(Some(ev))) =
        tokio::time::timeout(Duration::from_millis(500), events.message()).await
    {
        if let Some(Event::SourceStateChanged(s)) = ev.event {
            assert_eq!(s.camid, "Whep1");
            assert!(!s.reason.is_empty(), "{s:?}");
            seen.push(s.state);
        }
    }
    let (con, dis, rec) = (
        SourceConnectionState::Connected as i32,
        SourceConnectionState::Disconnected as i32,
        SourceConnectionState::Reconnecting as i32,
    );
    let first = seen.iter().position(|&s| s == con).expect("connected");
    let dpos = seen[first..]
        .iter()
        .position(|&s| s == dis)
        .expect("disconnected")
        + first;
    let rpos = seen[dpos..]
        .iter()
        .position(|&s| s == rec)
        .expect("reconnecting")
        + dpos;
    assert!(seen[rpos..].contains(&con), "connected again: {seen:?}");

    // The file: live before the restart, live after it.
    let mp4 = rtc::output_path(&d, &id);
    let d1 = rtc::assert_live(&mp4, first_live);
    let _ = gone;
    let d2 = rtc::assert_live(&mp4, back.min(end - 1.8));
    let peak = rtc::audio_peak(&mp4, first_live, first_live + 1.0);
    assert!(peak > 0.05, "440 Hz tone missing: peak {peak}");
    eprintln!(
        "whep {codec:?}: live at {first_live:.1}s ({:.1}% moved), server gone at {gone:.1}s, \
         back at {back:.1}s ({:.1}% moved), audio peak {peak:.2}, events {seen:?}",
        d1 * 100.0,
        d2 * 100.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn whep_vp8_pull_and_reconnect() {
    whep_pull_and_reconnect(VideoCodec::Vp8).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn whep_h264_pull_and_reconnect() {
    whep_pull_and_reconnect(VideoCodec::H264).await;
}
