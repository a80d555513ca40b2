//! The `WatchEvents` stream: bus events for one mixer (or all), as proto.
//!
//! A forwarding task per watcher moves events from the [`EventBus`] broadcast (one copy
//! of each event for all watchers) into a bounded channel of [`WATCH_BUFFER`] converted
//! events that tonic streams to the client. A watcher is cut off, with a status that says
//! why, when it
//! - falls more than [`crate::events::EVENT_BUS_CAPACITY`] events behind the bus
//!   (DATA_LOSS: "fell N events behind"), or
//! - does not take an event for its stall timeout (`serve --watch-stall-timeout-secs`,
//!   default [`DEFAULT_WATCH_STALL`]) while its buffer is full (RESOURCE_EXHAUSTED).
//!
//! In both cases the client should reconnect and resynchronize with GetCloudMixer. One
//! slot of the channel is reserved for that final status, so it arrives after the
//! buffered events. The task also ends when the client goes away or the daemon closes
//! all streams at shutdown (after pending events were forwarded).

use std::time::Duration;

use tokio::sync::{broadcast, mpsc, watch, OwnedSemaphorePermit};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use crate::api::convert;
use crate::events::EventBus;
use crate::proto;

/// Events buffered between the forwarding task and tonic, per watcher.
pub const WATCH_BUFFER: usize = 256;
/// Default time a watcher with a full buffer may go without reading before it is cut
/// off: 30 s.
pub const DEFAULT_WATCH_STALL: Duration = Duration::from_secs(30);

/// The stream type of `WatchEvents`.
pub type EventStream = ReceiverStream<Result<proto::MixerEvent, Status>>;

/// Starts forwarding events of `mixer_id` (all mixers if empty) until the client
/// disconnects, `closed` becomes true, or the watcher is cut off (module doc; `stall` is
/// its stall timeout). Must be called inside a tokio runtime.
pub fn watch_events(
    bus: &EventBus,
    mixer_id: String,
    closed: watch::Receiver<bool>,
    stall: Duration,
    slot: Option<OwnedSemaphorePermit>,
) -> EventStream {
    let rx = bus.subscribe();
    let (tx, out) = mpsc::channel(WATCH_BUFFER + 1);
    tokio::spawn(async move {
        forward(rx, tx, mixer_id, closed, stall).await;
        // The stream has ended: its slot among `--max-event-watchers` is free again.
        drop(slot);
    });
    ReceiverStream::new(out)
}

async fn forward(
    mut rx: broadcast::Receiver<crate::events::MixerEvent>,
    tx: mpsc::Sender<Result<proto::MixerEvent, Status>>,
    mixer_id: String,
    mut closed: watch::Receiver<bool>,
    stall: Duration,
) {
    // The slot for the final status; the client gone: nothing to do.
    let Ok(last_word) = tx.clone().reserve_owned().await else {
        return;
    };
    let cut_off = loop {
        tokio::select! {
            biased;
            r = rx.recv() => match r {
                Ok(e) if mixer_id.is_empty() || e.mixer_id == mixer_id => {
                    match tokio::time::timeout(stall, tx.send(Ok(convert::mixer_event(&e)))).await {
                        Ok(Ok(())) => {}
                        Ok(Err(_)) => return,
                        Err(_) => break Status::resource_exhausted(format!(
                            "event watcher read nothing for {}s with {WATCH_BUFFER} events \
                             waiting; cut off: reconnect and resynchronize with GetCloudMixer",
                            stall.as_secs()
                        )),
                    }
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(n)) => break Status::data_loss(format!(
                    "event watcher fell {n} events behind and lost them; cut off: reconnect \
                     and resynchronize with GetCloudMixer"
                )),
                Err(broadcast::error::RecvError::Closed) => return,
            },
            _ = tx.closed() => return,
            () = until_closed(&mut closed) => return,
        }
    };
    tracing::warn!(mixer_id = %mixer_id.escape_debug(), reason = %cut_off.message(), "event watcher cut off");
    last_word.send(Err(cut_off));
}

/// Resolves once `closed` is true (or its sender is gone).
async fn until_closed(closed: &mut watch::Receiver<bool>) {
    let _closed_or_gone = closed.wait_for(|c| *c).await.is_ok();
}

#[cfg(test)]
mod tests {
    use tokio_stream::StreamExt;

    use super::*;
    use crate::events::{EventKind, MixerState};

    fn state(s: MixerState) -> EventKind {
        EventKind::StateChanged {
            state: s,
            error_code: 0,
            error_message: String::new(),
            oper_user_id: String::new(),
        }
    }

    #[tokio::test]
    async fn filters_by_mixer_and_ends_on_close() {
        let bus = EventBus::new();
        let (close_tx, close_rx) = watch::channel(false);
        let mut s = watch_events(&bus, "m2".into(), close_rx, DEFAULT_WATCH_STALL, None);
        bus.emit("m1", state(MixerState::Running));
        bus.emit("m2", state(MixerState::Stopped));
        let e = s.next().await.unwrap().unwrap();
        assert_eq!(e.seq, 2);
        match e.event {
            Some(proto::mixer_event::Event::StateChanged(c)) => {
                assert_eq!(c.mixer_id, "m2");
                assert_eq!(c.state, proto::MixerState::Stopped as i32);
            }
            other => panic!("unexpected {other:?}"),
        }
        close_tx.send(true).unwrap();
        assert!(s.next().await.is_none());
    }

    #[tokio::test]
    async fn a_watcher_that_stops_reading_is_cut_off_with_a_status() {
        let bus = EventBus::new();
        let (_close_tx, close_rx) = watch::channel(false);
        let stall = Duration::from_millis(200);
        let mut s = watch_events(&bus, String::new(), close_rx, stall, None);
        for _ in 0..WATCH_BUFFER + 10 {
            bus.emit("m", state(MixerState::Running));
        }
        // Nobody reads: once the stall timeout has passed, the buffer holds the events
        // it could take plus the final status.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while s.as_ref().len() < WATCH_BUFFER + 1 {
            assert!(tokio::time::Instant::now() < deadline, "never cut off");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let mut seqs = Vec::new();
        let mut end = None;
        while let Some(item) = s.next().await {
            match item {
                Ok(e) => seqs.push(e.seq),
                Err(st) => end = Some(st),
            }
        }
        assert_eq!(seqs.len(), WATCH_BUFFER, "the buffered events arrive first");
        assert!(
            seqs.windows(2).all(|w| w[0] < w[1]),
            "seq strictly increasing"
        );
        let st = end.expect("a final status");
        assert_eq!(st.code(), tonic::Code::ResourceExhausted);
        assert!(st.message().contains("cut off"), "{}", st.message());
    }

    #[tokio::test]
    async fn seq_is_strictly_increasing_with_concurrent_emitters() {
        let bus = EventBus::new();
        let (_close_tx, close_rx) = watch::channel(false);
        let mut s = watch_events(&bus, String::new(), close_rx, DEFAULT_WATCH_STALL, None);
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let bus = bus.clone();
                std::thread::spawn(move || {
                    for _ in 0..200 {
                        bus.emit("m", state(MixerState::Running));
                    }
                })
            })
            .collect();
        let mut last = 0;
        for _ in 0..800 {
            let e = s.next().await.unwrap().unwrap();
            assert!(e.seq > last, "seq {} after {last}", e.seq);
            last = e.seq;
        }
        for t in threads {
            t.join().unwrap();
        }
    }
}
