//! The gRPC calls end-to-end tests make again and again; each fails the test, naming the
//! call, if the daemon answers with an error.

use cloudmixer::proto::cloud_mixer_client::CloudMixerClient;
use cloudmixer::proto::{
    mixer_event::Event, CreateCloudMixerRequest, CreateCloudMixerResponse,
    DestroyCloudMixerRequest, GetCloudMixerRequest, MixerEvent, MixerInfo, MixerState, SourceStats,
    WatchEventsRequest,
};
use tonic::transport::Channel;

/// A client of a test daemon ([`super::daemon::Daemon::client`]).
pub type Client = CloudMixerClient<Channel>;

/// CreateCloudMixer.
pub async fn create(c: &mut Client, req: CreateCloudMixerRequest) -> CreateCloudMixerResponse {
    c.create_cloud_mixer(req)
        .await
        .expect("Create")
        .into_inner()
}

/// GetCloudMixer: the mixer's info.
pub async fn info(c: &mut Client, mixer_id: &str) -> MixerInfo {
    c.get_cloud_mixer(GetCloudMixerRequest {
        mixer_id: mixer_id.into(),
    })
    .await
    .expect("Get")
    .into_inner()
}

/// GetCloudMixer: the mixer's per-source statistics, in source order.
pub async fn sources(c: &mut Client, mixer_id: &str) -> Vec<SourceStats> {
    info(c, mixer_id).await.sources
}

/// Collects one mixer's events from `stream` until it reports Stopped or Error, or
/// `limit` passes (then returns what came).
pub async fn collect_events(
    mut stream: tonic::Streaming<MixerEvent>,
    limit: std::time::Duration,
) -> Vec<MixerEvent> {
    let deadline = tokio::time::Instant::now() + limit;
    let mut out = Vec::new();
    while let Ok(Ok(Some(ev))) = tokio::time::timeout_at(deadline, stream.message()).await {
        let done = matches!(&ev.event, Some(Event::StateChanged(s))
            if s.state == MixerState::Stopped as i32 || s.state == MixerState::Error as i32);
        out.push(ev);
        if done {
            break;
        }
    }
    out
}

/// Subscribes to `mixer_id`'s events (WatchEvents) and collects them on a task
/// ([`collect_events`], bounded by `limit`); await the handle for the events.
pub async fn watch(
    c: &mut Client,
    mixer_id: &str,
    limit: std::time::Duration,
) -> tokio::task::JoinHandle<Vec<MixerEvent>> {
    let stream = c
        .watch_events(WatchEventsRequest {
            mixer_id: mixer_id.into(),
        })
        .await
        .expect("WatchEvents")
        .into_inner();
    tokio::spawn(collect_events(stream, limit))
}

/// DestroyCloudMixer (operator "e2e"): the final mixer info.
pub async fn destroy(c: &mut Client, mixer_id: &str) -> MixerInfo {
    c.destroy_cloud_mixer(DestroyCloudMixerRequest {
        mixer_id: mixer_id.into(),
        oper_user_id: "e2e".into(),
    })
    .await
    .expect("Destroy")
    .into_inner()
    .info
    .expect("Destroy returns the mixer's info")
}

/// A mixer's own clock, read from its event stream (opened before its Create): the unix
/// ms of its `Running` event is its time 0, which is also time 0 of its output file.
/// Tests measure media times against it instead of their own clock, whose start (after
/// Create returned) and stop (before Destroy was sent) are off by the calls' round trips.
/// The daemon stamps events with the system clock, as [`MixerClock::now_s`] reads it.
pub struct MixerClock {
    mixer_id: String,
    pub running_unix_ms: i64,
    events: tonic::Streaming<MixerEvent>,
}

/// The system clock, Unix ms (what the daemon stamps its events with).
pub fn unix_ms_now() -> i64 {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("system clock after 1970");
    i64::try_from(d.as_millis()).expect("ms fit i64")
}

