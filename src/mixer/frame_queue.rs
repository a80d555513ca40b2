//! Per-source queue of decoded pictures with their time on the mixer's timeline, and the
//! choice of which picture a tick shows.
//!
//! At tick time `t` ([`MixerTime`]) the queue shows the newest picture whose
//! time is `<= t`, and holds it while no newer one is due. A picture older than
//! `stale_after` shows as nothing (the region's placeholder): the source went silent.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use ffmpeg_next::frame;

use crate::compose::SourceFrame;
use crate::time::MixerTime;

/// Pictures buffered per source before the oldest is dropped (counted): 2 s at 30 fps
/// plus headroom; a source never needs more than the playout delay's worth.
pub const FRAME_QUEUE_CAPACITY: usize = 90;

/// See the module docs.
pub struct FrameQueue {
    queue: VecDeque<(MixerTime, Arc<frame::Video>)>,
    current: Option<(MixerTime, SourceFrame)>,
    next_seq: u64,
    stale_after_us: i64,
    /// Pictures dropped because the queue was full.
    pub overflow_drops: u64,
}

impl FrameQueue {
    /// A queue whose pictures go stale `stale_after` after their time.
    pub fn new(stale_after: Duration) -> Self {
        let stale_after_us = i64::try_from(stale_after.as_micros()).unwrap_or(i64::MAX);
        Self {
            queue: VecDeque::new(),
            current: None,
            next_seq: 0,
            stale_after_us,
            overflow_drops: 0,
        }
    }

    /// Adds a picture due at `t`. A picture older than the last queued one (a sender
    /// restart or a timeline resync) clears the queue first.
    pub fn push(&mut self, t: MixerTime, picture: frame::Video) {
        if let Some((last, _)) = self.queue.back() {
            if t < *last {
                self.queue.clear();
            }
        }
        if self.queue.len() >= FRAME_QUEUE_CAPACITY {
            self.queue.pop_front();
            self.overflow_drops += 1;
        }
        self.queue.push_back((t, Arc::new(picture)));
    }

    /// The picture to show at `now`, or None for the placeholder.
    pub fn select(&mut self, now: MixerTime) -> Option<&SourceFrame> {
        while let Some((t, _)) = self.queue.front() {
            if *t > now {
                break;
            }
            let (t, pic) = self.queue.pop_front().expect("front checked above");
            self.next_seq += 1;
            self.current = Some((
                t,
                SourceFrame {
                    frame: pic,
                    seq: self.next_seq,
                },
            ));
        }
        match &self.current {
            Some((t, f)) if now.micros_since(*t) <= self.stale_after_us => Some(f),
            _ => None,
        }
    }

    /// Time of the newest queued picture.
    pub fn newest_time(&self) -> Option<MixerTime> {
        self.queue
            .back()
            .map(|(t, _)| *t)
            .or(self.current.as_ref().map(|(t, _)| *t))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ffmpeg_next::format::Pixel;

    fn us(t: i64) -> MixerTime {
        MixerTime::from_micros(t)
    }

    fn pic() -> frame::Video {
        frame::Video::new(Pixel::YUV420P, 4, 4)
    }

    #[test]
    fn shows_newest_due_picture_and_holds_it() {
        crate::media::init();
        let mut q = FrameQueue::new(Duration::from_secs(1));
        assert!(q.select(us(0)).is_none());
        q.push(us(0), pic());
        q.push(us(33_000), pic());
        q.push(us(66_000), pic());
        assert_eq!(q.select(us(40_000)).map(|f| f.seq), Some(2));
        assert_eq!(q.select(us(50_000)).map(|f| f.seq), Some(2));
        assert_eq!(q.select(us(70_000)).map(|f| f.seq), Some(3));
        // Held until stale.
        assert!(q.select(us(1_066_000)).is_some());
        assert!(q.select(us(1_066_001)).is_none());
    }

    #[test]
    fn a_backwards_jump_clears_the_queue() {
        crate::media::init();
        let mut q = FrameQueue::new(Duration::from_secs(1));
        q.push(us(1_000_000), pic());
        q.push(us(10), pic());
        assert_eq!(q.select(us(20)).map(|f| f.seq), Some(1));
    }
}
