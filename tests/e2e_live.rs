//! Live outputs of the composite (issue 14): an RTMP push (`video_file_cfg.live_push_urls`)
//! against a real RTMP server: Debian's nginx with the RTMP module on loopback (tests/common/rtmp.rs).
//! Two real senders (ffmpeg: red VP8 with a 440 Hz tone, blue H.264 with 1000 Hz) side
//! by side; the mixer writes its MP4 and pushes RTMP from the same encode. Checked by
//! content: the stream read back from nginx with ffmpeg is 1280x720 with the layout's
//! colours and both tones; nginx killed mid-call and started again: the push reconnects
//! (its log lines, in order) and the stream read back again shows the call; the file
//! has no gap (its frame count is the mixer's duration at 15 fps); Get and the
//! LiveOutputChanged events report live, reconnecting, live again (1 reconnect),
//! stopped; the stream key is never in the daemon's log, Get or the events. The same
//! mixer writes HLS (2 s segments): a live EVENT playlist while recording, a VOD one at
//! the end whose segments each start with a keyframe, last their #EXTINF and sum to the
//! mixer's duration, and play the call (colours, tones).

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use cloudmixer::proto::mixer_event::Event;
use cloudmixer::proto::LivePushState;
use common::daemon::Daemon;
use common::media::{
    audio_between, check_colours, check_tones, count_video_frames, frame_at, probe,
};
use common::rpc;
use common::rtmp::RtmpServer;
use common::s3::free_tcp_port;
use common::sender::{Codec, SenderSpec};
use common::spec;

