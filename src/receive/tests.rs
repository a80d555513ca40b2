//! The receive state machine fed recorded captures (tests/data/*.rtpdump) at test times
//! (µs after the epoch; "ms" in names and comments), asserting its outputs: the timing
//! lessons of docs/ARCHITECTURE.md without a real-time run.

use std::net::SocketAddr;

use rtcp::payload_feedbacks::picture_loss_indication::PictureLossIndication;
use rtcp::receiver_report::ReceiverReport;

use super::test_support::*;
use super::{Event, Output, RtcpKind};
use crate::model::{Medium, VideoCodec};
use crate::time::{AUDIO_RATE, VIDEO_RTP_RATE};

const MS: i64 = 1_000;

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("addr")
}

/// True if the marker bit of an RTP datagram is set.
fn marker(p: &Pkt) -> bool {
    p.data[1] & 0x80 != 0
}

/// (a) ffmpeg sends a sender report just before its first RTP packet. Kept, it maps the
/// stream from its first access unit on; dropped, the units before the next report (5 s
/// later with ffmpeg) were placed by arrival and jumped by the audio/video transit
/// difference (30 ms here) when it came.
#[test]
fn a_sender_report_before_the_first_packet_maps_from_the_first_unit() {
    const START: i64 = 200 * MS;
    // Audio takes 40 ms from capture to arrival, video 10 ms: the source maps both with
    // the larger, 40 ms. Video starts 100 ms after audio on the sender's clock.
    let (a_transit, v_transit, v_start) = (40 * MS, 10 * MS, 100 * MS);
    let video = capture(Capture::FfmpegVp8);
    let audio = looped(Capture::FfmpegOpus, 2);
    let mut inputs = paced(&audio, Medium::Audio, AUDIO_RATE, START, a_transit);
    inputs.extend(paced(
        &video,
        Medium::Video,
        VIDEO_RTP_RATE,
        START + v_start,
        v_transit,
    ));
    let rtcp_from = addr("127.0.0.1:5001");
    let streams = [
        (Medium::Video, &video[0], VIDEO_RTP_RATE, v_start, v_transit),
        (Medium::Audio, &audio[0], AUDIO_RATE, 0, a_transit),
    ];
    for (medium, first, rate, sender_start, transit) in streams {
        // 1 ms before the stream's first packet, and a second one 1 s later.
        let first_arrival = START + sender_start + transit;
        for k in 0..2i64 {
            let sr = sender_report(
                first.ssrc(),
                NTP_BASE_US + sender_start + k * 1_000 * MS,
                first.ts().wrapping_add((k * i64::from(rate)) as u32),
            );
            let at = first_arrival - MS + k * 1_000 * MS;
            inputs.push(At::rtcp(at, medium, sr, rtcp_from));
        }
    }
    let mut sim = Sim::new(&spec(Some(VideoCodec::Vp8), true), true);
    sim.run(inputs, 2_500 * MS);

    for (medium, first, rate, sender_start, _) in streams {
        let units = sim.units(medium);
        assert!(units.len() >= 30, "{medium:?}: {} units", units.len());
        for u in &units {
            let media = ticks_us(i64::from(u.rtp_timestamp.wrapping_sub(first.ts())), rate);
            let want = START + sender_start + media + a_transit;
            assert_eq!(
                u.mixer_time.as_micros(),
                want,
                "{medium:?} unit at {} ms of media",
                media / MS
            );
        }
    }
}

