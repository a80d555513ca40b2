//! End to end: in every record mode, every output a mixer lists (GetCloudMixer /
//! Destroy's final info) and every output its events name end FINALIZED, with sizes
//! matching the files and durations and sizes that only grow, event after event.
//!
//! Modes, one mixer each, two ffmpeg senders (red VP8 + 440 Hz, blue H.264 + 1000 Hz):
//! mixed; mixed with record_video off (the composite is an audio-only .m4a); both
//! (composite + each participant's `av` and `audio` files); single (no composite).

mod common;

use std::time::Duration;

use cloudmixer::proto::{MixerInfo, MixerState, OutputKind, OutputMedia, RecordCfg, RecordMode};
use common::daemon::Daemon;
use common::outputs::check_all_finalized;
use common::rpc::{self, Client};
use common::sender::{Codec, SenderSpec};
use common::spec;

const A: &str = "Usr1.-1";
const B: &str = "Usr2.-1";
/// Recording time after both senders are heard, s: long enough for several
/// OutputInfoChanged events per output (at least one a second).
const RECORD_S: u64 = 4;
/// Bound of every wait for senders to be heard and for the event stream to end.
const LIMIT: Duration = Duration::from_secs(40);

/// Waits until both sources of `id` have received audio and video.
async fn wait_heard(c: &mut Client, id: &str) {
    let deadline = tokio::time::Instant::now() + LIMIT;
    loop {
        let info = rpc::info(c, id).await;
        if info
            .sources
            .iter()
            .all(|s| s.audio_packets > 0 && s.video_packets > 0)
        {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{id}: not heard: {:?}",
            info.sources
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs one mixer with `cfg` and checks its outputs are exactly `want` and all final.
async fn run(d: &Daemon, id: &str, cfg: Option<RecordCfg>, want: &[&str]) -> MixerInfo {
    let mut c = d.client().await;
    let events = rpc::watch(&mut c, id, LIMIT * 2).await;
    let created = rpc::create(
        &mut c,
        spec::duo_request(id, (A, B), &format!("final/{id}.mp4"), cfg),
    )
    .await;
    let _a = SenderSpec::solid_to("red", Codec::Vp8, 440, &created.source_ports[0]).start();
    let _b = SenderSpec::solid_to("blue", Codec::H264, 1000, &created.source_ports[1]).start();
    wait_heard(&mut c, id).await;
    tokio::time::sleep(Duration::from_secs(RECORD_S)).await;
    // GetCloudMixer while running lists the same outputs, none final yet.
    let running = rpc::info(&mut c, id).await;
    let mut listed: Vec<&str> = running
        .outputs
        .iter()
        .map(|o| o.output_id.as_str())
        .collect();
    listed.sort_unstable();
    let mut sorted = want.to_vec();
    sorted.sort_unstable();
    assert_eq!(listed, sorted, "{id}: outputs while running");
    let last = rpc::destroy(&mut c, id).await;
    assert_eq!(last.state, MixerState::Stopped as i32, "{last:?}");
    let evs = tokio::time::timeout(LIMIT, events)
        .await
        .expect("event stream ends")
        .unwrap();
    // RECORD_S s of media: at least RECORD_S - 1 growing events, then the final one.
    check_all_finalized(&last, &evs, &d.recordings(), want, RECORD_S as usize);
    if let Some(mixed) = last
        .outputs
        .iter()
        .find(|o| o.kind == OutputKind::Mixed as i32)
    {
        assert_eq!(
            last.output.as_ref(),
            Some(mixed),
            "{id}: output is the composite"
        );
    } else {
        assert!(last.output.is_none(), "{id}: {last:?}");
    }
    last
}

fn cfg(mode: RecordMode) -> RecordCfg {
    RecordCfg {
        mode: mode as i32,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_output_of_every_mode_ends_finalized() {
    let d = Daemon::start();
    let singles = [
        "Usr1.-1/audio/1",
        "Usr1.-1/av/1",
        "Usr2.-1/audio/1",
        "Usr2.-1/av/1",
    ];
    run(&d, "final-mixed", None, &["mixed"]).await;
    let audio_only = RecordCfg {
        record_video: Some(false),
        ..Default::default()
    };
    let m4a = run(&d, "final-m4a", Some(audio_only), &["mixed"]).await;
    let mut both = vec!["mixed"];
    both.extend(singles);
    run(
        &d,
        "final-both",
        Some(cfg(RecordMode::MixedAndSingle)),
        &both,
    )
    .await;
    run(&d, "final-single", Some(cfg(RecordMode::Single)), &singles).await;
    // The audio-only composite really is one.
    let out = m4a.output.expect("composite");
    assert_eq!(
        (out.media, out.container.as_str()),
        (OutputMedia::Audio as i32, "m4a")
    );
}