/// The stream key: a secret the daemon must not print.
const KEY: &str = "k3y-s3cret-0042";
const FPS: u64 = 15;
/// Bound of the waits for the push's log lines.
const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_composite_is_pushed_to_nginx_and_survives_a_server_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut nginx = RtmpServer::start(&dir.path().join("nginx"), free_tcp_port());
    let d = Daemon::start();
    let mut c = d.client().await;
    let mut req = spec::duo_request("live", ("A", "B"), "live/call.mp4", None);
    let cfg = req.video_file_cfg.as_mut().expect("video_file_cfg");
    cfg.live_push_urls = vec![nginx.url(KEY)];
    cfg.hls_segment_secs = 2;
    // Every mixer's events (this is the only one), watched before it exists.
    let events = rpc::watch(&mut c, "", Duration::from_secs(120)).await;
    let created = rpc::create(&mut c, req).await;
    let _a = SenderSpec::solid_to("red", Codec::Vp8, 440, &created.source_ports[0]).start();
    let _b = SenderSpec::solid_to("blue", Codec::H264, 1000, &created.source_ports[1]).start();
    rpc::wait_pictures_and_written(&mut c, "live", 1_000).await;
    wait_log(&d, "live push connected", 1);
    let live = rpc::info(&mut c, "live").await.live_outputs;
    assert_eq!(live.len(), 1, "{live:?}");
    assert_eq!(live[0].state, LivePushState::Live as i32, "{live:?}");
    assert_eq!(live[0].url, format!("rtmp://{}/live/***", nginx.addr));

    let first = dir.path().join("first.flv");
    tokio::task::block_in_place(|| nginx.pull(KEY, 3, &first));
    check_stream(&first);
    // While recording, the HLS playlist is a live (EVENT) one, growing.
    let hls = d.recordings().join("live/call-hls");
    let playlist = std::fs::read_to_string(hls.join("index.m3u8")).expect("live playlist");
    assert!(
        playlist.contains("#EXT-X-PLAYLIST-TYPE:EVENT"),
        "{playlist}"
    );
    assert!(!playlist.contains("#EXT-X-ENDLIST"), "{playlist}");
    assert!(playlist.contains("seg-000000.ts"), "{playlist}");

    // The server dies mid-call and comes back on the same address.
    nginx.stop();
    wait_log(&d, "live push lost", 1);
    nginx.restart();
    wait_log(&d, "live push connected", 2);
    let live = rpc::info(&mut c, "live").await.live_outputs;
    assert_eq!(live[0].reconnects, 1, "{live:?}");
    assert!(!live[0].last_error.is_empty(), "the loss's cause: {live:?}");
    let second = dir.path().join("second.flv");
    tokio::task::block_in_place(|| nginx.pull(KEY, 3, &second));
    check_stream(&second);

    let info = rpc::destroy(&mut c, "live").await;
    // The push's state changes as events, in order, under the one URL without its key.
    let changes: Vec<(i32, u32)> = events
        .await
        .expect("events task")
        .into_iter()
        .filter_map(|e| match e.event {
            Some(Event::LiveOutputChanged(l)) => l.live_output,
            _ => None,
        })
        .inspect(|l| assert_eq!(l.url, format!("rtmp://{}/live/***", nginx.addr)))
        .map(|l| (l.state, l.reconnects))
        .collect();
    let s = |st: LivePushState| st as i32;
    assert_eq!(
        changes,
        [
            (s(LivePushState::Live), 0),
            (s(LivePushState::Reconnecting), 0),
            (s(LivePushState::Live), 1),
            (s(LivePushState::Stopped), 1),
        ],
        "LiveOutputChanged events"
    );
    assert_eq!(
        info.live_outputs[0].state,
        s(LivePushState::Stopped),
        "{:?}",
        info.live_outputs
    );
    assert!(
        info.live_outputs[0].bytes_sent > 0,
        "{:?}",
        info.live_outputs
    );
    let shown = info
        .video_file_cfg
        .clone()
        .unwrap_or_default()
        .live_push_urls;
    assert_eq!(shown, [format!("rtmp://{}/live/***", nginx.addr)]);
    let log = d.log();
    for l in log.lines().filter(|l| l.contains("live push")) {
        eprintln!("{l}");
    }
    assert!(!log.contains(KEY), "the stream key is in the daemon's log");
    let order: Vec<usize> = [
        "live push connected",
        "live push lost",
        "live push connected",
    ]
    .iter()
    .scan(0, |from, line| {
        let at = log[*from..].find(line).map(|i| *from + i)?;
        *from = at + line.len();
        Some(at)
    })
    .collect();
    assert_eq!(order.len(), 3, "connected, lost, connected again:\n{log}");

    // The file went on through the outage: one picture per 1/15 s of the mixer's
    // duration, nothing skipped.
    let file = d.recordings().join("live/call.mp4");
    let duration_ms = info.output.as_ref().expect("output").duration_ms;
    let frames = (duration_ms * FPS + 500) / 1000;
    assert_eq!(
        count_video_frames(&file),
        frames,
        "{duration_ms} ms at {FPS} fps"
    );
    let end = duration_ms as f64 / 1000.0 - 1.0;
    check_colours(&frame_at(&file, end, 1280, 720), spec::SIDE_BY_SIDE_POINTS)
        .expect("the file's last second");
    check_hls(&hls, duration_ms);
}

/// The HLS output after the end: a VOD playlist whose segments each start with a
/// keyframe, last what their #EXTINF says and together what the mixer recorded, and
/// play the call (colours, tones).
fn check_hls(dir: &Path, duration_ms: u64) {
    let playlist = std::fs::read_to_string(dir.join("index.m3u8")).expect("playlist");
    eprintln!("{playlist}");
    assert!(playlist.contains("#EXT-X-PLAYLIST-TYPE:VOD"), "{playlist}");
    assert!(playlist.ends_with("#EXT-X-ENDLIST\n"), "{playlist}");
    let lines: Vec<&str> = playlist.lines().collect();
    let mut total = 0.0;
    let mut segments = 0;
    for (i, l) in lines.iter().enumerate() {
        let Some(d) = l.strip_prefix("#EXTINF:") else {
            continue;
        };
        let extinf: f64 = d.trim_end_matches(',').parse().expect("EXTINF seconds");
        let seg = dir.join(lines[i + 1]);
        let key = common::run_bounded(
            Command::new("ffprobe")
                .args([
                    "-v",
                    "error",
                    "-select_streams",
                    "v:0",
                    "-read_intervals",
                    "%+#1",
                ])
                .args([
                    "-show_entries",
                    "frame=key_frame,pict_type",
                    "-of",
                    "csv=p=0",
                ])
                .arg(&seg),
            Duration::from_secs(30),
        );
        let key = String::from_utf8_lossy(&key);
        assert_eq!(
            key.lines().next().map(|l| l.trim_end_matches(',')),
            Some("1,I"),
            "{} starts with {key}",
            seg.display()
        );
        let probed = probe(&seg).duration_s;
        assert!(
            (probed - extinf).abs() < 0.1,
            "{}: {probed} s, #EXTINF {extinf}",
            seg.display()
        );
        total += extinf;
        segments += 1;
    }
    let recorded = duration_ms as f64 / 1000.0;
    assert!(segments >= 3, "{playlist}");
    assert!(
        (total - recorded).abs() < 0.1,
        "segments sum to {total} s, the mixer recorded {recorded} s\n{playlist}"
    );
    let index = dir.join("index.m3u8");
    check_colours(
        &frame_at(&index, recorded - 1.0, 1280, 720),
        spec::SIDE_BY_SIDE_POINTS,
    )
    .expect("the HLS stream's last second");
    check_tones(
        &audio_between(&index, 0.5, recorded - 0.5),
        &[440.0, 1000.0],
        2500.0,
    )
    .expect("both tones in the HLS stream");
}

