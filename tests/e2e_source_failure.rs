//! A source whose worker thread dies (a panic injected with CLOUDMIXER_FAULT at its 30th
//! access unit, real ffmpeg publishers for both sources) is reported: a
//! SourceStateChanged FAILED event naming the cause, and FAILED in Get; the mixer stays
//! Running and the other source keeps decoding.

mod common;

use std::time::Duration;

use cloudmixer::proto::{
    mixer_event::Event, MixerState, SourceConnectionState, VideoCodec, WatchEventsRequest,
};
use common::daemon::Daemon;
use common::sender::{Codec, SenderSpec};
use common::{rpc, spec};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_source_worker_is_reported_and_spares_the_mixer() {
    let d = Daemon::start_with_env(
        64,
        &[],
        &[(cloudmixer::fault::FAULT_ENV, "source-panic:Doomed:30")],
    );
    let mut c = d.client().await;
    let mut watch = c
        .watch_events(WatchEventsRequest {
            mixer_id: "srcfail".into(),
        })
        .await
        .expect("WatchEvents")
        .into_inner();
    let req = spec::create_request(
        "srcfail",
        vec![
            spec::source("Doomed", Some((VideoCodec::Vp8, 96)), true),
            spec::source("Healthy", Some((VideoCodec::Vp8, 96)), true),
        ],
        spec::side_by_side("Doomed", "Healthy"),
        "srcfail.mp4",
    );
    let created = rpc::create(&mut c, req).await;
    let _senders: Vec<_> = [("red", 440), ("blue", 880)]
        .iter()
        .zip(&created.source_ports)
        .map(|(&(colour, tone), p)| {
            SenderSpec::solid(
                colour,
                Codec::Vp8,
                tone,
                p.video_rtp_port as u16,
                p.audio_rtp_port as u16,
            )
            .start()
        })
        .collect();

    // The FAILED event for Doomed, within the publishers' first seconds.
    let failed = tokio::time::timeout(Duration::from_secs(20), async {
        while let Ok(Some(e)) = watch.message().await {
            if let Some(Event::SourceStateChanged(s)) = e.event {
                if s.camid == "Doomed" {
                    return Some(s);
                }
            }
        }
        None
    })
    .await
    .ok()
    .flatten();
    let Some(failed) = failed else {
        panic!("no SourceStateChanged for the dead source:\n{}", d.log());
    };
    assert_eq!(failed.state(), SourceConnectionState::Failed, "{failed:?}");
    assert!(
        failed.reason.contains("injected fault at access unit 30"),
        "{}",
        failed.reason
    );

    // Get: Doomed FAILED, the mixer Running, Healthy still decoding.
    let info = rpc::info(&mut c, "srcfail").await;
    assert_eq!(info.state(), MixerState::Running);
    let doomed = &info.sources[0];
    assert_eq!(doomed.connection_state(), SourceConnectionState::Failed);
    let healthy_before = info.sources[1].video_frames_decoded;
    let more = common::wait_for(Duration::from_secs(10), Duration::from_millis(200), || {
        let rt = tokio::runtime::Handle::current();
        let s = tokio::task::block_in_place(|| rt.block_on(rpc::sources(&mut c, "srcfail")));
        (s[1].video_frames_decoded > healthy_before + 15).then_some(s)
    });
    let Some(later) = more else {
        panic!("the healthy source stopped decoding:\n{}", d.log());
    };
    assert_eq!(
        later[0].connection_state(),
        SourceConnectionState::Failed,
        "FAILED is final"
    );
    assert_eq!(
        later[1].connection_state(),
        SourceConnectionState::Unspecified,
        "an RTP source without failure has no connection state"
    );
    let fin = rpc::destroy(&mut c, "srcfail").await;
    assert_eq!(fin.state(), MixerState::Stopped);
}
