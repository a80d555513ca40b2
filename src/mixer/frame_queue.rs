//! Per-source queue of decoded pictures with their time on the mixer's timeline, and the
//! choice of which picture a tick shows.
//!
//! At tick time `t` (µs on the mixer timeline) the queue shows the newest picture whose
//! time is `<= t`, and holds it while no newer one is due. A picture older than
//! `stale_after` shows as nothing (the region's placeholder): the source went silent.

use std::collections::VecDeque;
use std::sync::Arc;

use ffmpeg_next::frame;

use crate::compose::SourceFrame;

/// Pictures buffered per source before the oldest is dropped (counted): 2 s at 30 fps
/// plus headroom; a source never needs more than the playout delay's worth.
pub const FRAME_QUEUE_CAPACITY: usize = 90;

/// See the module docs.
pub struct FrameQueue {
    queue: VecDeque<(i64, Arc<frame::Video>)>,
    current: Option<(i64, SourceFrame)>,
    next_seq: u64,
    stale_after_us: i64,
    /// Pictures dropped because the queue was full.
    pub overflow_drops: u64,
}

impl FrameQueue {
    /// A queue whose pictures go stale `stale_after_us` µs after their time.
    pub fn new(stale_after_us: i64) -> Self {
        Self {
            queue: VecDeque::new(),
            current: None,
            next_seq: 0,
            stale_after_us,
            overflow_drops: 0,
        }
    }

    /// Adds a picture due at `t_us`. A picture older than the last queued one (a sender
    /// restart or a timeline resync) clears the queue first.
    pub fn push(&mut self, t_us: i64, picture: frame::Video) {
        if let Some((last, _)) = self.queue.back() {
            if t_us < *last {
                self.queue.clear();
            }
        }
        if self.queue.len() >= FRAME_QUEUE_CAPACITY {
            self.queue.pop_front();
            self.overflow_drops += 1;
        }
        self.queue.push_back((t_us, Arc::new(picture)));
    }

    /// The picture to show at `t_us`, or None for the placeholder.
    pub fn select(&mut self, t_us: i64) -> Option<&SourceFrame> {
        while let Some((t, _)) = self.queue.front() {
            if *t > t_us {
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
            Some((t, f)) if t_us - *t <= self.stale_after_us => Some(f),
            _ => None,
        }
    }

    /// Time of the newest queued picture, µs.
    pub fn newest_time(&self) -> Option<i64> {
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

    fn pic() -> frame::Video {
        frame::Video::new(Pixel::YUV420P, 4, 4)
    }

    #[test]
    fn shows_newest_due_picture_and_holds_it() {
        crate::media::init();
        let mut q = FrameQueue::new(1_000_000);
        assert!(q.select(0).is_none());
        q.push(0, pic());
        q.push(33_000, pic());
        q.push(66_000, pic());
        assert_eq!(q.select(40_000).map(|f| f.seq), Some(2));
        assert_eq!(q.select(50_000).map(|f| f.seq), Some(2));
        assert_eq!(q.select(70_000).map(|f| f.seq), Some(3));
        // Held until stale.
        assert!(q.select(1_066_000).is_some());
        assert!(q.select(1_066_001).is_none());
    }

    #[test]
    fn a_backwards_jump_clears_the_queue() {
        crate::media::init();
        let mut q = FrameQueue::new(1_000_000);
        q.push(1_000_000, pic());
        q.push(10, pic());
        assert_eq!(q.select(20).map(|f| f.seq), Some(1));
    }
}
