//! Fault injection for tests: makes chosen parts of the daemon fail on purpose, so that
//! tests can check what users get when they fail for real. Off unless the environment
//! variable [`FAULT_ENV`] is set; read once per mixer at its start.
//!
//! - `CLOUDMIXER_FAULT=tick-panic:<mixer_id>:<picture>`: the tick thread of mixer
//!   `<mixer_id>` panics just before making output picture `<picture>` (tests/e2e_crash.rs).
//! - `CLOUDMIXER_FAULT=source-panic:<camid>:<units>`: the worker thread of every source
//!   named `<camid>` panics when it is handed access unit number `<units>` (1-based).

/// The environment variable that enables a fault.
pub const FAULT_ENV: &str = "CLOUDMIXER_FAULT";

/// The output picture before which `mixer_id`'s tick thread must panic, if the
/// environment asks for it; None otherwise (and for malformed values).
pub fn tick_panic_at(mixer_id: &str) -> Option<u64> {
    parse_tick_panic(&std::env::var(FAULT_ENV).ok()?, mixer_id)
}

fn parse_tick_panic(v: &str, mixer_id: &str) -> Option<u64> {
    parse_named(v, "tick-panic:", mixer_id)
}

/// The access unit (1-based) at which source `camid`'s worker must panic, if the
/// environment asks for it; None otherwise (and for malformed values).
pub fn source_panic_at(camid: &str) -> Option<u64> {
    parse_named(&std::env::var(FAULT_ENV).ok()?, "source-panic:", camid)
}

/// `<prefix><name>:<n>` with `name` == `want`: `n`.
fn parse_named(v: &str, prefix: &str, want: &str) -> Option<u64> {
    let (id, n) = v.strip_prefix(prefix)?.rsplit_once(':')?;
    (id == want).then(|| n.parse().ok()).flatten()
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
        assert_eq!(
            parse_named("source-panic:Usr1.-1:30", "source-panic:", "Usr1.-1"),
            Some(30)
        );
    }
}
