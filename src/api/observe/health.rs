//! `/healthz` and `/readyz` decisions, without IO: the caller passes what it read from
//! the registry (and the time elapsed), these functions say healthy/ready and why.
//!
//! - Liveness (`/healthz`): every Running mixer's tick thread made a picture within
//!   `stall_after` (`serve --tick-stall-secs`). A Running mixer makes one picture every
//!   1/fps s, so a thread silent for seconds is stuck (a deadlock, an encoder that does
//!   not return); restarting the process is then the only cure. Starting and Stopping
//!   mixers are not judged (opening and finalizing a file are not ticks).
//! - Readiness (`/readyz`): the daemon admits a new mixer: not draining, fewer mixers
//!   than `--max-mixers`, and CPU budget left (`--cpu-budget-millicores`). A scheduler
//!   that wants to know whether a *given* job fits compares its cost with
//!   `available_millicores` in the body.

use std::time::Duration;

use serde::Serialize;

use crate::api::registry::Load;
use crate::model::MixerState;

/// At most this many stalled mixers are named in a `/healthz` body (the count is exact).
pub const MAX_NAMED_STALLS: usize = 16;

/// What the health check knows of one mixer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TickView {
    pub mixer_id: String,
    pub state: MixerState,
    /// Time since its tick thread last made a picture (or since it was created).
    pub since_last_tick: Duration,
}

/// One stalled mixer in a `/healthz` body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stall {
    pub mixer_id: String,
    /// ms since its last picture.
    pub since_last_tick_ms: u64,
}

/// The `/healthz` answer: 200 if `healthy`, else 503; the body is this as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Health {
    pub healthy: bool,
    /// Running mixers judged.
    pub running_mixers: usize,
    /// Running mixers whose tick thread is stalled.
    pub stalled_mixers: usize,
    /// The first [`MAX_NAMED_STALLS`] of them, by id.
    pub stalled: Vec<Stall>,
    /// The threshold, ms.
    pub stall_after_ms: u64,
}

/// Liveness of the tick threads in `views`: unhealthy if a Running mixer made no picture
/// for more than `stall_after`.
pub fn health(views: &[TickView], stall_after: Duration) -> Health {
    let running: Vec<&TickView> = views.iter().filter(|v| v.state.is_running()).collect();
    let stalled: Vec<&&TickView> = running
        .iter()
        .filter(|v| v.since_last_tick > stall_after)
        .collect();
    Health {
        healthy: stalled.is_empty(),
        running_mixers: running.len(),
        stalled_mixers: stalled.len(),
        stalled: stalled
            .iter()
            .take(MAX_NAMED_STALLS)
            .map(|v| Stall {
                mixer_id: v.mixer_id.clone(),
                since_last_tick_ms: v.since_last_tick.as_millis() as u64,
            })
            .collect(),
        stall_after_ms: stall_after.as_millis() as u64,
    }
}

/// The `/readyz` answer: 200 if `ready`, else 503; the body is this as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Readiness {
    pub ready: bool,
    /// Why not ready: "draining", "max_mixers" or "cpu_budget"; absent when ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    pub draining: bool,
    /// Mixers not yet ended, and the most allowed.
    pub mixers: usize,
    pub max_mixers: usize,
    /// Millicores: summed estimated cost of those mixers, the budget, and what is left.
    pub admitted_millicores: u64,
    pub budget_millicores: u64,
    pub available_millicores: u64,
}

/// Whether the daemon admits a new mixer, given its `load` and whether it is draining.
pub fn readiness(load: Load, draining: bool) -> Readiness {
    let available = load.available_mc();
    let reason = if draining {
        Some("draining")
    } else if load.mixers >= load.max_mixers {
        Some("max_mixers")
    } else if available == 0 {
        Some("cpu_budget")
    } else {
        None
    };
    Readiness {
        ready: reason.is_none(),
        reason,
        draining,
        mixers: load.mixers,
        max_mixers: load.max_mixers,
        admitted_millicores: load.admitted_mc,
        budget_millicores: load.budget_mc,
        available_millicores: available,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(id: &str, state: MixerState, secs: u64) -> TickView {
        TickView {
            mixer_id: id.into(),
            state,
            since_last_tick: Duration::from_secs(secs),
        }
    }

    #[test]
    fn a_running_mixer_silent_past_the_threshold_is_unhealthy() {
        let stall = Duration::from_secs(10);
        let ok = health(&[view("a", MixerState::Running, 1)], stall);
        assert!(ok.healthy);
        assert_eq!((ok.running_mixers, ok.stalled_mixers), (1, 0));
        let bad = health(
            &[
                view("a", MixerState::Running, 1),
                view("b", MixerState::Running, 11),
            ],
            stall,
        );
        assert!(!bad.healthy);
        assert_eq!(bad.stalled_mixers, 1);
        assert_eq!(bad.stalled[0].mixer_id, "b");
        assert_eq!(bad.stalled[0].since_last_tick_ms, 11_000);
        assert_eq!(bad.stall_after_ms, 10_000);
    }

    #[test]
    fn mixers_not_running_are_not_judged() {
        let stall = Duration::from_secs(10);
        let views = [
            view("s", MixerState::Starting, 100),
            view("p", MixerState::Stopping, 100),
            view("d", MixerState::Stopped, 100),
            view("e", MixerState::Error, 100),
        ];
        let h = health(&views, stall);
        assert!(h.healthy);
        assert_eq!(h.running_mixers, 0);
        assert!(health(&[], stall).healthy);
    }

    #[test]
    fn at_most_sixteen_stalls_are_named_but_all_are_counted() {
        let views: Vec<TickView> = (0..40)
            .map(|i| view(&format!("m{i}"), MixerState::Running, 60))
            .collect();
        let h = health(&views, Duration::from_secs(10));
        assert_eq!(h.stalled_mixers, 40);
        assert_eq!(h.stalled.len(), MAX_NAMED_STALLS);
    }

    fn load(mixers: usize, admitted_mc: u64) -> Load {
        Load {
            mixers,
            admitted_mc,
            budget_mc: 1600,
            max_mixers: 4,
        }
    }

    #[test]
    fn readiness_reasons_in_order() {
        let r = readiness(load(1, 600), false);
        assert!(r.ready);
        assert_eq!(r.reason, None);
        assert_eq!(r.available_millicores, 1000);
        assert_eq!(readiness(load(1, 600), true).reason, Some("draining"));
        assert_eq!(readiness(load(4, 600), false).reason, Some("max_mixers"));
        let full = readiness(load(3, 1700), false);
        assert_eq!(full.reason, Some("cpu_budget"));
        assert_eq!(full.available_millicores, 0);
        assert!(!full.ready);
    }

    #[test]
    fn readiness_json_names_the_numbers() {
        let j = serde_json::to_value(readiness(load(2, 400), false)).unwrap();
        assert_eq!(j["ready"], true);
        assert!(j.get("reason").is_none());
        assert_eq!(j["available_millicores"], 1200);
        assert_eq!(j["max_mixers"], 4);
    }
}
