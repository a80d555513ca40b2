//! Media timing through the whole pipeline, measured on the sync test pattern
//! (tests/common/sync_pattern.rs): two participants flash and beep once per second with
//! different phases; the output must keep each participant's flash with its beep and the
//! participants with each other.

mod common;

use std::time::Duration;

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
