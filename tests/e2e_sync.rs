//! Media timing through the whole pipeline, measured on the sync test pattern
//! (tests/common/sync_pattern.rs): two participants flash and beep once per second with
//! different phases; the output must keep each participant's flash with its beep and the
//! participants with each other.

mod common;

use std::time::Duration;

use common::decodable;
use common::sender::Codec;
use common::sync_pattern::FLASH_S;
use common::sync_run::{self, SyncReport};

/// Lip-sync and cross-participant tolerance (issue 4): one frame at 50 fps. The video
/// onset is quantized to the output's 20 ms frame grid (a perfect pipeline measures
/// flash − beep in [0, 20) ms), so this bounds the pipeline's own error to 20 ms early
/// and to 0-20 ms late depending on where the flash fell between output frames.
const SYNC_TOLERANCE_S: f64 = 0.020;
/// Slack of the measurement itself: the beep onset is found on a 1 ms grid.
const MEASURE_SLACK_S: f64 = 0.001;

fn check_sync(r: &SyncReport, expect_flashes: usize) {
    eprintln!("{}", r.summary());
    for i in 0..2 {
        assert!(
            r.av_offsets[i].len() + 1 >= expect_flashes,
            "participant {i}: {} flashes matched to beeps, want >= {}",
            r.av_offsets[i].len(),
            expect_flashes - 1
        );
    }
    assert!(
        r.worst_abs() <= SYNC_TOLERANCE_S + MEASURE_SLACK_S,
        "worst offset {:.1} ms > {} ms",
        r.worst_abs() * 1e3,
        SYNC_TOLERANCE_S * 1e3
    );
    assert_eq!(r.frame_rate, "50/1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flash_and_beep_stay_together_per_participant_and_across_participants() {
    let r = sync_run::run(
        "sync-clean",
        Duration::from_secs(12),
        1.0,
        Box::new(|a| a),
        Duration::from_millis(500),
    )
    .await;
    check_sync(&r, 10);
}

/// Median of `v` (0 if empty).
fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    s.get(s.len() / 2).copied().unwrap_or(0.0)
}

/// File durations against each other and the time recorded (the mixer's Running to
/// Stopping events): one output frame (20 ms), plus [`WALL_SLACK_S`]: the events' ms
/// stamps, and the Running event following the mixer's time 0 (the epoch is taken before
/// its source and tick threads start; video exceeded Running -> Stopping by 36 ms, i.e.
/// 16 ms past one frame, on a 2-core host under a parallel build). The same 30 ms as when
/// the test timed the recording with its own clock, now for that reason only.
const FRAME_S: f64 = 0.020;
const WALL_SLACK_S: f64 = 0.030;

fn check_durations(r: &SyncReport) {
    assert!(
        (r.video_s - r.audio_s).abs() <= FRAME_S,
        "video {:.3} s vs audio {:.3} s",
        r.video_s,
        r.audio_s
    );
    assert!(
        (r.video_s - r.recorded_s).abs() <= FRAME_S + WALL_SLACK_S,
        "video {:.3} s vs {:.3} s recorded",
        r.video_s,
        r.recorded_s
    );
}