/// A stream read back from nginx: 1280x720 video with the layout, audio with both tones.
fn check_stream(path: &Path) {
    let p = probe(path);
    let video = p.of_kind("video");
    assert_eq!(video.len(), 1, "{p:?}");
    assert_eq!((video[0].width, video[0].height), (1280, 720), "{p:?}");
    assert_eq!(p.of_kind("audio").len(), 1, "{p:?}");
    check_colours(&frame_at(path, 2.0, 1280, 720), spec::SIDE_BY_SIDE_POINTS)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    check_tones(&audio_between(path, 0.5, 2.5), &[440.0, 1000.0], 2500.0)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

/// Waits until the daemon's log holds `line` at least `n` times.
fn wait_log(d: &Daemon, line: &str, n: usize) {
    let got = common::wait_for(LIMIT, Duration::from_millis(100), || {
        (d.log().matches(line).count() >= n).then_some(())
    });
    assert!(got.is_some(), "no {n} x {line:?} in the log:\n{}", d.log());
}

/// An SRT push (MPEG-TS, caller) to an ffmpeg SRT listener that starts after the mixer:
/// the push retries until the listener is up, and what the listener receives is the
/// call (size, colours, tones); the streamid never shows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_composite_is_pushed_over_srt_to_a_listener_that_comes_later() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .expect("a free UDP port")
        .port();
    let d = Daemon::start();
    let mut c = d.client().await;
    let mut req = spec::duo_request("srt", ("A", "B"), "srt.mp4", None);
    req.video_file_cfg
        .as_mut()
        .expect("video_file_cfg")
        .live_push_urls = vec![format!("srt://127.0.0.1:{port}?streamid={KEY}")];
    let created = rpc::create(&mut c, req).await;
    let _a = SenderSpec::solid_to("red", Codec::Vp8, 440, &created.source_ports[0]).start();
    let _b = SenderSpec::solid_to("blue", Codec::H264, 1000, &created.source_ports[1]).start();
    rpc::wait_pictures_and_written(&mut c, "srt", 1_000).await;
    let got = dir.path().join("srt.ts");
    let out = got.clone();
    let listener = tokio::task::spawn_blocking(move || {
        common::output_bounded(
            Command::new("ffmpeg")
                .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y", "-i"])
                .arg(format!("srt://127.0.0.1:{port}?mode=listener"))
                .args(["-t", "3", "-c", "copy", "-f", "mpegts"])
                .arg(&out),
            Duration::from_secs(40),
        )
    });
    let o = listener.await.expect("listener task");
    assert!(
        o.status.success(),
        "ffmpeg SRT listener: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    check_stream(&got);
    let info = rpc::destroy(&mut c, "srt").await;
    let shown = info
        .video_file_cfg
        .clone()
        .unwrap_or_default()
        .live_push_urls;
    assert_eq!(shown, [format!("srt://127.0.0.1:{port}/***")]);
    assert!(
        !d.log().contains(KEY),
        "the streamid is in the daemon's log"
    );
    assert!(
        info.live_outputs[0].bytes_sent > 0,
        "{:?}",
        info.live_outputs
    );
}
