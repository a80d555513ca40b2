//! Proves the end-to-end checks can both pass and fail, without the daemon: an MP4 made
//! by the ffmpeg CLI that looks exactly like a correct mix (side by side red/blue for 4 s,
//! then picture in picture, 440 Hz + 1000 Hz) passes them, and wrong expectations fail.
//! Also checks that the test publishers really send RTP with the asked PT and SSRC.

mod common;

use std::net::UdpSocket;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use common::media::{self, check_colours, check_tones, ColourAt, BLUE, RED};
use common::sender::{Codec, SenderSpec};
use common::spec::{PIP_POINTS, SIDE_BY_SIDE_POINTS};

/// Builds the reference mix: what cloudmixer must write for the e2e_rtp scenario.
fn reference_mix(dir: &Path) -> PathBuf {
    let out = dir.join("reference.mp4");
    let graph = "color=black:s=1280x720:r=15:d=8[bg];\
        color=red:s=640x360:r=15:d=8,split[a1][a2];\
        color=blue:s=640x360:r=15:d=8,split[b1][b2];\
        [a2]scale=1280:720[afull];[b2]scale=400:225[bsmall];\
        [bg][a1]overlay=0:180:enable='lt(t,4)'[t1];[t1][b1]overlay=640:180:enable='lt(t,4)'[t2];\
        [t2][afull]overlay=0:0:enable='gte(t,4)'[t3];[t3][bsmall]overlay=880:495:enable='gte(t,4)'[v];\
        sine=frequency=440:sample_rate=48000:duration=8[s1];\
        sine=frequency=1000:sample_rate=48000:duration=8[s2];[s1][s2]amix=inputs=2[aout]";
    common::run_bounded(
        Command::new("ffmpeg")
            .args(["-hide_banner", "-nostdin", "-loglevel", "error", "-y"])
            .args(["-filter_complex", graph, "-map", "[v]", "-map", "[aout]"])
            .args([
                "-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-r", "15",
            ])
            .args(["-c:a", "aac", "-b:a", "64k", "-ar", "48000"])
            .args(["-movflags", "+frag_keyframe+empty_moov+default_base_moof"])
            .arg(&out),
        Duration::from_secs(120),
    );
    out
}

#[test]
fn content_checks_accept_a_correct_mix_and_reject_wrong_ones() {
    let dir = tempfile::tempdir().unwrap();
    let mp4 = reference_mix(dir.path());

    let p = media::probe(&mp4);
    let v = p.of_kind("video");
    let a = p.of_kind("audio");
    assert_eq!((v.len(), a.len()), (1, 1), "{p:?}");
    assert_eq!(
        (v[0].codec.as_str(), v[0].width, v[0].height),
        ("h264", 1280, 720)
    );
    assert_eq!(v[0].avg_frame_rate, "15/1");
    assert_eq!((a[0].codec.as_str(), a[0].sample_rate), ("aac", 48_000));
    assert!(
        (p.duration_s - 8.0).abs() < 0.5,
        "duration {}",
        p.duration_s
    );
    assert_eq!(media::count_video_frames(&mp4), 120);

    let sbs = media::frame_at(&mp4, 2.5, 1280, 720);
    check_colours(&sbs, SIDE_BY_SIDE_POINTS).expect("side by side at 2.5 s");
    let err =
        check_colours(&sbs, PIP_POINTS).expect_err("PiP expectations on a side-by-side frame");
    assert!(
        err.contains("small tile (B) centre") && err.contains("top-left area (A)"),
        "{err}"
    );
    let swapped = [
        ColourAt {
            what: "left",
            x: 320,
            y: 360,
            rgb: BLUE,
        },
        ColourAt {
            what: "right",
            x: 960,
            y: 360,
            rgb: RED,
        },
    ];
    let err = check_colours(&sbs, &swapped).expect_err("swapped colours must fail");
    assert!(err.contains("left") && err.contains("right"), "{err}");

    let pip = media::frame_at(&mp4, 6.5, 1280, 720);
    check_colours(&pip, PIP_POINTS).expect("picture in picture at 6.5 s");
    assert!(check_colours(&pip, SIDE_BY_SIDE_POINTS).is_err());

    let audio = media::audio_between(&mp4, 2.0, 7.0);
    assert!(audio.len() > 4 * 48_000, "{} samples", audio.len());
    check_tones(&audio, &[440.0, 1000.0], 2500.0).expect("both tones");
    assert!(
        check_tones(&audio, &[440.0, 2500.0], 3100.0).is_err(),
        "2500 Hz was never sent"
    );
    assert!(
        check_tones(&audio, &[1000.0], 440.0).is_err(),
        "440 Hz is not absent"
    );
    let silence = vec![0.0f32; 48_000];
    assert!(
        check_tones(&silence, &[440.0], 2500.0).is_err(),
        "silence has no tone"
    );
}

#[test]
fn goertzel_measures_amplitude_of_one_frequency() {
    let rate = media::AUDIO_RATE;
    let s: Vec<f32> = (0..rate)
        .map(|i| {
            let t = f64::from(i) / f64::from(rate);
            (0.5 * (2.0 * std::f64::consts::PI * 700.0 * t).sin()
                + 0.1 * (2.0 * std::f64::consts::PI * 3000.0 * t).sin()) as f32
        })
        .collect();
    let amp = |f| media::tone_amplitude(&s, f, rate);
    assert!((amp(700.0) - 0.5).abs() < 0.01, "{}", amp(700.0));
    assert!((amp(3000.0) - 0.1).abs() < 0.01, "{}", amp(3000.0));
    assert!(amp(1500.0) < 0.001, "{}", amp(1500.0));
    assert!(
        amp(710.0) < 0.01,
        "10 Hz off over 1 s is out of the Hann main lobe"
    );
}

/// Receives RTP on a local socket for up to `limit`; returns (payload type, SSRC) pairs.
fn rtp_headers(sock: &UdpSocket, limit: Duration, want: usize) -> Vec<(u8, u32)> {
    sock.set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let deadline = Instant::now() + limit;
    let mut got = Vec::new();
    let mut buf = [0u8; 2048];
    while got.len() < want && Instant::now() < deadline {
        if let Ok(n) = sock.recv(&mut buf) {
            assert!(
                n >= 12 && buf[0] >> 6 == 2,
                "not RTP: {:?}",
                &buf[..n.min(16)]
            );
            let ssrc = u32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]);
            got.push((buf[1] & 0x7f, ssrc));
        }
    }
    got
}

#[test]
fn senders_publish_rtp_with_the_given_payload_types_and_ssrcs() {
    for codec in [Codec::Vp8, Codec::H264] {
        let (first, _) = common::daemon::free_udp_range(4);
        let v = UdpSocket::bind(("127.0.0.1", first)).unwrap();
        let a = UdpSocket::bind(("127.0.0.1", first + 2)).unwrap();
        let mut spec = SenderSpec::solid("red", codec, 440, first, first + 2);
        spec.duration = Duration::from_secs(5);
        let _s = spec.start();
        let vid = rtp_headers(&v, Duration::from_secs(8), 20);
        let aud = rtp_headers(&a, Duration::from_secs(8), 20);
        assert_eq!(vid.len(), 20, "{codec:?}: video packets");
        assert_eq!(aud.len(), 20, "{codec:?}: audio packets");
        assert!(
            vid.iter().all(|&h| h == (spec.video_pt, spec.video_ssrc)),
            "{vid:?}"
        );
        assert!(
            aud.iter().all(|&h| h == (spec.audio_pt, spec.audio_ssrc)),
            "{aud:?}"
        );
    }
}
