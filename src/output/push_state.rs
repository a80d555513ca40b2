//! The state machine of one live push (sans IO, time passed in): when to connect, how
//! long to back off after a failure, and which packets a fresh connection may carry.
//!
//! States: `Connecting` (first attempt) -> `Live` -> `Reconnecting` (after a failed
//! connect or write; attempts back off from [`FIRST_BACKOFF`] doubling to
//! [`MAX_BACKOFF`]) -> `Live` ... -> `Stopped` at the end. A push never gives up while
//! its mixer runs: a CDN ingest that comes back gets the stream again.
//!
//! After every (re)connect the stream restarts at a video keyframe: packets before the
//! first video keyframe are dropped, audio too, so a player's first picture decodes
//! and sound does not run ahead of it. The encoder's GOP is one second (`keyint=fps`),
//! so a restart waits at most a second. An output without video has no such wait.

use std::time::{Duration, Instant};

use crate::model::Medium;

/// Wait before the second attempt after a failure.
pub const FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// Longest wait between attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(8);

pub use crate::events::LivePushState as PushState;

/// See the module docs.
#[derive(Debug, Clone)]
pub struct PushCore {
    state: PushState,
    has_video: bool,
    /// Consecutive failures since the last successful connect.
    failures: u32,
    /// When the next attempt may start (None: now).
    next_attempt: Option<Instant>,
    /// Dropping packets until a video keyframe (after each connect).
    wait_keyframe: bool,
    /// Successful connects after the first.
    reconnects: u32,
}

impl PushCore {
    /// A push of an output with video (`has_video`) or audio only, about to connect.
    pub fn new(has_video: bool) -> Self {
        Self {
            state: PushState::Connecting,
            has_video,
            failures: 0,
            next_attempt: None,
            wait_keyframe: has_video,
            reconnects: 0,
        }
    }

    pub fn state(&self) -> PushState {
        self.state
    }

    /// Successful connects after the first one.
    pub fn reconnects(&self) -> u32 {
        self.reconnects
    }

    /// Whether an attempt to connect is due at `now` (not live, not stopped).
    pub fn connect_due(&self, now: Instant) -> bool {
        matches!(self.state, PushState::Connecting | PushState::Reconnecting)
            && self.next_attempt.is_none_or(|t| now >= t)
    }

    /// How long from `now` until the next attempt (zero if due; None when none is
    /// pending).
    pub fn until_attempt(&self, now: Instant) -> Option<Duration> {
        match self.state {
            PushState::Connecting | PushState::Reconnecting => Some(
                self.next_attempt
                    .map_or(Duration::ZERO, |t| t.saturating_duration_since(now)),
            ),
            _ => None,
        }
    }

    /// The connection is up: live, waiting for a keyframe if the output has video.
    pub fn connected(&mut self) {
        if self.state == PushState::Reconnecting {
            self.reconnects += 1;
        }
        self.state = PushState::Live;
        self.failures = 0;
        self.next_attempt = None;
        self.wait_keyframe = self.has_video;
    }

    /// A connect or write failed at `now`: reconnecting after the backoff.
    pub fn failed(&mut self, now: Instant) {
        if self.state == PushState::Stopped {
            return;
        }
        self.state = PushState::Reconnecting;
        self.next_attempt = Some(now + backoff(self.failures));
        self.failures = self.failures.saturating_add(1);
    }

    /// Whether a packet of `medium` (`keyframe`: a video keyframe) goes out now; false
    /// while not live or before the first video keyframe of this connection.
    pub fn admit(&mut self, medium: Medium, keyframe: bool) -> bool {
        if self.state != PushState::Live {
            return false;
        }
        if self.wait_keyframe {
            if medium == Medium::Video && keyframe {
                self.wait_keyframe = false;
            } else {
                return false;
            }
        }
        true
    }

    /// The mixer stopped.
    pub fn stopped(&mut self) {
        self.state = PushState::Stopped;
        self.next_attempt = None;
    }
}

/// The wait after `failures` consecutive failures: [`FIRST_BACKOFF`] doubling, at most
/// [`MAX_BACKOFF`].
pub fn backoff(failures: u32) -> Duration {
    FIRST_BACKOFF
        .saturating_mul(1u32 << failures.min(16))
        .min(MAX_BACKOFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lost_push_backs_off_reconnects_and_restarts_at_a_keyframe() {
        let t0 = Instant::now();
        let mut p = PushCore::new(true);
        assert!(p.connect_due(t0));
        p.failed(t0);
        assert_eq!(p.state(), PushState::Reconnecting);
        assert!(!p.connect_due(t0 + Duration::from_millis(499)));
        assert!(p.connect_due(t0 + FIRST_BACKOFF));
        p.failed(t0);
        assert_eq!(p.until_attempt(t0), Some(Duration::from_secs(1)));
        p.connected();
        assert_eq!((p.state(), p.reconnects()), (PushState::Live, 1));
        assert!(
            !p.admit(Medium::Audio, false),
            "audio waits for the picture"
        );
        assert!(!p.admit(Medium::Video, false));
        assert!(p.admit(Medium::Video, true), "restart at a keyframe");
        assert!(p.admit(Medium::Audio, false));
        assert!(p.admit(Medium::Video, false));
        p.failed(t0);
        assert_eq!(p.until_attempt(t0), Some(FIRST_BACKOFF), "backoff reset");
        p.stopped();
        assert!(!p.connect_due(t0 + MAX_BACKOFF));
        assert_eq!(backoff(30), MAX_BACKOFF);
    }

    #[test]
    fn audio_only_pushes_need_no_keyframe() {
        let mut p = PushCore::new(false);
        p.connected();
        assert_eq!(p.reconnects(), 0, "the first connect is not a reconnect");
        assert!(p.admit(Medium::Audio, false));
    }
}