/// (b) Video pauses for 2.5 s (more than the 1 s window) while audio goes on. Audio maps
/// with its own larger offset throughout and video comes back on the same offset: the
/// source offset never toggles (docs/ARCHITECTURE.md, `source_sync`).
#[test]
fn a_paused_stream_does_not_toggle_the_source_offset() {
    const START: i64 = 100 * MS;
    let (a_transit, v_transit, v_start) = (90 * MS, 10 * MS, 100 * MS);
    let pause_until = 4_600 * MS; // sender time of the second video pass
    let audio = looped(Capture::FfmpegOpus, 6);
    let pass = capture(Capture::FfmpegVp8);
    let v0 = pass[0].ts();
    // The second pass: sequence numbers continue (nothing was sent), timestamps resume
    // after the pause.
    let resume_ts = ((pause_until - v_start) * i64::from(VIDEO_RTP_RATE) / 1_000_000) as u32;
    let again: Vec<Pkt> = pass
        .iter()
        .map(|p| p.rewritten(pass.len() as u16, resume_ts, None))
        .collect();
    let mut inputs = paced(&audio, Medium::Audio, AUDIO_RATE, START, a_transit);
    let v = Medium::Video;
    inputs.extend(paced(&pass, v, VIDEO_RTP_RATE, START + v_start, v_transit));
    inputs.extend(paced(
        &again,
        v,
        VIDEO_RTP_RATE,
        START + pause_until,
        v_transit,
    ));
    let from = addr("127.0.0.1:5001");
    let sr_v = sender_report(pass[0].ssrc(), NTP_BASE_US + v_start, v0);
    let sr_a = sender_report(audio[0].ssrc(), NTP_BASE_US, audio[0].ts());
    inputs.push(At::rtcp(START, Medium::Audio, sr_a, from));
    inputs.push(At::rtcp(START + v_start, Medium::Video, sr_v, from));
    let mut sim = Sim::new(&spec(Some(VideoCodec::Vp8), true), true);
    sim.run(inputs, 6_500 * MS);

    let audio_units = sim.units(Medium::Audio);
    assert!(audio_units.len() > 280, "{} audio units", audio_units.len());
    for u in &audio_units {
        let media = ticks_us(
            i64::from(u.rtp_timestamp.wrapping_sub(audio[0].ts())),
            48_000,
        );
        let offset = u.mixer_time.as_micros() - (START + media);
        assert_eq!(offset, a_transit, "audio at {} ms of media", media / MS);
    }
    let video_units = sim.units(Medium::Video);
    assert_eq!(video_units.len(), 60, "both video passes");
    for u in &video_units {
        let media = v_start + ticks_us(i64::from(u.rtp_timestamp.wrapping_sub(v0)), 90_000);
        let offset = u.mixer_time.as_micros() - (START + media);
        assert_eq!(offset, a_transit, "video at {} ms of media", media / MS);
    }
    assert_eq!(sim.rx.sync().adjustments(), 0);
}

/// (c) A sender restarts with a new SSRC, sequence numbers 500 lower, timestamps going
/// on as if nothing happened, and arrives 300 ms later than those predict: everything of
/// the old SSRC is forgotten. Not reset, the jitter buffer would drop the new packets as
/// late, the mapping would place them 300 ms early, and no keyframe would be asked for.
#[test]
fn an_ssrc_change_resets_the_stream() {
    const NEW: u32 = 0xBBBB;
    let all = capture(Capture::FfmpegVp8);
    let old_ssrc = all[0].ssrc();
    // The old stream ends with a complete frame (a marker) after 30 packets.
    let cut = (30..all.len())
        .find(|&i| marker(&all[i]))
        .expect("a marker")
        + 1;
    let old = &all[..cut];
    let next_ts = old[cut - 1].ts().wrapping_sub(all[0].ts()) + 6000;
    let new: Vec<Pkt> = all
        .iter()
        .map(|p| p.rewritten(0u16.wrapping_sub(500), next_ts, Some(NEW)))
        .collect();
    let transit = 10 * MS;
    let new_start = ticks_us(i64::from(next_ts), VIDEO_RTP_RATE) + 300 * MS;
    let mut inputs = paced(old, Medium::Video, VIDEO_RTP_RATE, 0, transit);
    inputs.extend(paced(
        &new,
        Medium::Video,
        VIDEO_RTP_RATE,
        new_start,
        transit,
    ));
    let mut sim = Sim::new(&spec(Some(VideoCodec::Vp8), false), true);
    sim.run(inputs, new_start + 2_500 * MS);

    let changes: Vec<Event> = sim
        .out
        .iter()
        .filter_map(|(_, o)| match o {
            Output::Event(e @ Event::SsrcChanged { .. }) => Some(*e),
            _ => None,
        })
        .collect();
    let first = |new| Event::SsrcChanged {
        medium: Medium::Video,
        old: None,
        new,
    };
    let change = Event::SsrcChanged {
        medium: Medium::Video,
        old: Some(old_ssrc),
        new: NEW,
    };
    assert_eq!(changes, vec![first(old_ssrc), change]);
    assert_eq!(sim.count(|c| &c.packets_dropped), 0, "nothing late");
    assert_eq!(sim.count(|c| &c.packets_lost), 0, "nothing lost");
    let new_units: Vec<_> = sim
        .units(Medium::Video)
        .into_iter()
        .skip_while(|u| u.mixer_time.as_micros() < new_start)
        .collect();
    assert_eq!(new_units.len(), 30, "every frame of the new stream");
    let n0 = new[0].ts();
    for u in &new_units {
        // Placed at its arrival: the new stream's mapping starts afresh.
        let media = ticks_us(i64::from(u.rtp_timestamp.wrapping_sub(n0)), VIDEO_RTP_RATE);
        assert_eq!(u.mixer_time.as_micros(), new_start + media + transit);
    }
    // The new stream starts waiting for a keyframe and asks the new SSRC for one.
    let asks: Vec<(i64, u32)> = sim
        .transmits(&[RtcpKind::Pli])
        .into_iter()
        .map(|(t, x)| (t, pli_media_ssrc(&x.data)))
        .collect();
    assert_eq!(asks, vec![(transit, old_ssrc), (new_start + transit, NEW)]);
}

