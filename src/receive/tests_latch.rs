//! Symmetric RTP through the whole receiver (`receive/latch.rs` in place): strangers
//! are not mixed and get no feedback; a sender that rebinds is followed.

use super::*;

/// Symmetric RTP: a stranger on another host sending RTP (another SSRC) and writing to
/// the RTCP port while the real sender streams changes nothing: the same access units
/// come out, every stranger datagram counts as foreign, and all feedback still goes to
/// the real sender's RTCP port (receive/latch.rs).
#[test]
fn a_stranger_is_not_mixed_and_gets_no_feedback() {
    let pkts = capture(Capture::FfmpegVp8);
    let real = paced(&pkts, Medium::Video, VIDEO_RTP_RATE, 0, 10 * MS);
    let stranger_rtp = addr("127.0.0.2:5000");
    let mut inputs = real.clone();
    let mut foreign = 0;
    for a in real.iter().skip(5) {
        let p = Pkt {
            data: a.data.to_vec(),
            ms: 0,
        }
        .rewritten(1000, 0, Some(0x5757_5757));
        let mut s = At::rtp(a.us + 3 * MS, Medium::Video, p.data);
        s.from = stranger_rtp;
        inputs.push(s);
        foreign += 1;
    }
    // Janus-style "latching" from the stranger's host, and a sender report.
    for k in 0..3 {
        let latch = vec![0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        inputs.push(At::rtcp(
            (100 + 300 * k) * MS,
            Medium::Video,
            latch,
            addr("127.0.0.2:7000"),
        ));
        foreign += 1;
    }
    let mut alone = Sim::new(&spec(Some(VideoCodec::Vp8), false), true);
    alone.run(real, 3_000 * MS);
    let mut sim = Sim::new(&spec(Some(VideoCodec::Vp8), false), true);
    sim.run(inputs, 3_000 * MS);

    let want = alone.units(Medium::Video);
    assert!(want.len() > 20, "{} units", want.len());
    assert_eq!(
        sim.units(Medium::Video),
        want,
        "the stranger changed the units"
    );
    assert_eq!(sim.count(|c| &c.drops_foreign_address), foreign);
    let all = sim.transmits(&[RtcpKind::ReceiverReport, RtcpKind::Pli, RtcpKind::Fir]);
    assert!(!all.is_empty());
    for (t, x) in &all {
        assert_eq!(x.to, Some(addr("127.0.0.1:5001")), "{:?} at {t} µs", x.kind);
    }
}

/// NAT rebinding: the sender's packets continue, same SSRC, from a new port. After the
/// rebind silence the stream follows them (no SSRC change, no more foreign drops) and
/// feedback goes to the new port + 1.
#[test]
fn a_rebound_sender_is_followed_after_the_rebind_silence() {
    let pkts = capture(Capture::FfmpegVp8);
    let mut inputs = paced(&pkts, Medium::Video, VIDEO_RTP_RATE, 0, 10 * MS);
    let moved = addr("127.0.0.1:6000");
    let switch_at = 1_000 * MS;
    for a in inputs.iter_mut().filter(|a| a.us >= switch_at) {
        a.from = moved;
    }
    let mut sim = Sim::new(&spec(Some(VideoCodec::Vp8), false), true);
    sim.run(inputs.clone(), 3_000 * MS);
    let rebind = crate::receive::latch::DEFAULT_REBIND_AFTER.as_micros() as i64;
    let dropped = inputs
        .iter()
        .filter(|a| a.us >= switch_at && a.us < switch_at + rebind)
        .count() as u64;
    assert!(dropped > 0);
    // The first moved packet arrives a little after switch_at: the silence starts at the
    // last packet from the old port, so at most the packets of the rebind window drop.
    let got = sim.count(|c| &c.drops_foreign_address);
    assert!(
        got > 0 && got <= dropped,
        "{got} foreign, window holds {dropped}"
    );
    let ssrc_events = sim
        .out
        .iter()
        .filter(|(_, o)| matches!(o, Output::Event(Event::SsrcChanged { .. })))
        .count();
    assert_eq!(ssrc_events, 1, "only the first SSRC");
    let last_pli_or_rr = sim
        .transmits(&[RtcpKind::ReceiverReport, RtcpKind::Pli, RtcpKind::Fir])
        .into_iter()
        .last()
        .expect("feedback");
    assert_eq!(last_pli_or_rr.1.to, Some(addr("127.0.0.1:6001")));
}
