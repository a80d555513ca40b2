//! Outputs of one medium: an audio-only `.m4a` (no libx264, fragmented like the `.mp4`,
//! playable before its trailer) and a video-only `.mp4` (no AAC).

use ffmpeg_next as ff;
use ffmpeg_next::format::Pixel;
use ffmpeg_next::frame;

use super::*;
use crate::media::probe;
use crate::model::{Encoding, RecordingsRoot, Rgb};

/// A 320x180 @ 15 fps output `name` of `media` in `dir` (the recordings root).
fn spec(dir: &std::path::Path, name: &str, media: OutputMedia) -> OutputSpec {
    OutputSpec {
        rel_path: name.into(),
        abs_path: dir.join(name),
        root: RecordingsRoot::open(dir).unwrap(),
        encoding: Encoding {
            width: 320,
            height: 180,
            fps: 15,
            video_bps: 300_000,
            audio_bps: 64_000,
            background: Rgb::default(),
            speaking_ring: None,
            border: None,
            background_image: None,
            loudness_target_lufs: None,
        },
        encoder_threads: 1,
        x264_preset: "ultrafast".into(),
        media,
        snapshots: None,
        live_push_urls: Vec::new(),
        hls: None,
    }
}

/// (codec type, codec id) of every stream and the major brand of `path`.
fn streams(path: &std::path::Path) -> (Vec<(ff::media::Type, ff::codec::Id)>, String) {
    let ictx = ff::format::input(&path).unwrap();
    let s = ictx
        .streams()
        .map(|s| (s.parameters().medium(), s.parameters().id()))
        .collect();
    let brand = ictx.metadata().get("major_brand").unwrap_or("").to_owned();
    (s, brand)
}

#[test]
fn an_audio_only_output_is_a_fragmented_m4a_without_video_encoder() {
    crate::media::init();
    let dir = tempfile::tempdir().unwrap();
    let s = spec(dir.path(), "a.m4a", OutputMedia::Audio);
    let mut out = EncodedOutput::mp4_file(&s, Latency::Low, None).unwrap();
    assert!(!out.has_video() && out.has_audio());
    assert_eq!(out.audio_start(), SamplePos::new(1024), "AAC priming");
    let pic = frame::Video::new(Pixel::YUV420P, 320, 180);
    assert!(out.picture(&pic, 0).is_err(), "no video stream to take it");
    // 3 s of a 440 Hz tone from the sink's start.
    let blocks = 3 * 48_000 / 1024;
    for k in 0..blocks {
        let pos = SamplePos::new(1024 + k * 1024);
        let tone: Vec<f32> = (0..1024)
            .map(|i| {
                let t = (pos.get() + i) as f32 / 48_000.0;
                0.25 * (2.0 * std::f32::consts::PI * 440.0 * t).sin()
            })
            .collect();
        out.audio(&tone, &tone, pos).unwrap();
    }
    // Before the trailer (what kill -9 leaves): playable up to the last fragment
    // (0.5 s) at most.
    let cut = probe::playable(&s.abs_path).unwrap();
    assert!(
        (2_400..=3_100).contains(&cut.duration_ms),
        "{} ms playable before the trailer",
        cut.duration_ms
    );
    out.finish().unwrap();
    let done = probe::playable(&s.abs_path).unwrap();
    assert!(
        done.duration_ms.abs_diff(3_000) <= 50,
        "{} ms",
        done.duration_ms
    );
    let (st, brand) = streams(&s.abs_path);
    assert_eq!(st, [(ff::media::Type::Audio, ff::codec::Id::AAC)]);
    assert_eq!(brand.trim(), "M4A", "the ipod muxer's brand");
    assert_eq!(
        out.size_bytes(),
        std::fs::metadata(&s.abs_path).unwrap().len()
    );
}

#[test]
fn a_video_only_output_has_no_audio_encoder() {
    crate::media::init();
    let dir = tempfile::tempdir().unwrap();
    let s = spec(dir.path(), "v.mp4", OutputMedia::Video);
    let mut out = EncodedOutput::mp4_file(&s, Latency::Low, None).unwrap();
    assert!(out.has_video() && !out.has_audio());
    assert_eq!(out.audio_start(), SamplePos::ZERO);
    let silence = vec![0.0f32; 1024];
    assert!(out.audio(&silence, &silence, SamplePos::ZERO).is_err());
    let mut pic = frame::Video::new(Pixel::YUV420P, 320, 180);
    for n in 0..15u64 {
        pic.set_pts(Some(n as i64));
        out.picture(&pic, n).unwrap();
    }
    out.finish().unwrap();
    let (st, _) = streams(&s.abs_path);
    assert_eq!(st, [(ff::media::Type::Video, ff::codec::Id::H264)]);
    let done = probe::playable(&s.abs_path).unwrap();
    assert!(
        done.duration_ms.abs_diff(1_000) <= 70,
        "{} ms",
        done.duration_ms
    );
}