fn pli_media_ssrc(data: &[u8]) -> u32 {
    let mut b = bytes::Bytes::copy_from_slice(data);
    let packets = rtcp::packet::unmarshal(&mut b).expect("RTCP");
    packets
        .iter()
        .find_map(|p| p.as_any().downcast_ref::<PictureLossIndication>())
        .expect("a PLI")
        .media_ssrc
}

/// (d) Loss inside a video frame, at the capture's recorded arrival times: the frame and
/// every delta frame after it are dropped until a keyframe; the keyframe request goes
/// out exactly when the jitter buffer declares the packet lost (60 ms after the next
/// packet arrived, not earlier), then every 500 ms while no keyframe comes, every third
/// a FIR.
#[test]
fn loss_inside_a_frame_drops_it_and_asks_for_a_keyframe() {
    use RtcpKind::{Fir, Pli};
    let pkts = capture(Capture::FfmpegVp8);
    let seq0 = pkts[0].seq();
    let at = |seq: u16| pkts[usize::from(seq - seq0)].ms * MS;
    let ts_of = |seq: u16| pkts[usize::from(seq - seq0)].ts();
    // Frames: 1603-1604 a delta frame at 547 ms; keyframes start at 1613 (1073 ms) and
    // 1638 (2179 ms).
    let t1 = at(1604) + 60 * MS;
    // (name, sequence numbers lost, next keyframe's first packet, requests (µs, kind))
    type Case<'a> = (&'a str, &'a [u16], u16, Vec<(i64, RtcpKind)>);
    let cases: [Case; 2] = [
        ("a delta frame", &[1603], 1613, vec![(0, Pli), (t1, Pli)]),
        (
            "a delta frame and the next keyframe",
            &[1603, 1614],
            1638,
            vec![
                (0, Pli),
                (t1, Pli),
                (t1 + 500 * MS, Pli),
                (t1 + 1_000 * MS, Fir),
                (t1 + 1_500 * MS, Pli),
            ],
        ),
    ];
    for (name, lose, next_key, requests) in cases {
        let kept: Vec<Pkt> = pkts
            .iter()
            .filter(|p| !lose.contains(&p.seq()))
            .cloned()
            .collect();
        let mut sim = Sim::new(&spec(Some(VideoCodec::Vp8), false), true);
        sim.run(as_recorded(&kept, Medium::Video, 0), 4_000 * MS);

        assert!(
            requests.last().unwrap().0 < at(next_key),
            "{name}: case set-up"
        );
        assert_eq!(sim.keyframe_requests(), requests, "{name}");
        let wanted: Vec<i64> = sim
            .out
            .iter()
            .filter(|(_, o)| matches!(o, Output::Event(Event::KeyframeWanted { .. })))
            .map(|(t, _)| *t)
            .collect();
        assert_eq!(wanted, vec![t1], "{name}: KeyframeWanted");
        assert_eq!(sim.count(|c| &c.packets_lost), lose.len() as u64, "{name}");
        let (gap_start, gap_end) = (ts_of(1603), ts_of(next_key));
        let got: Vec<u32> = sim
            .units(Medium::Video)
            .iter()
            .map(|u| u.rtp_timestamp)
            .collect();
        let mut want: Vec<u32> = pkts.iter().map(Pkt::ts).collect();
        want.dedup();
        want.retain(|&ts| !(gap_start..gap_end).contains(&ts));
        assert_eq!(got, want, "{name}: frames out");
    }
}