/// CreateCloudMixer with the mixer's event stream opened first: the response and the
/// mixer's clock (its Running event seen).
pub async fn create_clocked(
    c: &mut Client,
    req: CreateCloudMixerRequest,
) -> (CreateCloudMixerResponse, MixerClock) {
    let mixer_id = req.mixer_id.clone();
    let events = c
        .watch_events(WatchEventsRequest {
            mixer_id: mixer_id.clone(),
        })
        .await
        .expect("WatchEvents")
        .into_inner();
    let created = create(c, req).await;
    let mut clock = MixerClock {
        mixer_id,
        running_unix_ms: 0,
        events,
    };
    clock.running_unix_ms = clock.state_unix_ms(MixerState::Running).await;
    (created, clock)
}

impl MixerClock {
    /// The mixer's time now, s since it entered Running: the output time of media that
    /// arrives now.
    pub fn now_s(&self) -> f64 {
        (unix_ms_now() - self.running_unix_ms) as f64 / 1000.0
    }

    /// Waits (at most 20 s) for the mixer's next StateChanged to `state`, skipping other
    /// events; its unix ms. Panics on Error or when the stream ends or the time is up.
    pub async fn state_unix_ms(&mut self, state: MixerState) -> i64 {
        let limit = std::time::Duration::from_secs(20);
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let ev = match tokio::time::timeout_at(deadline, self.events.message()).await {
                Ok(Ok(Some(ev))) => ev,
                Ok(Ok(None)) => panic!("{}: events ended before {state:?}", self.mixer_id),
                Ok(Err(e)) => panic!("{}: event stream: {e}", self.mixer_id),
                Err(_) => panic!("{}: no {state:?} within {limit:?}", self.mixer_id),
            };
            if let Some(Event::StateChanged(s)) = &ev.event {
                if s.state == state as i32 {
                    return ev.unix_ms;
                }
                assert_ne!(
                    s.state,
                    MixerState::Error as i32,
                    "{}: Error while waiting for {state:?}: {s:?}",
                    self.mixer_id
                );
            }
        }
    }

    /// Seconds of the mixer's time from Running to its Stopping event (when Destroy
    /// reached it): what the file should hold. Call after Destroy.
    pub async fn recorded_s(&mut self) -> f64 {
        let stopping = self.state_unix_ms(MixerState::Stopping).await;
        (stopping - self.running_unix_ms) as f64 / 1000.0
    }
}

/// Polls GetCloudMixer every 100 ms until `pred` holds for the mixer's first source or
/// `limit` passes; that source's statistics, or None.
pub async fn wait_first_source(
    c: &mut Client,
    mixer_id: &str,
    limit: std::time::Duration,
    pred: impl Fn(&SourceStats) -> bool,
) -> Option<SourceStats> {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let s = sources(c, mixer_id).await.into_iter().next()?;
        if pred(&s) {
            return Some(s);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// Polls GetCloudMixer every 100 ms until `done` holds; fails the test after `limit`,
/// naming `what` and the last info.
pub async fn poll_until(
    c: &mut Client,
    id: &str,
    what: &str,
    limit: std::time::Duration,
    done: impl Fn(&MixerInfo) -> bool,
) -> MixerInfo {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let got = info(c, id).await;
        if done(&got) {
            return got;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{id}: {what} not within {limit:?}: {got:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The composite's written duration in `i`, ms (0 before any): the mixer's own clock
/// for choosing sample times.
pub fn written_ms(i: &MixerInfo) -> u64 {
    i.output.as_ref().map_or(0, |o| o.duration_ms)
}

/// Waits (at most 40 s) until every source of `id` has decoded pictures and the
/// composite's written duration is at least `ms`; that duration, ms.
pub async fn wait_pictures_and_written(c: &mut Client, id: &str, ms: u64) -> u64 {
    let limit = std::time::Duration::from_secs(40);
    let got = poll_until(c, id, "pictures and output", limit, |i| {
        i.sources.iter().all(|s| s.video_frames_decoded > 0) && written_ms(i) >= ms
    })
    .await;
    written_ms(&got)
}