/// 60 s through a seeded relay per stream: 5 % loss, 0-50 ms jitter (about 20 % of the
/// packets reordered). Was intermittent (A's beeps found up to 90 ms late, some missed):
/// the onset threshold was half the track's overall peak, and a CELT frame decoded after
/// a lost packet can be 2x too loud (see src/mixer/audio_stage.rs); the threshold is now
/// half the beep's median level.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_seconds_through_five_percent_loss_and_fifty_ms_of_jitter() {
    use common::lossy_relay::{Impairment, LossyRelay};
    use std::net::SocketAddr;
    use std::sync::{Arc, Mutex};

    let relays: Arc<Mutex<Vec<LossyRelay>>> = Arc::default();
    let keep = relays.clone();
    let route = Box::new(move |to: SocketAddr| {
        let mut v = keep.lock().unwrap();
        let r = LossyRelay::start(
            to,
            Impairment {
                loss: 0.05,
                jitter: Duration::from_millis(50),
                seed: 0xC10D_0000 + v.len() as u64,
            },
        );
        let at = SocketAddr::from(([127, 0, 0, 1], r.port));
        v.push(r);
        at
    });
    let r = sync_run::run(
        "sync-lossy",
        Duration::from_secs(60),
        1.0,
        route,
        Duration::from_millis(500),
    )
    .await;
    let mut dropped = Vec::new();
    for (i, relay) in relays.lock().unwrap().iter().enumerate() {
        use std::sync::atomic::Ordering::Relaxed;
        let c = &relay.counts;
        dropped.push(c.dropped.load(Relaxed));
        eprintln!(
            "relay {i}: {} datagrams, {} dropped, {} reordered",
            c.received.load(Relaxed),
            c.dropped.load(Relaxed),
            c.reordered.load(Relaxed)
        );
    }
    eprintln!("{}", r.summary());
    check_durations(&r);
    assert_eq!(r.frame_rate, "50/1");
    for (i, v) in r.av_offsets.iter().enumerate() {
        eprintln!(
            "participant {i}: median flash-beep {:.1} ms",
            median(v) * 1e3
        );
    }
    eprintln!(
        "median B-A video {:.1} ms, audio {:.1} ms",
        median(&r.video_cross) * 1e3,
        median(&r.audio_cross) * 1e3
    );
    // Lost packets shift single onsets by a packet or a frame; the timing itself (what
    // the mapping and the audio placement do) must stay within tolerance: medians.
    let medians = [
        median(&r.av_offsets[0]),
        median(&r.av_offsets[1]),
        median(&r.video_cross),
        median(&r.audio_cross),
    ];
    assert!(
        medians
            .iter()
            .all(|m| m.abs() <= SYNC_TOLERANCE_S + MEASURE_SLACK_S),
        "medians {medians:?}"
    );
    // Lost audio is concealed (Opus PLC), not left silent: relays 1 and 3 carry the
    // audio. A gap of more than 5 packets in a row stays silent by design, which at 5 %
    // random loss is rare.
    for (i, relay) in [1, 3].into_iter().enumerate() {
        let (lost, concealed) = (dropped[relay], r.audio_frames_concealed[i]);
        assert!(
            concealed * 10 >= lost * 9 && concealed <= lost,
            "participant {i}: {concealed} of {lost} lost audio packets concealed"
        );
    }
    // Liveness, frame-exact: from the packets each video relay forwarded and dropped,
    // tests/common/decodable.rs computes which frames a receiver can show (intact and
    // a keyframe or following a shown frame) and so which seconds' flashes must appear:
    // a tile is live again at the first intact keyframe after a loss (ffmpeg ignores our
    // PLIs, so that is its next periodic or scene-cut keyframe) and shows nothing broken
    // meanwhile. The model assumes the mixer lost just what the relay dropped; it is
    // compared in every run (see below).
    let logs: Vec<Vec<common::lossy_relay::Logged>> = relays
        .lock()
        .unwrap()
        .iter()
        .map(|r| r.counts.log.lock().unwrap().clone())
        .collect();
    let seconds = |onsets: &[f64], phase: f64| -> Vec<i64> {
        onsets
            .iter()
            .map(|t| (t - phase + 0.3).floor() as i64)
            .filter(|k| (1..=58).contains(k))
            .collect()
    };
    for (i, codec) in [Codec::Vp8, Codec::H264].into_iter().enumerate() {
        let phase = sync_run::PHASES[i];
        let frames = decodable::frames(codec, &logs[2 * i]);
        let bright = |t: f64| (t + 1.0 - phase).rem_euclid(1.0) < FLASH_S;
        let want = seconds(&decodable::expected_onsets(&frames, bright, 2.0), phase);
        let got = seconds(&r.flash_times[i], phase);
        let shown = frames.iter().filter(|f| f.shown).count();
        eprintln!(
            "participant {i}: {} frames, {} keyframes, {shown} showable; flash seconds \
             expected {want:?}, shown {got:?}",
            frames.len(),
            frames.iter().filter(|f| f.keyframe).count()
        );
        let relay_dropped = dropped[2 * i] + dropped[2 * i + 1];
        assert!(
            r.packets_lost[i] <= relay_dropped + 10,
            "participant {i}: the mixer lost {} packets, the relay dropped {relay_dropped}",
            r.packets_lost[i]
        );
        // Compared in every run, whatever the two loss counts say. They differ without
        // changing what the mixer can show when the relay dropped a stream's first or
        // last packets (the mixer counts only gaps between packets it received; the model
        // shows nothing of those frames either). They differ in a way that does change
        // it when the mixer lost packets the relay forwarded (late past the jitter
        // buffer's wait, or a full queue): then a flash the model shows is missing, and
        // the message says so.
        let why = if r.packets_lost[i] > relay_dropped {
            "the mixer lost more than the relay dropped: packets it received too late \
             or dropped itself, which the model does not include"
        } else {
            "the mixer lost no more than the relay dropped"
        };
        assert_eq!(
            got, want,
            "participant {i}: flash seconds shown (left) vs showable by the relay's log \
             (right); the mixer lost {} packets, the relay dropped {relay_dropped}: {why}",
            r.packets_lost[i]
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_clock_running_a_tenth_of_a_percent_fast_does_not_drift_apart() {
    let r = sync_run::run(
        "sync-drift",
        Duration::from_secs(180),
        1.001,
        Box::new(|a| a),
        Duration::from_millis(500),
    )
    .await;
    eprintln!("{}", r.summary());
    check_durations(&r);
    assert_eq!(r.frame_rate, "50/1");
    // Uncorrected, 0.1 % is 180 ms over the 3 min run; corrected, each quarter's median stays
    // within tolerance and the last quarter's differs from the first by at most
    // MAX_GROWTH_S.
    for (what, v) in [
        ("A flash-beep", &r.av_offsets[0]),
        ("B flash-beep", &r.av_offsets[1]),
        ("B-A video", &r.video_cross),
        ("B-A audio", &r.audio_cross),
    ] {
        let q = v.len() / 4;
        assert!(q >= 20, "{what}: only {} pairs", v.len());
        let quarters: Vec<f64> = v.chunks(q).take(4).map(median).collect();
        eprintln!("{what}: quarter medians {quarters:.4?} s");
        assert!(
            quarters
                .iter()
                .all(|m| m.abs() <= SYNC_TOLERANCE_S + MEASURE_SLACK_S),
            "{what}: quarter medians {quarters:?}"
        );
        assert!(
            (quarters[3] - quarters[0]).abs() <= MAX_GROWTH_S,
            "{what}: offset grew from {:.1} to {:.1} ms",
            quarters[0] * 1e3,
            quarters[3] * 1e3
        );
    }
}

/// How much an offset may change between the first and the last quarter of the drift
/// run: the audio placement's correction band (4 ms) plus the beep's 1 ms grid.
const MAX_GROWTH_S: f64 = 0.005;

/// Not a test: re-measures a kept output file (`CLOUDMIXER_SYNC_FILE=/tmp/cloudmixer-
/// sync-lossy.mp4 cargo test --test e2e_sync measure -- --ignored --nocapture`), e.g. to
/// check a change of the measurement against a failed run's file.
#[test]
#[ignore = "helper: needs CLOUDMIXER_SYNC_FILE"]
fn measure_a_kept_output_file() {
    let file = std::env::var("CLOUDMIXER_SYNC_FILE").expect("CLOUDMIXER_SYNC_FILE");
    let r = sync_run::measure(std::path::Path::new(&file), 0.0);
    eprintln!("{}", r.summary());
    for (i, v) in r.av_offsets.iter().enumerate() {
        eprintln!(
            "participant {i}: median flash-beep {:.1} ms",
            median(v) * 1e3
        );
    }
}
