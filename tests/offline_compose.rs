//! The offline engine (`cloudmixer::mixer::offline::run`) on files made by the ffmpeg CLI:
//! a red VP8 + 440 Hz participant and a blue H.264 + 1000 Hz participant, side by side
//! (the Cloudroom example geometry) on a 1280x720 @ 15 fps canvas. Checked by content.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use cloudmixer::layout::{Layout, Region};
use cloudmixer::mixer::offline::{run, OfflineInput, OfflineJob};
use common::media::{audio_between, check_colours, check_tones, frame_at, probe};
use common::spec;

fn make_input(
    dir: &Path,
    name: &str,
    colour: &str,
    tone: u32,
    vcodec: &[&str],
    secs: u32,
) -> PathBuf {
    let out = dir.join(format!("{name}.mkv"));
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-loglevel", "error", "-nostdin", "-y", "-t"])
        .arg(secs.to_string())
        .args(["-f", "lavfi", "-i"])
        .arg(format!("color=c={colour}:size=640x360:rate=30"))
        .arg("-t")
        .arg(secs.to_string())
        .args(["-f", "lavfi", "-i"])
        .arg(format!("sine=frequency={tone}:sample_rate=48000"))
        .args(vcodec)
        .args(["-pix_fmt", "yuv420p", "-c:a", "libopus", "-ac", "2"])
        .arg(&out);
    common::run_bounded(&mut cmd, Duration::from_secs(60));
    assert!(out.exists(), "ffmpeg did not make {}", out.display());
    out
}

fn region(camid: &str, left: u32, top: u32, width: u32, height: u32) -> Region {
    Region {
        camid: camid.into(),
        top,
        left,
        width,
        height,
        keep_aspect_ratio: true,
        z_order: None,
        placeholder: None,
    }
}

#[test]
fn side_by_side_from_files_has_both_pictures_and_both_tones() {
    let dir = tempdir();
    let a = make_input(
        &dir,
        "red",
        "red",
        440,
        &["-c:v", "libvpx", "-deadline", "realtime", "-b:v", "300k"],
        4,
    );
    let b = make_input(
        &dir,
        "blue",
        "blue",
        1000,
        &["-c:v", "libx264", "-preset", "veryfast"],
        4,
    );
    let out = dir.join("out.mp4");
    let info = run(OfflineJob {
        inputs: vec![
            OfflineInput {
                camid: "Usr1.-1".into(),
                path: a,
            },
            OfflineInput {
                camid: "Usr2.-1".into(),
                path: b,
            },
        ],
        layout: Layout {
            regions: vec![
                region("Usr1.-1", 0, 180, 640, 360),
                region("Usr2.-1", 640, 180, 640, 360),
            ],
        },
        output: spec::engine_output("out.mp4", &out),
        max_duration_ms: None,
    })
    .expect("offline job runs");
    assert!(
        (3900..=4200).contains(&info.duration_ms),
        "duration {} ms",
        info.duration_ms
    );
    assert!(info.size_bytes > 10_000);

    let p = probe(&out);
    let v = p.of_kind("video");
    assert_eq!(v.len(), 1);
    assert_eq!(
        (v[0].codec.as_str(), v[0].width, v[0].height),
        ("h264", 1280, 720)
    );
    assert_eq!(v[0].avg_frame_rate, "15/1");
    let a = p.of_kind("audio");
    assert_eq!(
        (a.len(), a[0].codec.as_str(), a[0].sample_rate),
        (1, "aac", 48_000)
    );
    assert!(
        (p.duration_s - 4.0).abs() < 0.3,
        "container duration {}",
        p.duration_s
    );

    let f = frame_at(&out, 2.0, 1280, 720);
    check_colours(&f, spec::SIDE_BY_SIDE_POINTS).unwrap();
    let pcm = audio_between(&out, 1.0, 3.0);
    check_tones(&pcm, &[440.0, 1000.0], 2500.0).unwrap();
}

fn tempdir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("cloudmixer-offline-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
