//! Unit tests of `jitter`.

use super::*;
use rand::{rngs::StdRng, seq::SliceRandom, Rng, SeedableRng};

fn pkt(seq: u16) -> Packet {
    let mut p = Packet::default();
    p.header.version = 2;
    p.header.sequence_number = seq;
    p.header.timestamp = u32::from(seq).wrapping_mul(3000);
    p
}

#[derive(Debug, Clone, Copy)]
enum Ev {
    /// Push `seq` expecting the outcome, then drain.
    Push(u16, PushOutcome),
    /// Only drain.
    Tick,
}
use Ev::{Push, Tick};
use PushOutcome::{Duplicate, Jump, Late, Overflow, Queued};

struct Case {
    name: &'static str,
    max_wait_ms: u64,
    capacity: usize,
    events: Vec<(u64, Ev)>,
    /// (release time in ms, seq, lost_before, discontinuity)
    expect: Vec<(u64, u16, u64, bool)>,
}

/// Runs the events; checks outcomes, release order and ext_seq arithmetic.
fn run(case: &Case) -> JitterBuffer {
    let base = Instant::now();
    let mut jb = JitterBuffer::new(Duration::from_millis(case.max_wait_ms), case.capacity);
    let mut out = Vec::new();
    let mut prev_ext: Option<u64> = None;
    for &(t, ev) in &case.events {
        let now = base + Duration::from_millis(t);
        if let Push(seq, expected) = ev {
            assert_eq!(
                jb.push(pkt(seq), now),
                expected,
                "{}: push {seq}",
                case.name
            );
        }
        while let Some(r) = jb.pop(now) {
            if let Some(prev) = prev_ext {
                assert!(r.ext_seq > prev, "{}: ext not increasing", case.name);
                if !r.discontinuity {
                    assert_eq!(r.ext_seq, prev + 1 + r.lost_before, "{}", case.name);
                }
            }
            assert_eq!(r.ext_seq as u16, r.packet.header.sequence_number);
            prev_ext = Some(r.ext_seq);
            out.push((
                t,
                r.packet.header.sequence_number,
                r.lost_before,
                r.discontinuity,
            ));
        }
        if let Some(d) = jb.next_deadline() {
            assert!(
                d > now,
                "{}: deadline in the past after draining",
                case.name
            );
        }
    }
    assert_eq!(out, case.expect, "{}", case.name);
    jb
}

