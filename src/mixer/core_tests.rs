//! The mixing core with a test sink (no encoder): which picture each region shows at
//! each tick, and the summed audio on the timeline.

use ffmpeg_next::format::Pixel;
use ffmpeg_next::frame;

use super::*;
use crate::model::{Region, Rgb};
use crate::time::{MixerTime, SamplePos};

/// Records what the core hands over: per picture, the luma at the centre of each region
/// (left, right), and every audio block.
#[derive(Default)]
struct TestSink {
    lumas: Vec<(u64, u8, u8)>,
    blocks: Vec<(SamplePos, Vec<f32>, Vec<f32>)>,
    finished: bool,
}

const W: u32 = 320;
const H: u32 = 160;
const FPS: u32 = 10;
const AUDIO_START: SamplePos = SamplePos::new(1024);

fn luma(pic: &frame::Video, x: usize, y: usize) -> u8 {
    pic.data(0)[y * pic.stride(0) + x]
}

impl MediaSink for TestSink {
    fn audio_start(&self) -> SamplePos {
        AUDIO_START
    }
    fn picture(&mut self, p: &frame::Video, n: u64) -> Result<(), MixerError> {
        assert_eq!((p.width(), p.height(), p.format()), (W, H, Pixel::YUV420P));
        assert_eq!(p.pts(), Some(n as i64), "pts = picture number");
        let (y, lx, rx) = (H as usize / 2, W as usize / 4, 3 * W as usize / 4);
        self.lumas.push((n, luma(p, lx, y), luma(p, rx, y)));
        Ok(())
    }
    fn audio(&mut self, l: &[f32], r: &[f32], pos: SamplePos) -> Result<(), MixerError> {
        self.blocks.push((pos, l.to_vec(), r.to_vec()));
        Ok(())
    }
    fn finish(&mut self) -> Result<(), MixerError> {
        self.finished = true;
        Ok(())
    }
}

/// A `w`x`h` YUV420P picture of luma `y` (neutral chroma).
fn grey(y: u8) -> frame::Video {
    let mut f = frame::Video::new(Pixel::YUV420P, 64, 48);
    f.data_mut(0).fill(y);
    f.data_mut(1).fill(128);
    f.data_mut(2).fill(128);
    f
}

fn region(camid: &str, left: u32) -> Region {
    Region {
        camid: camid.into(),
        top: 0,
        left,
        width: W / 2,
        height: H,
        keep_aspect_ratio: false,
        z_order: None,
        placeholder: None,
    }
}

fn core(stale_ms: u64) -> (MixCore, SourceSlot, SourceSlot) {
    core_producing(stale_ms, Produce::AV)
}

fn core_producing(stale_ms: u64, produce: Produce) -> (MixCore, SourceSlot, SourceSlot) {
    crate::media::init();
    let layout = Layout {
        regions: vec![region("a", 0), region("b", W / 2)],
    };
    let canvas = Encoding {
        width: W,
        height: H,
        fps: FPS,
        video_bps: 0,
        audio_bps: 0,
        background: Rgb { r: 0, g: 0, b: 0 },
        speaking_ring: None,
        border: None,
        background_image: None,
        loudness_target_lufs: None,
    };
    let mut core = MixCore::producing(&canvas, layout, AUDIO_START, produce);
    let stale = std::time::Duration::from_millis(stale_ms);
    let (a, b) = (SourceSlot::new("a", stale), SourceSlot::new("b", stale));
    core.add_slot(a.clone());
    core.add_slot(b.clone());
    (core, a, b)
}

fn ms(t: i64) -> MixerTime {
    MixerTime::from_millis(t)
}

/// Luma of black (BT.601 limited range).
const BLACK: u8 = 16;

fn near(v: u8, want: u8) -> bool {
    v.abs_diff(want) <= 2
}

#[test]
fn each_region_shows_the_newest_due_picture_then_the_placeholder_when_stale() {
    let (mut core, a, b) = core(300);
    // a: 200 at 0 ms, 60 at 150 ms; b: 120 at 100 ms only.
    a.frames.lock().push(ms(0), grey(200));
    a.frames.lock().push(ms(150), grey(60));
    b.frames.lock().push(ms(100), grey(120));
    let mut sink = TestSink::default();
    for _ in 0..6 {
        core.tick(&mut sink).unwrap();
    }
    // (picture, left = a, right = b) at t = n * 100 ms.
    let want = [
        (0, 200, BLACK), // b has nothing yet: background
        (1, 200, 120),   // 150 ms is not due at 100 ms
        (2, 60, 120),    // a's second picture is due
        (3, 60, 120),
        (4, 60, 120),      // b's picture (100 ms) is exactly 300 ms old: still shown
        (5, BLACK, BLACK), // both older than 300 ms: placeholders
    ];
    for ((n, l, r), (wn, wl, wr)) in sink.lumas.iter().zip(want) {
        assert_eq!(*n, wn);
        assert!(
            near(*l, wl) && near(*r, wr),
            "picture {n}: got ({l}, {r}), want ({wl}, {wr})"
        );
    }
    assert_eq!(sink.lumas.len(), 6);
    assert!(core.shown().is_empty(), "nothing live at 500 ms");
}

