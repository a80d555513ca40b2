//! Resource limits against the real daemon: a VP8 keyframe whose header claims
//! 16000x16000 pixels (a real libvpx keyframe with its size fields rewritten, sent as
//! RTP, RFC 7741) is refused before decoding, counted in the source's
//! `pictures_oversized`, and the daemon's memory does not grow by the picture it claims
//! (one 16000x16000 I420 picture is 384 MB); the same source's real-sized keyframes
//! still decode afterwards.

mod common;

use std::net::UdpSocket;
use std::time::Duration;

use cloudmixer::proto::VideoCodec;
use common::daemon::Daemon;
use common::{rpc, spec};

/// One VP8 keyframe of a `size` red picture from libvpx, from the frame of an IVF file.
fn vp8_keyframe(size: &str) -> Vec<u8> {
    let ivf = common::run_bounded(
        std::process::Command::new("ffmpeg").args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            "lavfi",
            "-i",
            &format!("color=red:s={size}"),
            "-frames:v",
            "1",
            "-c:v",
            "libvpx",
            "-f",
            "ivf",
            "-",
        ]),
        Duration::from_secs(60),
    );
    // IVF: 32-byte file header, 12-byte frame header (4-byte length), the frame.
    assert!(ivf.len() > 44 && &ivf[..4] == b"DKIF", "not an IVF file");
    let len = u32::from_le_bytes(ivf[32..36].try_into().unwrap()) as usize;
    let frame = ivf[44..44 + len].to_vec();
    assert_eq!(frame[0] & 1, 0, "not a keyframe");
    assert_eq!(&frame[3..6], &[0x9d, 0x01, 0x2a], "no VP8 start code");
    frame
}

/// An RTP packet (RFC 3550) with a one-byte VP8 payload descriptor (RFC 7741 §4.2:
/// S=1, partition 0) carrying a whole frame; marker set.
fn rtp_vp8(seq: u16, ts: u32, frame: &[u8]) -> Vec<u8> {
    let mut p = vec![0x80, 0x80 | 96];
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ts.to_be_bytes());
    p.extend_from_slice(&0x1234_5678u32.to_be_bytes());
    p.push(0x10);
    p.extend_from_slice(frame);
    p
}

#[tokio::test]
async fn an_oversized_keyframe_is_refused_without_memory_growth() {
    let d = Daemon::start();
    let mut c = d.client().await;
    let src = spec::source("Big.-1", Some((VideoCodec::Vp8, 96)), false);
    let layout = vec![spec::region("Big.-1", 0, 0, 640, 360)];
    let mut req = spec::create_request("limits", vec![src], layout, "limits.mp4");
    if let Some(v) = req.video_file_cfg.as_mut() {
        (v.v_width, v.v_height) = (640, 360);
    }
    let resp = rpc::create(&mut c, req).await;
    let port = resp.source_ports[0].video_rtp_port as u16;

    let real = vp8_keyframe("64x64");
    let mut huge = real.clone();
    huge[6..8].copy_from_slice(&16000u16.to_le_bytes());
    huge[8..10].copy_from_slice(&16000u16.to_le_bytes());
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind a sender socket");
    let mut seq = 0u16;
    let mut send = |frame: &[u8], n: u16| {
        for _ in 0..n {
            let ts = u32::from(seq) * 6000;
            sock.send_to(&rtp_vp8(seq, ts, frame), ("127.0.0.1", port))
                .expect("send RTP");
            seq = seq.wrapping_add(1);
        }
    };
    let limit = Duration::from_secs(20);

    // Real keyframes first: the source decodes, and the daemon's memory settles.
    send(&real, 5);
    let s = rpc::wait_first_source(&mut c, "limits", limit, |s| s.video_frames_decoded >= 1).await;
    assert!(
        s.is_some(),
        "the real keyframes were not decoded:\n{}",
        d.log()
    );
    let rss_before = d.rss_bytes();

    const HUGE: u16 = 20;
    send(&huge, HUGE);
    let refused = rpc::wait_first_source(&mut c, "limits", limit, |s| {
        s.pictures_oversized >= u64::from(HUGE)
    })
    .await;
    let Some(stats) = refused else {
        panic!("the oversized keyframes were not counted:\n{}", d.log());
    };
    assert_eq!(stats.pictures_oversized, u64::from(HUGE));
    assert_eq!((stats.width, stats.height), (64, 64), "{stats:?}");
    let rss_after = d.rss_bytes();
    let growth = rss_after.saturating_sub(rss_before);
    assert!(
        growth < 64 << 20,
        "RSS grew {growth} bytes ({rss_before} -> {rss_after}) for refused pictures"
    );

    // The source still decodes its real-sized keyframes.
    let before = stats.video_frames_decoded;
    send(&real, 5);
    let more =
        rpc::wait_first_source(&mut c, "limits", limit, |s| s.video_frames_decoded > before).await;
    assert!(
        more.is_some(),
        "decoding stopped after the refused pictures"
    );
    rpc::destroy(&mut c, "limits").await;
}