#[test]
fn table() {
    let cases = vec![
        Case {
            name: "in order",
            max_wait_ms: 50,
            capacity: 10,
            events: vec![
                (0, Push(1, Queued)),
                (10, Push(2, Queued)),
                (20, Push(3, Queued)),
            ],
            expect: vec![(0, 1, 0, false), (10, 2, 0, false), (20, 3, 0, false)],
        },
        Case {
            name: "reorder within window",
            max_wait_ms: 50,
            capacity: 10,
            events: vec![
                (0, Push(1, Queued)),
                (10, Push(3, Queued)),
                (20, Push(2, Queued)),
            ],
            expect: vec![(0, 1, 0, false), (20, 2, 0, false), (20, 3, 0, false)],
        },
        Case {
            name: "loss declared after max_wait",
            max_wait_ms: 50,
            capacity: 10,
            events: vec![
                (0, Push(1, Queued)),
                (10, Push(3, Queued)),
                (30, Push(4, Queued)),
                (59, Tick),
                (60, Tick),
            ],
            expect: vec![(0, 1, 0, false), (60, 3, 1, false), (60, 4, 0, false)],
        },
        Case {
            name: "duplicates",
            max_wait_ms: 50,
            capacity: 10,
            events: vec![
                (0, Push(1, Queued)),
                (5, Push(3, Queued)),
                (6, Push(3, Duplicate)),
                (7, Push(2, Queued)),
                (8, Push(2, Late)),
            ],
            expect: vec![(0, 1, 0, false), (7, 2, 0, false), (7, 3, 0, false)],
        },
        Case {
            name: "late after loss",
            max_wait_ms: 20,
            capacity: 10,
            events: vec![
                (0, Push(1, Queued)),
                (10, Push(3, Queued)),
                (40, Tick),
                (41, Push(2, Late)),
                (42, Push(1, Late)),
                (43, Push(4, Queued)),
            ],
            expect: vec![(0, 1, 0, false), (40, 3, 1, false), (43, 4, 0, false)],
        },
        Case {
            name: "wrap in order",
            max_wait_ms: 50,
            capacity: 10,
            events: vec![
                (0, Push(65534, Queued)),
                (1, Push(65535, Queued)),
                (2, Push(0, Queued)),
                (3, Push(1, Queued)),
            ],
            expect: vec![
                (0, 65534, 0, false),
                (1, 65535, 0, false),
                (2, 0, 0, false),
                (3, 1, 0, false),
            ],
        },
        Case {
            name: "wrap reordered",
            max_wait_ms: 50,
            capacity: 10,
            events: vec![
                (0, Push(65534, Queued)),
                (1, Push(0, Queued)),
                (2, Push(1, Queued)),
                (3, Push(65535, Queued)),
            ],
            expect: vec![
                (0, 65534, 0, false),
                (3, 65535, 0, false),
                (3, 0, 0, false),
                (3, 1, 0, false),
            ],
        },
        Case {
            name: "loss across wrap",
            max_wait_ms: 50,
            capacity: 10,
            events: vec![(0, Push(65534, Queued)), (10, Push(1, Queued)), (60, Tick)],
            expect: vec![(0, 65534, 0, false), (60, 1, 2, false)],
        },
        Case {
            name: "large jump resyncs without loss",
            max_wait_ms: 50,
            capacity: 10,
            events: vec![
                (0, Push(100, Queued)),
                (10, Push(102, Queued)),
                (20, Push(20_000, Jump)),
                (30, Push(20_001, Queued)),
                (40, Push(20_002, Queued)),
            ],
            expect: vec![
                (0, 100, 0, false),
                (30, 102, 1, false),
                (30, 20_000, 0, true),
                (30, 20_001, 0, false),
                (40, 20_002, 0, false),
            ],
        },
        Case {
            name: "restart backwards across the wrap",
            max_wait_ms: 50,
            capacity: 10,
            events: vec![
                (0, Push(40_000, Queued)),
                (10, Push(5, Jump)),
                (20, Push(6, Queued)),
                (30, Push(4, Late)),
            ],
            expect: vec![(0, 40_000, 0, false), (20, 5, 0, true), (20, 6, 0, false)],
        },
        Case {
            name: "stray jump is dropped",
            max_wait_ms: 50,
            capacity: 10,
            events: vec![
                (0, Push(100, Queued)),
                (10, Push(20_000, Jump)),
                (20, Push(101, Queued)),
                (30, Push(20_001, Jump)),
                (40, Push(102, Queued)),
            ],
            expect: vec![(0, 100, 0, false), (20, 101, 0, false), (40, 102, 0, false)],
        },
        Case {
            name: "capacity overflow releases oldest",
            max_wait_ms: 1000,
            capacity: 3,
            events: vec![
                (0, Push(1, Queued)),
                (1, Push(3, Queued)),
                (2, Push(4, Queued)),
                (3, Push(5, Queued)),
                (4, Push(7, Overflow)),
                (5, Push(8, Queued)),
            ],
            expect: vec![
                (0, 1, 0, false),
                (4, 3, 1, false),
                (4, 4, 0, false),
                (4, 5, 0, false),
            ],
        },
    ];
    for case in &cases {
        run(case);
    }
}

#[test]
fn stats_count_everything() {
    let case = Case {
        name: "stats",
        max_wait_ms: 20,
        capacity: 10,
        events: vec![
            (0, Push(1, Queued)),
            (1, Push(4, Queued)),
            (2, Push(3, Queued)),
            (3, Push(3, Duplicate)),
            (30, Tick),
            (31, Push(2, Late)),
        ],
        expect: vec![(0, 1, 0, false), (30, 3, 1, false), (30, 4, 0, false)],
    };
    let jb = run(&case);
    let s = jb.stats();
    assert_eq!(
        s,
        JitterStats {
            received: 5,
            duplicates: 1,
            late: 1,
            lost: 1,
            reordered: 1,
            resyncs: 0,
            stray: 0,
        }
    );
}

#[test]
fn deadline_and_reset() {
    let base = Instant::now();
    let mut jb = JitterBuffer::new(Duration::from_millis(50), 10);
    assert_eq!(jb.next_deadline(), None);
    jb.push(pkt(10), base);
    assert_eq!(jb.next_deadline(), Some(base));
    assert!(jb.pop(base).is_some());
    let t = base + Duration::from_millis(5);
    jb.push(pkt(12), t);
    assert!(jb.pop(t).is_none());
    assert_eq!(jb.next_deadline(), Some(t + Duration::from_millis(50)));
    jb.reset();
    assert!(jb.is_empty());
    assert_eq!(jb.next_deadline(), None);
    // After a reset any sequence number starts a new stream.
    jb.push(pkt(9000), t);
    let r = jb.pop(t).unwrap();
    assert_eq!((r.packet.header.sequence_number, r.lost_before), (9000, 0));
}

