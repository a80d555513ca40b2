//! Fault injection for tests: makes chosen parts of the daemon fail on purpose, so that
//! tests can check what users get when they fail for real. Off unless the environment
//! variable [`FAULT_ENV`] is set; read once per mixer at its start.
//!
//! `CLOUDMIXER_FAULT=tick-panic:<mixer_id>:<picture>`: the tick thread of mixer
//! `<mixer_id>` panics just before making output picture `<picture>` (tests/e2e_crash.rs).

/// The environment variable that enables a fault.
pub const FAULT_ENV: &str = "CLOUDMIXER_FAULT";

/// The output picture before which `mixer_id`'s tick thread must panic, if the
/// environment asks for it; None otherwise (and for malformed values).
pub fn tick_panic_at(mixer_id: &str) -> Option<u64> {
    parse_tick_panic(&std::env::var(FAULT_ENV).ok()?, mixer_id)
}

fn parse_tick_panic(v: &str, mixer_id: &str) -> Option<u64> {
    let rest = v.strip_prefix("tick-panic:")?;
    let (id, picture) = rest.rsplit_once(':')?;
    (id == mixer_id).then(|| picture.parse().ok()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_the_named_mixer() {
        assert_eq!(parse_tick_panic("tick-panic:m-1:45", "m-1"), Some(45));
        assert_eq!(parse_tick_panic("tick-panic:m-1:45", "m-2"), None);
        assert_eq!(parse_tick_panic("tick-panic:m-1:x", "m-1"), None);
        assert_eq!(parse_tick_panic("other:m-1:45", "m-1"), None);
    }
}
