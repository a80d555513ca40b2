//! The mixer lifecycle (Cloudroom MIXER_STATE) as a state machine: the only place where
//! a transition is decided.
//!
//! | from \ to  | Starting | Running | Stopping | Stopped | Error |
//! |------------|----------|---------|----------|---------|-------|
//! | `Idle`     | yes      |         |          |         |       |
//! | `Starting` |          | yes     |          |         | yes   |
//! | `Running`  |          |         | yes      |         | yes   |
//! | `Stopping` |          |         |          | yes     | yes   |
//! | `Stopped`  |          |         |          |         |       |
//! | `Error`    |          |         |          |         |       |
//!
//! Every other pair, including staying in the same state, is illegal ([`transition`]).
//! `Stopped` and `Error` are final. An illegal transition is a bug of the engine:
//! [`Lifecycle`] logs it, fails a debug assertion and keeps its state.

use crate::model::error::ErrorCode;

/// Where a mixer is in its life. See the module table for the transitions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MixerState {
    /// Created, not started.
    Idle,
    /// Opening the output and starting threads.
    Starting,
    /// Recording; the only state that accepts content updates.
    Running,
    /// Draining and finalizing the file.
    Stopping,
    /// The file is final.
    Stopped,
    /// Ended by a failure; the file holds what was written until then.
    Error,
    /// Found at startup: an earlier daemon process ended (crashed, was killed, or its
    /// shutdown timed out) while this mixer recorded. The file holds the fragments
    /// written until then. No transition enters or leaves it: only the recording
    /// journal (`api::journal`) reports it.
    Interrupted,
}

impl MixerState {
    /// Every state, in lifecycle order.
    pub const ALL: [MixerState; 7] = [
        MixerState::Idle,
        MixerState::Starting,
        MixerState::Running,
        MixerState::Stopping,
        MixerState::Stopped,
        MixerState::Error,
        MixerState::Interrupted,
    ];

    /// Stopped, Error or Interrupted: no transition leaves it.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            MixerState::Stopped | MixerState::Error | MixerState::Interrupted
        )
    }

    /// Only a Running mixer accepts content updates and a stop request.
    pub fn is_running(self) -> bool {
        self == MixerState::Running
    }
}

/// A transition the lifecycle does not have (a bug of the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("illegal mixer state transition {from:?} -> {to:?}")]
pub struct IllegalTransition {
    pub from: MixerState,
    pub to: MixerState,
}

/// Decides whether a mixer may move from `from` to `to` (the module table).
/// Errors: [`IllegalTransition`] for every pair not in the table.
pub fn transition(from: MixerState, to: MixerState) -> Result<(), IllegalTransition> {
    use MixerState::*;
    match (from, to) {
        (Idle, Starting)
        | (Starting, Running)
        | (Running, Stopping)
        | (Stopping, Stopped)
        | (Starting | Running | Stopping, Error) => Ok(()),
        _ => Err(IllegalTransition { from, to }),
    }
}

/// One mixer's lifecycle state and, in `Error`, why (gRPC-style code and message, as
/// `StateChanged` reports them). Every change goes through [`transition`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifecycle {
    state: MixerState,
    error_code: i32,
    error_message: String,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self::new()
    }
}

impl Lifecycle {
    /// Idle, no error.
    pub fn new() -> Self {
        Self {
            state: MixerState::Idle,
            error_code: 0,
            error_message: String::new(),
        }
    }

    /// The current state.
    pub fn state(&self) -> MixerState {
        self.state
    }

    /// The error's numeric gRPC code (0 unless `Error`).
    pub fn error_code(&self) -> i32 {
        self.error_code
    }

    /// The error's message (empty unless `Error`).
    pub fn error_message(&self) -> &str {
        &self.error_message
    }

    /// Idle -> Starting.
    pub fn start(&mut self) -> Result<(), IllegalTransition> {
        self.go(MixerState::Starting)
    }

    /// Starting -> Running.
    pub fn running(&mut self) -> Result<(), IllegalTransition> {
        self.go(MixerState::Running)
    }