#[test]
fn a_removed_source_shows_its_placeholder_and_a_layout_change_applies_next_tick() {
    let (mut core, a, b) = core(2000);
    a.frames.lock().push(ms(0), grey(200));
    b.frames.lock().push(ms(0), grey(120));
    let mut sink = TestSink::default();
    core.tick(&mut sink).unwrap();
    core.remove_slot("b");
    core.tick(&mut sink).unwrap();
    // Swap the regions: a on the right.
    core.set_layout(Layout {
        regions: vec![region("a", W / 2)],
    });
    core.tick(&mut sink).unwrap();
    let got: Vec<(u8, u8)> = sink.lumas.iter().map(|&(_, l, r)| (l, r)).collect();
    let want = [(200, 120), (200, BLACK), (BLACK, 200)];
    for (g, w) in got.iter().zip(want) {
        assert!(
            near(g.0, w.0) && near(g.1, w.1),
            "got {got:?}, want {want:?}"
        );
    }
}

#[test]
fn audio_is_the_sum_of_the_sources_in_blocks_from_the_sink_start() {
    let (mut core, a, b) = core(2000);
    let n = 48_000usize; // 1 s of each source from sample 0
    a.audio
        .lock()
        .write(SamplePos::ZERO, &vec![0.25; n], &vec![-0.25; n]);
    b.audio
        .lock()
        .write(SamplePos::ZERO, &vec![0.375; n], &vec![-0.125; n]);
    let mut sink = TestSink::default();
    for _ in 0..5 {
        core.tick(&mut sink).unwrap(); // up to 400 ms = 19200 samples
    }
    // Blocks start at AUDIO_START and end at or before 400 ms: (19200 - 1024) / 1024.
    let positions: Vec<SamplePos> = sink.blocks.iter().map(|b| b.0).collect();
    let want: Vec<SamplePos> = (0..17).map(|k| AUDIO_START.plus(k * 1024)).collect();
    assert_eq!(positions, want);
    // Under the limiter's ceiling (-3 dBFS, 0.708): the exact sum, not delayed.
    for (pos, l, r) in &sink.blocks {
        assert!(
            l.iter().all(|&s| s == 0.625),
            "left at {pos:?}: 0.25 + 0.375"
        );
        assert!(r.iter().all(|&s| s == -0.375), "right at {pos:?}");
    }
    assert_eq!(core.limited_samples(), 0);
    // finish mixes up to the end of the last picture (500 ms = 24000 samples), then
    // finishes the sink.
    core.finish(&mut sink).unwrap();
    assert!(sink.finished);
    let end = sink.blocks.last().map(|b| b.0.get() + 1024).unwrap();
    assert!(
        (24_000..24_000 + 1024).contains(&end),
        "audio ends at {end}"
    );
    assert_eq!(core.duration_ms(), 500);
}