/// (e) Packets out of order within the reorder wait are put back in order (the same
/// units at the same mixer times); a packet later than the wait, after its number was
/// declared lost, and a duplicate are dropped and counted.
#[test]
fn late_duplicate_and_reordered_packets() {
    let pkts = capture(Capture::FfmpegVp8);
    let base = {
        let mut sim = Sim::new(&spec(Some(VideoCodec::Vp8), false), true);
        sim.run(as_recorded(&pkts, Medium::Video, 0), 4_000 * MS);
        sim.units(Medium::Video)
    };
    let idx = |seq: u16| usize::from(seq - pkts[0].seq());
    // (name, packet index, delay, duplicate, dropped, lost, frames missing [from, to) by ts)
    type Case<'a> = (&'a str, usize, i64, bool, u64, u64, Option<(u16, u16)>);
    let cases: [Case; 4] = [
        (
            "reordered inside a frame",
            idx(1589),
            15 * MS,
            false,
            0,
            0,
            None,
        ),
        (
            "40 ms late: still in time",
            idx(1605),
            40 * MS,
            false,
            0,
            0,
            None,
        ),
        (
            "100 ms late: lost, then dropped",
            idx(1605),
            100 * MS,
            false,
            1,
            1,
            Some((1605, 1613)),
        ),
        ("a duplicate", idx(1590), 5 * MS, true, 1, 0, None),
    ];
    for (name, i, delay, duplicate, dropped, lost, missing) in cases {
        let mut inputs = as_recorded(&pkts, Medium::Video, 0);
        if duplicate {
            let mut copy = inputs[i].clone();
            copy.us += delay;
            inputs.push(copy);
        } else {
            inputs[i].us += delay;
        }
        let mut sim = Sim::new(&spec(Some(VideoCodec::Vp8), false), true);
        sim.run(inputs, 4_000 * MS);
        assert_eq!(
            sim.count(|c| &c.packets_dropped),
            dropped,
            "{name}: dropped"
        );
        assert_eq!(
            sim.count(|c| &c.drops_duplicate_or_late),
            dropped,
            "{name}: counted as duplicate or late"
        );
        assert_eq!(sim.count(|c| &c.packets_lost), lost, "{name}: lost");
        let mut want = base.clone();
        if let Some((from, to)) = missing {
            let range = pkts[idx(from)].ts()..pkts[idx(to)].ts();
            want.retain(|u| !range.contains(&u.rtp_timestamp));
        }
        assert_eq!(sim.units(Medium::Video), want, "{name}: units");
    }
}

