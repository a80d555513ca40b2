//! Recovery from loss with a sender that answers keyframe requests (issue 4: "a lost
//! video packet that breaks a frame leads to a keyframe request and the tile holds its
//! last good picture until a keyframe arrives").
//!
//! A GStreamer VP8 publisher (tests/gst/pli_publisher.py) makes keyframes only when asked
//! by RTCP PLI/FIR. Between it and the mixer a seeded relay drops 5 % of the RTP and
//! jitters it by 0-20 ms, and logs every datagram. From that log
//! (tests/common/decodable.rs) each loss that breaks the picture and the intact keyframe
//! that ends it are known to the frame: the time between them is the tile's frozen
//! time, which the mixer's PLIs decide (once the sender's first RTCP has told the mixer
//! where to send them). The mixer must have decoded exactly the frames the model says a
//! receiver can show.

mod common;

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

use cloudmixer::proto::VideoCodec;
use common::daemon::Daemon;
use common::decodable;
use common::lossy_relay::{Impairment, LossyRelay};
use common::rpc;
use common::sender::Codec;
use common::spec;

/// How long the publisher sends.
const SEND_S: f64 = 20.0;

/// Longest a picture may stay broken: the jitter buffer's wait for a missing packet
/// (60 ms) + the PLI's round trip and the encoder (measured ~40 ms on loopback) + one
/// more PLI interval (500 ms) in case the first keyframe is lost too, with margin. Two
/// keyframes lost in a row (~0.3 % at 5 % loss of 1-2 packet keyframes) would exceed it.
const MAX_FROZEN: Duration = Duration::from_millis(1_000);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_answering_pli_recovers_each_tile_within_a_second_of_a_loss() {
    let d = Daemon::start();
    let mut c = d.client().await;
    let mut req = spec::create_request(
        "pli",
        vec![spec::source("P", Some((VideoCodec::Vp8, 96)), false)],
        vec![spec::region("P", 0, 0, 320, 240)],
        "pli/p.mp4",
    );
    let cfg = req.video_file_cfg.as_mut().expect("cfg");
    (cfg.v_width, cfg.v_height, cfg.v_fps) = (320, 240, 25);
    let created = rpc::create(&mut c, req).await;
    let port = created.source_ports[0].video_rtp_port as u16;
    let relay = LossyRelay::start(
        SocketAddr::from(([127, 0, 0, 1], port)),
        Impairment {
            loss: 0.05,
            jitter: Duration::from_millis(20),
            seed: 0x9A11,
        },
    );
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/gst/pli_publisher.py");
    let mut publisher = Command::new("/usr/bin/python3")
        .args([
            script,
            "127.0.0.1",
            &relay.port.to_string(),
            "424242",
            &SEND_S.to_string(),
        ])
        .stdin(Stdio::null())
        .spawn()
        .expect("start the GStreamer publisher (scripts/install-webrtc-test-deps.sh)");
    let ended = tokio::task::spawn_blocking(move || {
        let ok = common::wait_for(
            Duration::from_secs_f64(SEND_S + 15.0),
            Duration::from_millis(100),
            || publisher.try_wait().ok().flatten(),
        );
        let _ = publisher.kill();
        let _ = publisher.wait();
        ok
    })
    .await
    .expect("join");
    assert!(ended.is_some_and(|s| s.success()), "publisher: {ended:?}");
    // The mixer is done with the stream when its counters stop moving: the same over
    // 300 ms (the jitter buffer's wait and the decoder are well within that).
    let mut stats = rpc::sources(&mut c, "pli").await.remove(0);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let now = rpc::sources(&mut c, "pli").await.remove(0);
        let key = |s: &cloudmixer::proto::SourceStats| {
            (s.video_packets, s.packets_lost, s.video_frames_decoded)
        };
        let settled = key(&now) == key(&stats);
        stats = now;
        if settled {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the mixer's counters still move 10 s after the publisher ended: {stats:?}"
        );
    }
    rpc::destroy(&mut c, "pli").await;

    let log = relay.counts.log.lock().unwrap().clone();
    let dropped = log.iter().filter(|l| l.dropped).count() as u64;
    let frames = decodable::frames(Codec::Vp8, &log);
    let keyframes = frames.iter().filter(|f| f.keyframe).count();
    let showable = frames.iter().filter(|f| f.shown).count() as u64;
    // Each break: a frame not shown right after a shown one; it ends at the next shown
    // frame (an intact keyframe).
    // A break that starts before the sender's first RTCP reached the mixer cannot be
    // answered yet: the mixer learns the sender's RTCP address from it (the fallback,
    // RTP source port + 1, is the relay's forwarding socket here, not the sender).
    let first_rtcp = relay
        .counts
        .first_rtcp
        .lock()
        .unwrap()
        .expect("sender RTCP");
    let mut frozen = Vec::new();
    let mut early = Vec::new();
    for i in 1..frames.len() {
        if frames[i - 1].shown && !frames[i].shown {
            let end = frames[i..].iter().find(|f| f.shown);
            match end {
                Some(e) if frames[i].at < first_rtcp => {
                    let wait = first_rtcp.duration_since(frames[i].at);
                    early.push((e.at.duration_since(frames[i].at), wait));
                }
                Some(e) => frozen.push(e.at.duration_since(frames[i].at)),
                None => assert!(
                    frames.last().unwrap().at.duration_since(frames[i].at) < MAX_FROZEN,
                    "the stream ended broken for longer than {MAX_FROZEN:?}"
                ),
            }
        }
    }
    let mut sorted = frozen.clone();
    sorted.sort();
    let ms = |d: &Duration| d.as_secs_f64() * 1e3;
    eprintln!(
        "{} datagrams, {dropped} dropped; {} frames, {keyframes} keyframes, {showable} \
         showable; {} breaks, frozen median {:.0} ms, max {:.0} ms; all {:?} ms",
        log.len(),
        frames.len(),
        frozen.len(),
        sorted.get(sorted.len() / 2).map_or(0.0, ms),
        sorted.last().map_or(0.0, ms),
        frozen
            .iter()
            .map(|d| ms(d).round() as u64)
            .collect::<Vec<_>>()
    );
    eprintln!(
        "breaks before the sender's first RTCP (frozen, of which waiting for it): {:?}",
        early
    );
    eprintln!("stats: {stats:?}");
    for (f, wait) in &early {
        assert!(
            *f <= *wait + MAX_FROZEN,
            "frozen {f:?}, {wait:?} of it before RTCP"
        );
    }
    assert!(
        frozen.len() >= 5,
        "only {} breaks: loss not exercised",
        frozen.len()
    );
    // The publisher makes keyframes only when asked: every recovery was a PLI answered.
    let breaks = frozen.len() + early.len();
    assert!(keyframes > breaks, "{keyframes} keyframes, {breaks} breaks");
    assert!(stats.keyframe_requests >= frozen.len() as u64, "{stats:?}");
    assert!(
        sorted.last().is_some_and(|m| *m <= MAX_FROZEN),
        "frozen up to {:?}",
        sorted.last()
    );
    // The mixer decoded exactly what a receiver can show. Compared in every run: the
    // loss counts differ harmlessly when the relay dropped the stream's first or last
    // packets (the mixer counts only gaps between packets it received, and the model
    // shows none of those frames either); a packet the mixer lost on top of the relay's
    // drops (late past the jitter buffer's wait) breaks a frame the model shows, and the
    // message says so.
    assert!(stats.packets_lost <= dropped + 10, "{stats:?}");
    assert_eq!(
        stats.video_frames_decoded,
        showable,
        "frames decoded (left) vs showable by the relay's log (right); the mixer lost {} \
         packets, the relay dropped {dropped}{}; {stats:?}",
        stats.packets_lost,
        if stats.packets_lost > dropped {
            ": it lost packets the relay forwarded (too late, or dropped by itself), \
             which the model does not include"
        } else {
            ""
        }
    );
}
