//! A participant's presence spans, decided from its media times alone (sans IO: times
//! are passed in, in mixer time).
//!
//! A span starts with the participant's first media (an access unit of either stream)
//! and ends when no media came for the presence timeout (the participant left, or its
//! SFU stopped forwarding it) or when the source is removed or the mixer stops. Media
//! after an ended span starts the next span: each span is its own set of files (docs/API.md
//! "Per-participant files"). The span's end is its last media's time, not the time the
//! timeout was noticed.

use std::time::Duration;

use crate::time::MixerTime;

pub use crate::model::record::DEFAULT_PRESENCE_TIMEOUT;

/// One span: its first and last media times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub start: MixerTime,
    pub last: MixerTime,
}

/// What a media time or a poll changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// A span started at this time.
    Started(MixerTime),
    /// The span ended (its first and last media times).
    Ended(Span),
}

/// See the module docs.
#[derive(Debug, Clone)]
pub struct Presence {
    timeout_us: i64,
    current: Option<Span>,
}

impl Presence {
    /// No span yet; `timeout`: no media for this long ends a span.
    pub fn new(timeout: Duration) -> Self {
        Self {
            timeout_us: i64::try_from(timeout.as_micros()).unwrap_or(i64::MAX),
            current: None,
        }
    }

    /// The span in progress, if any.
    pub fn current(&self) -> Option<Span> {
        self.current
    }

    /// Media with time `t` arrived at mixer time `now`. A gap longer than the timeout
    /// since the last media ends the span first (when no poll noticed it); returns what
    /// changed: at most an end and a start, in that order.
    pub fn media(&mut self, t: MixerTime, now: MixerTime) -> (Option<Span>, Option<MixerTime>) {
        let ended = self.poll(now);
        match &mut self.current {
            Some(s) => {
                if t > s.last {
                    s.last = t;
                }
                (ended, None)
            }
            None => {
                self.current = Some(Span { start: t, last: t });
                (ended, Some(t))
            }
        }
    }

    /// Ends the span if its last media is older than the timeout at `now`.
    pub fn poll(&mut self, now: MixerTime) -> Option<Span> {
        let s = self.current?;
        if now.as_micros() - s.last.as_micros() > self.timeout_us {
            self.current = None;
            return Some(s);
        }
        None
    }

    /// Ends the span now (source removed, mixer stopping).
    pub fn end(&mut self) -> Option<Span> {
        self.current.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: i64) -> MixerTime {
        MixerTime::from_micros(v * 1000)
    }

    #[test]
    fn a_span_lasts_while_media_comes_and_ends_at_its_last_media() {
        let mut p = Presence::new(Duration::from_secs(5));
        assert_eq!(p.media(ms(100), ms(100)), (None, Some(ms(100))));
        for t in (120..10_000).step_by(20) {
            assert_eq!(p.media(ms(t), ms(t)), (None, None));
        }
        assert_eq!(p.poll(ms(14_000)), None, "4 s of silence: still present");
        let end = p.poll(ms(15_000)).expect("5 s of silence ends it");
        assert_eq!(
            end,
            Span {
                start: ms(100),
                last: ms(9_980)
            }
        );
        assert_eq!(p.current(), None);
        // Rejoin: a new span from its own first media.
        assert_eq!(p.media(ms(30_000), ms(30_000)), (None, Some(ms(30_000))));
    }

    #[test]
    fn media_after_an_unnoticed_gap_ends_and_starts() {
        let mut p = Presence::new(Duration::from_secs(1));
        p.media(ms(0), ms(0));
        let (ended, started) = p.media(ms(3_000), ms(3_000));
        assert_eq!(
            ended,
            Some(Span {
                start: ms(0),
                last: ms(0)
            })
        );
        assert_eq!(started, Some(ms(3_000)));
    }

    #[test]
    fn a_late_unit_does_not_move_the_end_back() {
        let mut p = Presence::new(Duration::from_secs(1));
        p.media(ms(0), ms(0));
        p.media(ms(500), ms(500));
        p.media(ms(400), ms(510));
        assert_eq!(
            p.end(),
            Some(Span {
                start: ms(0),
                last: ms(500)
            })
        );
        assert_eq!(p.end(), None);
    }
}