    /// Running -> Stopping.
    pub fn stop(&mut self) -> Result<(), IllegalTransition> {
        self.go(MixerState::Stopping)
    }

    /// Stopping -> Stopped.
    pub fn stopped(&mut self) -> Result<(), IllegalTransition> {
        self.go(MixerState::Stopped)
    }

    /// Starting, Running or Stopping -> Error, recording `code` and `message`.
    pub fn fail(&mut self, code: ErrorCode, message: String) -> Result<(), IllegalTransition> {
        self.go(MixerState::Error)?;
        self.error_code = code.as_i32();
        self.error_message = message;
        Ok(())
    }

    /// Moves to `to` if [`transition`] allows it; otherwise logs the bug, fails a debug
    /// assertion and stays.
    fn go(&mut self, to: MixerState) -> Result<(), IllegalTransition> {
        match transition(self.state, to) {
            Ok(()) => {
                self.state = to;
                Ok(())
            }
            Err(e) => {
                tracing::error!(error = %e, "mixer lifecycle bug");
                debug_assert!(false, "{e}");
                Err(e)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::MixerState::*;
    use super::*;

    /// The module table, row by row: the legal targets of each state.
    const LEGAL: [(MixerState, &[MixerState]); 7] = [
        (Idle, &[Starting]),
        (Starting, &[Running, Error]),
        (Running, &[Stopping, Error]),
        (Stopping, &[Stopped, Error]),
        (Stopped, &[]),
        (Error, &[]),
        (Interrupted, &[]),
    ];

    #[test]
    fn every_pair_is_decided_by_the_table() {
        let mut legal = 0;
        for (from, targets) in LEGAL {
            for to in MixerState::ALL {
                let r = transition(from, to);
                if targets.contains(&to) {
                    assert_eq!(r, Ok(()), "{from:?} -> {to:?} should be legal");
                    legal += 1;
                } else {
                    assert_eq!(
                        r,
                        Err(IllegalTransition { from, to }),
                        "{from:?} -> {to:?} should be illegal"
                    );
                }
            }
        }
        assert_eq!(legal, 7);
    }

    #[test]
    fn final_states_have_no_way_out() {
        for s in MixerState::ALL {
            let exits = MixerState::ALL
                .iter()
                .filter(|&&to| transition(s, to).is_ok())
                .count();
            assert_eq!(s.is_final(), exits == 0, "{s:?}");
        }
        assert!(Running.is_running() && !Stopping.is_running());
    }

    #[test]
    fn a_recording_goes_the_whole_way() {
        let mut l = Lifecycle::new();
        assert_eq!(l.state(), Idle);
        l.start().unwrap();
        l.running().unwrap();
        l.stop().unwrap();
        l.stopped().unwrap();
        assert_eq!(l.state(), Stopped);
        assert_eq!((l.error_code(), l.error_message()), (0, ""));
    }

    #[test]
    fn failing_records_code_and_message() {
        for before in [Starting, Running, Stopping] {
            let mut l = Lifecycle::new();
            l.start().unwrap();
            if before != Starting {
                l.running().unwrap();
            }
            if before == Stopping {
                l.stop().unwrap();
            }
            assert_eq!(l.state(), before);
            l.fail(ErrorCode::ResourceExhausted, "disk full".into())
                .unwrap();
            assert_eq!(l.state(), Error);
            assert_eq!((l.error_code(), l.error_message()), (8, "disk full"));
        }
    }

    #[test]
    #[cfg_attr(debug_assertions, should_panic(expected = "Idle -> Running"))]
    fn an_illegal_step_is_a_bug_and_is_refused() {
        let mut l = Lifecycle::new();
        // Debug builds stop here (the assertion); release builds log and refuse.
        let r = l.running();
        assert_eq!(
            r,
            Err(IllegalTransition {
                from: Idle,
                to: Running
            })
        );
        assert_eq!(l.state(), Idle);
    }
}
