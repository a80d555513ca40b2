//! The `speaker` layout follows a scripted conversation, by content. Two ffmpeg
//! publishers, A (red, 440 Hz) and B (blue, 1000 Hz), talk in turns with tone bursts:
//! A 0-5 s, B 5-9 s, A 9-13 s (sender time), and each interrupts the other once with a
//! louder blip shorter than 300 ms (B at 2.0 s for 200 ms, A at 7.0 s for 250 ms). The
//! detector must name A, B, A (ActiveSpeakerChanged, a dwell after each turn starts:
//! A's two 9 s apart on the mixer's output clock, B's about 5 s after A's first) and never a blip; the decoded
//! composite's main tile must go red -> blue -> red exactly once each way, switching
//! within two pictures of each event's output time, and the speaking ring (white) is
//! drawn inside the speaker's tile only.

mod common;

use std::process::Command;
use std::time::Duration;

use cloudmixer::proto::{mixer_event::Event, LayoutPreset, MixerEvent, VideoCodec};
use common::daemon::Daemon;
use common::media::{self, Rgb, BLUE, COLOUR_TOLERANCE, RED};
use common::rpc;
use common::run_bounded;
use common::sender::{spawn_ffmpeg, Codec, SenderSpec};
use common::spec;

const A: &str = "Usr1.-1";
const B: &str = "Usr2.-1";
/// Frames per second the composite is sampled at.
const SAMPLE_FPS: u32 = 20;

/// `spec`'s args with its sine replaced by a tone of `hz` gated by `gate`, an ffmpeg
/// expression of t (sender seconds) giving the amplitude.
fn gated(spec: &SenderSpec, gate: &str) -> Vec<String> {
    let hz = spec.tone_hz;
    let sine = format!("sine=frequency={hz}:sample_rate=48000");
    let wave = format!("({gate})*sin(2*PI*{hz}*t)");
    let input = format!("aevalsrc='{wave}|{wave}':s=48000:c=stereo");
    let args = spec.args();
    assert!(args.contains(&sine));
    args.into_iter()
        .map(|a| if a == sine { input.clone() } else { a })
        .collect()
}

/// The main tile's colour (centre of the 960x540 tile at 160,0) in every picture of
/// `file` sampled at [`SAMPLE_FPS`].
fn main_tile_colours(file: &std::path::Path) -> Vec<Rgb> {
    let raw = run_bounded(
        Command::new("ffmpeg").args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-i",
            &file.display().to_string(),
            "-vf",
            &format!("fps={SAMPLE_FPS},crop=64:64:608:238,scale=1:1:flags=area"),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ]),
        Duration::from_secs(60),
    );
    raw.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect()
}

fn close(a: Rgb, b: Rgb) -> bool {
    a.iter()
        .zip(b)
        .all(|(x, y)| x.abs_diff(y) <= COLOUR_TOLERANCE)
}