/// Thousands of random streams: loss, duplication, jitter, wrap-around.
#[test]
fn randomized_streams_release_in_order_and_account_for_every_packet() {
    let mut rng = StdRng::seed_from_u64(0x0071_77E4);
    for case in 0..3000 {
        let n: usize = rng.gen_range(1..300);
        let start: u16 = rng.gen();
        let loss = rng.gen_range(0.0..0.2);
        let dup = rng.gen_range(0.0..0.1);
        let jitter_ms: u64 = rng.gen_range(0..100);
        let max_wait_ms: u64 = rng.gen_range(0..150);
        let capacity: usize = rng.gen_range(1..400);
        // (arrival ms, index)
        let mut arrivals: Vec<(u64, usize)> = Vec::new();
        for i in 0..n {
            if rng.gen_bool(loss) {
                continue;
            }
            let copies = if rng.gen_bool(dup) { 2 } else { 1 };
            for _ in 0..copies {
                arrivals.push((i as u64 * 10 + rng.gen_range(0..=jitter_ms), i));
            }
        }
        arrivals.shuffle(&mut rng);
        arrivals.sort_by_key(|a| a.0);
        let base = Instant::now();
        let mut jb = JitterBuffer::new(Duration::from_millis(max_wait_ms), capacity);
        let mut released: Vec<Released> = Vec::new();
        let mut outcomes = Vec::new();
        for &(t, i) in &arrivals {
            let now = base + Duration::from_millis(t);
            outcomes.push((i, jb.push(pkt(start.wrapping_add(i as u16)), now)));
            while let Some(r) = jb.pop(now) {
                released.push(r);
            }
        }
        let end = base + Duration::from_secs(3600);
        while let Some(r) = jb.pop(end) {
            released.push(r);
        }
        assert!(jb.is_empty(), "case {case}");
        let s = jb.stats();
        assert_eq!(s.received as usize, arrivals.len());
        assert_eq!(s.resyncs + s.stray, 0);
        assert!(outcomes.iter().all(|(_, o)| *o != Jump));
        let Some(first) = released.first() else {
            assert!(arrivals.is_empty());
            continue;
        };
        // Strictly increasing, and released + lost cover the range exactly.
        let mut expect_ext = first.ext_seq;
        let mut lost = 0;
        for (k, r) in released.iter().enumerate() {
            assert!(!r.discontinuity);
            if k > 0 {
                expect_ext += 1 + r.lost_before;
                lost += r.lost_before;
            }
            assert_eq!(r.ext_seq, expect_ext, "case {case}");
        }
        assert_eq!(s.lost, lost + first.lost_before);
        assert_eq!(first.lost_before, 0);
        // Every pushed unique packet: released, or counted lost and then late,
        // or before the first released packet (late at start-up).
        let first_index = arrivals[0].1;
        let released_idx: std::collections::HashSet<usize> = released
            .iter()
            .map(|r| (r.ext_seq - first.ext_seq) as usize + first_index)
            .collect();
        assert_eq!(released_idx.len(), released.len());
        let last_ext = released.last().map_or(0, |r| r.ext_seq);
        for &(i, outcome) in &outcomes {
            let in_range = i >= first_index && (i - first_index) as u64 <= last_ext - first.ext_seq;
            match outcome {
                Queued | Overflow => assert!(released_idx.contains(&i), "case {case}"),
                // Already released (a second copy) or inside a gap counted as lost.
                Late => assert!(i < first_index || in_range, "case {case}"),
                Duplicate => {}
                Jump => unreachable!(),
            }
        }
        assert_eq!(
            s.duplicates + s.late + released.len() as u64,
            s.received,
            "case {case}"
        );
        // With enough patience and room, nothing in time is declared lost.
        if max_wait_ms > jitter_ms && capacity >= n {
            for &(i, outcome) in &outcomes {
                if i >= first_index {
                    assert!(released_idx.contains(&i), "case {case}: {i} {outcome:?}");
                }
            }
        }
    }
}
