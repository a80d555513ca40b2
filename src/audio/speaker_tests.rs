//! The active-speaker rules on scripted conversations, block by block.

use super::*;

const BLOCK_US: i64 = 21_333;

/// Runs `script` (who talks, for how many ms; the others are silent at -90 dBFS, the
/// talker at -20) through a detector; the switches as (camid, ms).
fn run(script: &[(Option<&str>, i64)]) -> Vec<(String, i64)> {
    let mut d = ActiveSpeaker::new(SpeakerConfig::default());
    let mut t = 0i64;
    let mut out = Vec::new();
    for &(who, ms) in script {
        let end = t + ms * 1000;
        while t < end {
            let levels = ["a", "b"].map(|c| (c, if Some(c) == who { -20.0 } else { -90.0 }));
            let start = MixerTime::from_micros(t);
            if let Some(ch) = d.observe(start, Duration::from_micros(BLOCK_US as u64), levels) {
                out.push((ch.camid, ch.at.as_millis()));
            }
            t += BLOCK_US;
        }
    }
    out
}

#[test]
fn a_speaker_gets_the_floor_after_the_dwell() {
    let s = run(&[(Some("a"), 3000)]);
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].0, "a");
    assert!((1500..1530).contains(&s[0].1), "{s:?}");
}

#[test]
fn blips_never_switch_and_do_not_interrupt() {
    // a talks, b interjects 250 ms three times; a keeps the floor throughout.
    let s = run(&[
        (Some("a"), 2000),
        (Some("b"), 250),
        (Some("a"), 1000),
        (Some("b"), 250),
        (None, 500),
        (Some("b"), 250),
        (Some("a"), 1000),
    ]);
    assert_eq!(s.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(), ["a"]);
    // a talks 1 s, a blip of b, a again: a's lead counts from its first word.
    let s = run(&[(Some("a"), 1000), (Some("b"), 200), (Some("a"), 1000)]);
    assert!((1500..1530).contains(&s[0].1), "{s:?}");
}

#[test]
fn a_turn_switches_a_dwell_after_it_starts() {
    let s = run(&[(Some("a"), 3000), (Some("b"), 3000), (Some("a"), 1000)]);
    let names: Vec<&str> = s.iter().map(|x| x.0.as_str()).collect();
    assert_eq!(
        names,
        ["a", "b"],
        "a's last second is shorter than the dwell"
    );
    assert!((4500..4530).contains(&s[1].1), "{s:?}");
}

#[test]
fn a_short_turn_under_the_dwell_does_not_take_the_floor() {
    let s = run(&[(Some("a"), 2000), (Some("b"), 1200), (Some("a"), 2000)]);
    assert_eq!(s.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(), ["a"]);
}

#[test]
fn the_loudest_voiced_source_leads_and_quiet_ones_are_not_voiced() {
    let mut d = ActiveSpeaker::new(SpeakerConfig::default());
    let mut last = None;
    for k in 0..100 {
        let t = MixerTime::from_micros(k * BLOCK_US);
        let len = Duration::from_micros(BLOCK_US as u64);
        if let Some(c) = d.observe(t, len, [("a", -30.0), ("b", -25.0), ("c", -60.0)]) {
            last = Some(c);
        }
    }
    let c = last.expect("a switch");
    assert_eq!(
        (c.camid.as_str(), c.previous, c.level_dbfs),
        ("b", None, -25.0)
    );
    let mut quiet = ActiveSpeaker::new(SpeakerConfig::default());
    for k in 0..200 {
        let t = MixerTime::from_micros(k * BLOCK_US);
        let len = Duration::from_micros(BLOCK_US as u64);
        assert!(quiet.observe(t, len, [("a", -55.0)]).is_none());
    }
}

#[test]
fn a_forgotten_source_loses_its_candidacy() {
    let mut d = ActiveSpeaker::new(SpeakerConfig::default());
    let len = Duration::from_micros(BLOCK_US as u64);
    for k in 0..30 {
        assert!(d
            .observe(MixerTime::from_micros(k * BLOCK_US), len, [("a", -20.0)])
            .is_none());
    }
    d.forget("a");
    for k in 30..200 {
        assert!(d
            .observe(MixerTime::from_micros(k * BLOCK_US), len, [("b", -90.0)])
            .is_none());
    }
    assert_eq!(d.active(), None);
}
