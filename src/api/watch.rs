//! The `WatchEvents` stream: bus events for one mixer (or all), as proto.
//!
//! A forwarding task per watcher moves events from the [`EventBus`] broadcast into a
//! bounded channel of [`WATCH_BUFFER`] events that tonic streams to the client. A watcher
//! that falls more than [`crate::events::EVENT_BUS_CAPACITY`] events behind loses the
//! oldest (logged as a warning) and continues. The task ends when the client goes away
//! or the daemon closes all streams at shutdown (after pending events were forwarded).

use tokio::sync::{broadcast, mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use crate::api::convert;
use crate::events::EventBus;
use crate::proto;

/// Events buffered between the forwarding task and tonic, per watcher.
pub const WATCH_BUFFER: usize = 256;

/// The stream type of `WatchEvents`.
pub type EventStream = ReceiverStream<Result<proto::MixerEvent, Status>>;

/// Starts forwarding events of `mixer_id` (all mixers if empty) until the client
/// disconnects or `closed` becomes true. Must be called inside a tokio runtime.
pub fn watch_events(
    bus: &EventBus,
    mixer_id: String,
    closed: watch::Receiver<bool>,
) -> EventStream {
    let rx = bus.subscribe();
    let (tx, out) = mpsc::channel(WATCH_BUFFER);
    tokio::spawn(forward(rx, tx, mixer_id, closed));
    ReceiverStream::new(out)
}

async fn forward(
    mut rx: broadcast::Receiver<crate::events::MixerEvent>,
    tx: mpsc::Sender<Result<proto::MixerEvent, Status>>,
    mixer_id: String,
    mut closed: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            biased;
            r = rx.recv() => match r {
                Ok(e) if mixer_id.is_empty() || e.mixer_id == mixer_id => {
                    if tx.send(Ok(convert::mixer_event(&e))).await.is_err() {
                        break;
                    }
                }
                Ok(_) => {}
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    tracing::warn!(lost = n, mixer_id = %mixer_id, "event watcher fell behind; oldest events dropped");
                }
                Err(broadcast::error::RecvError::Closed) => break,
            },
            _ = tx.closed() => break,
            () = until_closed(&mut closed) => break,
        }
    }
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
        let mut s = watch_events(&bus, "m2".into(), close_rx);
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
}