/// (f) Sequence numbers wrapping 65535 -> 0 and RTP timestamps wrapping 2^32 -> 0 inside
/// a capture change nothing: the same units at the same mixer times, nothing lost,
/// with arrival mapping and with a sender report.
#[test]
fn sequence_and_timestamp_wraparound_keep_units_continuous() {
    use Capture::*;
    // (capture, video codec, packet index with sequence number 0, ticks after the first
    // timestamp where the timestamp wraps, sender report)
    let cases = [
        (FfmpegVp8, Some(VideoCodec::Vp8), 30, 81_000u32, false),
        (FfmpegVp8, Some(VideoCodec::Vp8), 30, 81_000, true),
        (FfmpegH264, Some(VideoCodec::H264), 50, 90_000, false),
        (FfmpegOpus, None, 25, 24_000, false),
        (FfmpegOpus, None, 25, 24_000, true),
    ];
    for (c, codec, seq_zero_at, ts_wrap_at, with_sr) in cases {
        let name = format!("{c:?} sender report {with_sr}");
        let medium = if codec.is_some() {
            Medium::Video
        } else {
            Medium::Audio
        };
        let pkts = capture(c);
        let run = |seq_add: u16, ts_add: u32| {
            let moved: Vec<Pkt> = pkts
                .iter()
                .map(|p| p.rewritten(seq_add, ts_add, None))
                .collect();
            let mut inputs = as_recorded(&moved, medium, 20 * MS);
            if with_sr {
                let sr = sender_report(moved[0].ssrc(), NTP_BASE_US, moved[0].ts());
                inputs.push(At::rtcp(19 * MS, medium, sr, addr("127.0.0.1:5001")));
            }
            let mut sim = Sim::new(&spec(codec, codec.is_none()), true);
            sim.run(inputs, 3_000 * MS);
            assert_eq!(sim.count(|c| &c.packets_lost), 0, "{name}: lost");
            assert_eq!(sim.count(|c| &c.packets_dropped), 0, "{name}: dropped");
            sim.units(medium)
        };
        let base = run(0, 0);
        let seq_add = 0u16.wrapping_sub(pkts[0].seq()).wrapping_sub(seq_zero_at);
        let ts_add = 0u32.wrapping_sub(pkts[0].ts()).wrapping_sub(ts_wrap_at);
        let wrapped = run(seq_add, ts_add);
        assert!(base.len() >= 30, "{name}: {} units", base.len());
        assert_eq!(wrapped.len(), base.len(), "{name}: units");
        assert!(
            wrapped
                .windows(2)
                .any(|w| w[1].rtp_timestamp < w[0].rtp_timestamp),
            "{name}: the timestamps wrap inside the capture"
        );
        for (w, b) in wrapped.iter().zip(&base) {
            assert_eq!(w.rtp_timestamp, b.rtp_timestamp.wrapping_add(ts_add));
            assert_eq!(
                (w.mixer_time, &w.data, w.keyframe),
                (b.mixer_time, &b.data, b.keyframe),
                "{name}: unit of ts {}",
                b.rtp_timestamp
            );
        }
    }
}