/// Runs of the same colour name: (name, first sample index, samples).
fn runs(colours: &[Rgb]) -> Vec<(&'static str, usize, usize)> {
    let mut out: Vec<(&'static str, usize, usize)> = Vec::new();
    for (i, c) in colours.iter().enumerate() {
        let name = if close(*c, RED) {
            "red"
        } else if close(*c, BLUE) {
            "blue"
        } else {
            "other"
        };
        match out.last_mut() {
            Some((n, _, len)) if *n == name => *len += 1,
            _ => out.push((name, i, 1)),
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_speaker_layout_follows_turns_and_ignores_blips() {
    let d = Daemon::start();
    let mut c = d.client().await;
    let id = "speaker";
    let collected = rpc::watch(&mut c, id, Duration::from_secs(60)).await;
    let mut req = spec::create_request(
        id,
        vec![
            spec::source(A, Some((VideoCodec::Vp8, 96)), true),
            spec::source(B, Some((VideoCodec::H264, 102)), true),
        ],
        Vec::new(),
        "e2e/speaker.mp4",
    );
    let cfg = req.video_file_cfg.as_mut().expect("cfg");
    cfg.layout_preset = Some(LayoutPreset {
        name: "speaker".into(),
        ..Default::default()
    });
    cfg.speaking_ring_color = "#FFFFFF".into();
    let created = rpc::create(&mut c, req).await;
    let spec_a = SenderSpec {
        duration: Duration::from_secs(13),
        ..SenderSpec::solid_to("red", Codec::Vp8, 440, &created.source_ports[0])
    };
    let spec_b = SenderSpec {
        duration: Duration::from_secs(13),
        ..SenderSpec::solid_to("blue", Codec::H264, 1000, &created.source_ports[1])
    };
    let mut a = spawn_ffmpeg(gated(
        &spec_a,
        "0.3*(between(t,0,5)+between(t,9,13))+0.5*between(t,7,7.25)",
    ));
    let mut b = spawn_ffmpeg(gated(&spec_b, "0.3*between(t,5,9)+0.5*between(t,2,2.2)"));
    for p in [&mut a, &mut b] {
        let st = tokio::task::block_in_place(|| p.wait()).expect("sender ran");
        assert!(st.success());
    }
    let info = rpc::destroy(&mut c, id).await;
    let evs: Vec<MixerEvent> = collected.await.expect("events");
    let speakers: Vec<(String, i64)> = evs
        .iter()
        .filter_map(|e| match &e.event {
            Some(Event::ActiveSpeakerChanged(s)) => Some((s.camid.clone(), s.output_ms)),
            _ => None,
        })
        .collect();
    let names: Vec<&str> = speakers.iter().map(|(c, _)| c.as_str()).collect();
    assert_eq!(names, [A, B, A], "{speakers:?}");
    // A's two turns start 9 s apart on A's own clock: its switches are 9 s apart. B's
    // switch sits 5 s after A's first, give or take how much later B's ffmpeg started.
    let gap = |i: usize| speakers[i + 1].1 - speakers[i].1;
    assert!(
        (8_850..=9_150).contains(&(gap(0) + gap(1))),
        "A -> A {speakers:?}"
    );
    assert!((4_500..=5_500).contains(&gap(0)), "A -> B {speakers:?}");

    let file = d.recordings().join(info.output.expect("output").path);
    let colours = main_tile_colours(&file);
    let mut r = runs(&colours);
    // Before the first picture and after the last the tile shows the background.
    if r.first().is_some_and(|x| x.0 == "other") {
        r.remove(0);
    }
    if r.last().is_some_and(|x| x.0 == "other") {
        r.pop();
    }
    let shown: Vec<&str> = r.iter().map(|x| x.0).collect();
    assert_eq!(
        shown,
        ["red", "blue", "red"],
        "main tile runs (name, first sample, samples at {SAMPLE_FPS} fps): {r:?}"
    );
    // Mid-turn of B: a white ring inside the main tile (B's), none on A's strip tile.
    let (_, first, len) = r[1];
    let mid_s = (first + len / 2) as f64 / f64::from(SAMPLE_FPS);
    let f = media::frame_at(&file, mid_s, 1280, 720);
    let px = |x: u32, y: u32| {
        let i = ((y * 1280 + x) * 3) as usize;
        [f.rgb[i], f.rgb[i + 1], f.rgb[i + 2]]
    };
    for (x, y) in [(161, 270), (640, 1), (1117, 270), (640, 538)] {
        assert!(
            close(px(x, y), [255, 255, 255]),
            "ring at ({x}, {y}): {:?}",
            px(x, y)
        );
    }
    assert!(
        close(px(640, 270), BLUE),
        "inside the ring, B: {:?}",
        px(640, 270)
    );
    assert!(
        close(px(2, 630), RED),
        "A's strip tile has no ring: {:?}",
        px(2, 630)
    );

    // Each switch lands within two pictures (15 fps) of its event's output time: the
    // audio up to picture n's time is mixed after picture n is composited, so a block
    // decided then shows from picture n + 1. Sampling adds up to one sample period.
    let sample_ms = 1000 / i64::from(SAMPLE_FPS);
    for (k, (_, first, _)) in r.iter().enumerate().skip(1) {
        let shown_ms = *first as i64 * sample_ms;
        let event_ms = speakers[k].1;
        assert!(
            (event_ms - sample_ms..=event_ms + 134 + sample_ms).contains(&shown_ms),
            "switch {k} shown at {shown_ms} ms, decided at {event_ms} ms: {r:?}"
        );
    }
}