#[test]
fn a_sum_beyond_the_ceiling_is_limited_and_gains_apply_per_source() {
    let (mut core, a, b) = core(2000);
    let n = 5 * 48_000usize;
    a.audio
        .lock()
        .write(SamplePos::ZERO, &vec![0.5; n], &vec![-0.25; n]);
    b.audio
        .lock()
        .write(SamplePos::ZERO, &vec![0.5; n], &vec![-0.875; n]);
    let mut sink = TestSink::default();
    for _ in 0..3 {
        core.tick(&mut sink).unwrap();
    }
    let ceiling = crate::audio::limiter::db_to_linear(DEFAULT_CEILING_DBFS);
    for (pos, l, r) in &sink.blocks {
        let peak = l.iter().chain(r).fold(0f32, |m, v| m.max(v.abs()));
        assert!(peak <= ceiling + 1e-6, "peak {peak} at {pos:?}");
    }
    assert!(core.limited_samples() > 0);
    // b muted: the next block ramps down, the one after is a's alone (0.5, under the
    // ceiling once the limiter has released: 100 ms time constant, so wait 1 s).
    b.set_gain(0.0);
    a.set_gain(1.0);
    for _ in 0..12 {
        core.tick(&mut sink).unwrap();
    }
    let (_, l, r) = sink.blocks.last().unwrap();
    assert!(
        l.iter().all(|&s| (s - 0.5).abs() < 1e-3),
        "a alone: {:?}",
        &l[..4]
    );
    assert!(
        r.iter().all(|&s| (s + 0.25).abs() < 1e-3),
        "a alone: {:?}",
        &r[..4]
    );
    // -6 dB on a: half its amplitude.
    a.set_gain(crate::audio::limiter::db_to_linear(-6.0206));
    for _ in 0..2 {
        core.tick(&mut sink).unwrap();
    }
    let (_, l, _) = sink.blocks.last().unwrap();
    assert!(
        l.iter().all(|&s| (s - 0.25).abs() < 1e-3),
        "a at -6 dB: {:?}",
        &l[..4]
    );
}

/// Two sources with a picture each and 1 s of constant audio from sample 0.
fn feed(a: &SourceSlot, b: &SourceSlot) {
    a.frames.lock().push(ms(0), grey(200));
    b.frames.lock().push(ms(0), grey(120));
    let n = 48_000usize;
    a.audio
        .lock()
        .write(SamplePos::ZERO, &vec![0.25; n], &vec![0.25; n]);
    b.audio
        .lock()
        .write(SamplePos::ZERO, &vec![0.375; n], &vec![0.375; n]);
}

#[test]
fn an_audio_only_core_mixes_every_block_and_hands_over_no_picture() {
    let produce = Produce::of(Some(crate::model::OutputMedia::Audio));
    assert_eq!(
        produce,
        Produce {
            video: false,
            audio: true
        }
    );
    let (mut core, a, b) = core_producing(2000, produce);
    feed(&a, &b);
    let mut sink = TestSink::default();
    for _ in 0..5 {
        core.tick(&mut sink).unwrap();
    }
    assert!(sink.lumas.is_empty(), "no picture without video");
    assert!(core.shown().is_empty(), "nothing composited");
    assert_eq!(core.frames_out(), 5, "the ticks still count");
    // The same blocks as with video: 17 up to 400 ms, the sum of both sources.
    let positions: Vec<SamplePos> = sink.blocks.iter().map(|b| b.0).collect();
    let want: Vec<SamplePos> = (0..17).map(|k| AUDIO_START.plus(k * 1024)).collect();
    assert_eq!(positions, want);
    assert!(sink
        .blocks
        .iter()
        .all(|(_, l, _)| l.iter().all(|&s| s == 0.625)));
    // Duration counts audio: 18 blocks end at sample 18432 = 384 ms.
    assert_eq!(core.duration_ms(), 384);
    core.finish(&mut sink).unwrap();
    assert!(sink.finished);
    // Mixed to the end of the last tick (500 ms = 24000 samples): 24 blocks end at
    // 24576 samples = 512 ms.
    assert_eq!(sink.blocks.len(), 23);
    assert_eq!(core.duration_ms(), 512);
}

#[test]
fn a_core_without_composite_produces_nothing_but_keeps_its_pace() {
    let (mut core, a, b) = core_producing(2000, Produce::of(None));
    assert_eq!(core.produce(), Produce::NOTHING);
    feed(&a, &b);
    let mut sink = TestSink::default();
    for _ in 0..5 {
        core.tick(&mut sink).unwrap();
    }
    core.finish(&mut sink).unwrap();
    assert!(sink.lumas.is_empty() && sink.blocks.is_empty());
    assert!(sink.finished, "finish still reaches the sink");
    assert_eq!(core.frames_out(), 5);
    assert_eq!(core.picture_time(core.frames_out()), ms(500));
    assert_eq!(core.duration_ms(), 0, "no composite, no media");
}

#[test]
fn a_video_only_core_mixes_no_audio() {
    let produce = Produce::of(Some(crate::model::OutputMedia::Video));
    let (mut core, a, b) = core_producing(2000, produce);
    feed(&a, &b);
    let mut sink = TestSink::default();
    for _ in 0..5 {
        core.tick(&mut sink).unwrap();
    }
    core.finish(&mut sink).unwrap();
    assert_eq!(sink.lumas.len(), 5);
    assert!(sink.blocks.is_empty());
    assert_eq!(core.duration_ms(), 500);
}