/// (g) Receiver reports every second from the stream's first packet (none over WebRTC,
/// where the peer connection sends them), and every RTCP packet (reports and keyframe
/// requests) to the feedback address: the last source on the RTCP port (Janus latches
/// with a dummy RTP header; a sender report), else the RTP source's port + 1.
#[test]
fn receiver_reports_every_second_to_the_feedback_address() {
    let pkts = capture(Capture::FfmpegVp8);
    let ssrc = pkts[0].ssrc();
    let janus_latch = vec![0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
    let sr_ntp = NTP_BASE_US;
    let sr = sender_report(ssrc, sr_ntp, pkts[0].ts()).to_vec();
    let lsr = |ntp_us: i64| ((((ntp_us / 1_000_000) as u64) << 32) >> 16) as u32;
    // (name, datagram on the RTCP port before the first packet, we send RRs, destination)
    type Case<'a> = (&'a str, Option<(Vec<u8>, &'a str)>, bool, &'a str);
    let cases: [Case; 4] = [
        ("RTP source port + 1", None, true, "127.0.0.1:5001"),
        (
            "Janus latch",
            Some((janus_latch, "127.0.0.1:7000")),
            true,
            "127.0.0.1:7000",
        ),
        (
            "sender report",
            Some((sr, "127.0.0.1:6001")),
            true,
            "127.0.0.1:6001",
        ),
        ("WebRTC: no receiver reports", None, false, "127.0.0.1:5001"),
    ];
    let first = 10 * MS;
    for (name, rtcp_in, send_rr, to) in cases {
        let mut inputs = paced(&pkts, Medium::Video, VIDEO_RTP_RATE, 0, first);
        let has_sr = matches!(&rtcp_in, Some((d, _)) if d.len() > 12);
        if let Some((d, from)) = rtcp_in {
            inputs.push(At::rtcp(5 * MS, Medium::Video, d, addr(from)));
        }
        let mut sim = Sim::new(&spec(Some(VideoCodec::Vp8), false), send_rr);
        sim.run(inputs, 3_500 * MS);

        let rrs = sim.transmits(&[RtcpKind::ReceiverReport]);
        let times: Vec<i64> = rrs.iter().map(|(t, _)| *t).collect();
        let want: Vec<i64> = if send_rr {
            (0..4).map(|k| first + k * 1_000 * MS).collect()
        } else {
            vec![]
        };
        assert_eq!(times, want, "{name}: receiver report times");
        let all = sim.transmits(&[RtcpKind::ReceiverReport, RtcpKind::Pli, RtcpKind::Fir]);
        assert!(
            all.iter().any(|(_, x)| x.kind == RtcpKind::Pli),
            "{name}: a PLI"
        );
        for (t, x) in &all {
            assert_eq!(x.to, Some(addr(to)), "{name}: {:?} at {t} µs", x.kind);
        }
        for (_, x) in &rrs {
            let mut b = x.data.clone();
            let packets = rtcp::packet::unmarshal(&mut b).expect("RTCP");
            let rr = packets[0]
                .as_any()
                .downcast_ref::<ReceiverReport>()
                .expect("an RR");
            assert_eq!(rr.reports[0].ssrc, ssrc, "{name}");
            let want_lsr = if has_sr { lsr(sr_ntp) } else { 0 };
            assert_eq!(rr.reports[0].last_sender_report, want_lsr, "{name}: LSR");
        }
    }
}

/// The mixer's keyframe wish (a layout change made the source visible) is a PLI at the
/// next poll if the last request is 500 ms old; a wish inside the interval is dropped,
/// not queued (the mixer asks again on its next change).
#[test]
fn a_keyframe_wish_of_the_mixer_respects_the_interval() {
    let pkts = capture(Capture::FfmpegVp8);
    let inputs = paced(&pkts, Medium::Video, VIDEO_RTP_RATE, 0, 10 * MS);
    let (early, late): (Vec<At>, Vec<At>) = inputs.into_iter().partition(|a| a.us < 1_000 * MS);
    let mut sim = Sim::new(&spec(Some(VideoCodec::Vp8), false), true);
    sim.run(early, 1_000 * MS);
    sim.rx.request_keyframe();
    sim.drain();
    sim.run(vec![], 1_200 * MS);
    sim.rx.request_keyframe();
    sim.drain();
    sim.run(late, 3_000 * MS);
    let want = vec![(10 * MS, RtcpKind::Pli), (1_000 * MS, RtcpKind::Pli)];
    assert_eq!(sim.keyframe_requests(), want);
}

/// Every drop is counted in `packets_dropped` and in its cause: garbage on the RTP and
/// RTCP ports is a parse error; another payload type, or RTP of a medium the source does
/// not have, is a PT/SSRC mismatch.
#[test]
fn drops_are_counted_by_cause() {
    // RTP version 2, PT 50 (the source expects VP8 on 96), seq 1, ts 0, SSRC 7.
    let wrong_pt: Vec<u8> = vec![0x80, 50, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7, 0xaa];
    let mut right_pt = wrong_pt.clone();
    right_pt[1] = 96;
    let inputs = vec![
        At::rtp(0, Medium::Video, &b"not RTP"[..]),
        At::rtcp(MS, Medium::Video, &b"not RTCP"[..], sender()),
        At::rtp(2 * MS, Medium::Video, wrong_pt),
        // The source has no audio stream.
        At::rtp(3 * MS, Medium::Audio, right_pt),
    ];
    let mut sim = Sim::new(&spec(Some(VideoCodec::Vp8), false), true);
    sim.run(inputs, 100 * MS);
    assert_eq!(sim.count(|c| &c.drops_parse_error), 2, "parse errors");
    assert_eq!(sim.count(|c| &c.drops_pt_ssrc_mismatch), 2, "PT/SSRC");
    assert_eq!(sim.count(|c| &c.drops_duplicate_or_late), 0);
    assert_eq!(sim.count(|c| &c.packets_dropped), 4, "the total");
}

#[path = "tests_latch.rs"]
mod latch;
