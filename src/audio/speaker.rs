//! Active-speaker detection (sans IO: block times and levels are passed in): which
//! source is the dominant speaker, decided without flicker.
//!
//! Input, once per mixed audio block (1024 samples, 21.3 ms at 48 kHz): every source's
//! RMS level of that block, dBFS, as the mix read it (so on the output timeline). A
//! source is *voiced* in a block when its level is at least
//! [`SpeakerConfig::threshold_dbfs`]; the block's *leader* is the loudest voiced source,
//! or nobody. Consecutive blocks with the same leader form a *run*.
//!
//! - A run shorter than [`SpeakerConfig::blip`] (default 300 ms) is a blip: it neither
//!   starts a new candidate nor interrupts the candidate's lead (a cough, a "yes", a
//!   door). Silence (a run of nobody) interrupts nothing.
//! - The *candidate* is the leader of the latest run that lasted the blip time; its lead
//!   spans from that run's start to the end of the last block it led, across blips and
//!   silences (which neither end it nor extend it).
//! - The active speaker switches to the candidate once the candidate's lead spans
//!   [`SpeakerConfig::dwell`] (default 1.5 s): a speaker must hold the floor that long
//!   to get it, so a turn shorter than the dwell never switches.
//!
//! Times are mixer times of the blocks' first samples; a switch is reported at the end
//! of the block that completed the dwell. Tested in `speaker_tests.rs`.

use std::time::Duration;

use crate::time::MixerTime;

/// The detector's parameters (docs/API.md "Active speaker"); the mixer uses the defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpeakerConfig {
    /// How long a new speaker must lead before the switch.
    pub dwell: Duration,
    /// Leads shorter than this are ignored.
    pub blip: Duration,
    /// Voice activity threshold, dBFS (block RMS).
    pub threshold_dbfs: f32,
}

/// Default dwell: 1.5 s.
pub const DEFAULT_DWELL: Duration = Duration::from_millis(1500);
/// Default blip length: 300 ms.
pub const DEFAULT_BLIP: Duration = Duration::from_millis(300);
/// Default voice activity threshold: -50 dBFS.
pub const DEFAULT_THRESHOLD_DBFS: f32 = -50.0;

impl Default for SpeakerConfig {
    fn default() -> Self {
        Self {
            dwell: DEFAULT_DWELL,
            blip: DEFAULT_BLIP,
            threshold_dbfs: DEFAULT_THRESHOLD_DBFS,
        }
    }
}

/// A switch of the active speaker.
#[derive(Debug, Clone, PartialEq)]
pub struct SpeakerChange {
    /// The new active speaker.
    pub camid: String,
    /// The one before, if any.
    pub previous: Option<String>,
    /// Mixer time at which the switch was decided (end of the deciding block).
    pub at: MixerTime,
    /// The new speaker's level in the deciding block, dBFS.
    pub level_dbfs: f32,
}

/// See the module docs.
#[derive(Debug, Clone)]
pub struct ActiveSpeaker {
    cfg: SpeakerConfig,
    /// The current run: its leader and start.
    run: Option<(Option<String>, MixerTime)>,
    /// The candidate, the start of its lead and the end of the last block it led.
    candidate: Option<(String, MixerTime, MixerTime)>,
    active: Option<String>,
}

impl ActiveSpeaker {
    /// No speaker yet.
    pub fn new(cfg: SpeakerConfig) -> Self {
        Self {
            cfg,
            run: None,
            candidate: None,
            active: None,
        }
    }

    /// The active speaker.
    pub fn active(&self) -> Option<&str> {
        self.active.as_deref()
    }

    /// Forgets a source that left (it can no longer be candidate or active; no change is
    /// reported for it: the next speaker's switch names it as previous only if it was).
    pub fn forget(&mut self, camid: &str) {
        if self.candidate.as_ref().is_some_and(|(c, _, _)| c == camid) {
            self.candidate = None;
        }
        if self
            .run
            .as_ref()
            .is_some_and(|(l, _)| l.as_deref() == Some(camid))
        {
            self.run = None;
        }
    }

    /// One block starting at `start`, `len` long, with each source's level (dBFS).
    /// Returns the switch this block completed, if any.
    pub fn observe<'a>(
        &mut self,
        start: MixerTime,
        len: Duration,
        levels: impl IntoIterator<Item = (&'a str, f32)>,
    ) -> Option<SpeakerChange> {
        let mut leader: Option<(&str, f32)> = None;
        for (camid, db) in levels {
            if db >= self.cfg.threshold_dbfs && leader.is_none_or(|(_, best)| db > best) {
                leader = Some((camid, db));
            }
        }
        let name = leader.map(|(c, _)| c);
        let run_start = match &self.run {
            Some((l, s)) if l.as_deref() == name => *s,
            _ => {
                self.run = Some((name.map(str::to_owned), start));
                start
            }
        };
        let end = start.plus_micros(micros(len));
        if let Some(who) = name {
            match &mut self.candidate {
                Some((c, _, last)) if c == who => *last = end,
                _ if end.micros_since(run_start) >= micros(self.cfg.blip) => {
                    self.candidate = Some((who.to_owned(), run_start, end));
                }
                _ => {}
            }
        }
        let (cand, since, last) = self.candidate.as_ref()?;
        if self.active.as_ref() == Some(cand) || last.micros_since(*since) < micros(self.cfg.dwell)
        {
            return None;
        }
        let cand = cand.clone();
        let level_dbfs = leader
            .filter(|(c, _)| *c == cand)
            .map_or(self.cfg.threshold_dbfs, |(_, db)| db);
        let previous = self.active.replace(cand.clone());
        Some(SpeakerChange {
            camid: cand,
            previous,
            at: end,
            level_dbfs,
        })
    }
}

/// `d` in µs (saturating).
fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

#[cfg(test)]
#[path = "speaker_tests.rs"]
mod tests;
