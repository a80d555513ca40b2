//! Test support for the receive state machine: recorded captures (tests/data/*.rtpdump)
//! rewritten (SSRC, sequence number and timestamp offsets), synthesized RTCP sender
//! reports, and a driver that feeds inputs at test times and polls at the receiver's
//! own timeouts, as the shell does.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use rtcp::sender_report::SenderReport;
use webrtc_util::marshal::Marshal;

use super::{Input, Output, Port, ReceiverConfig, RtcpKind, SourceReceiver, TimedUnit, Transmit};
use crate::model::{
    AudioCodec, Medium, RtpStreamSpec, SourceCounters, SourceSpec, SourceTransport, VideoCodec,
};

/// A capture under tests/data/.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capture {
    /// ffmpeg libvpx, 15 fps, 30 frames (keyframes at 0, 10, 20), PT 96, 1.93 s.
    FfmpegVp8,
    /// ffmpeg libx264, 15 fps, 30 access units, PT 96.
    FfmpegH264,
    /// ffmpeg libopus, 20 ms packets, 51 packets, PT 111.
    FfmpegOpus,
}

/// One packet of a capture: arrival offset (ms, as recorded), and the datagram.
#[derive(Debug, Clone)]
pub struct Pkt {
    pub ms: i64,
    pub data: Vec<u8>,
}

impl Pkt {
    pub fn seq(&self) -> u16 {
        u16::from_be_bytes([self.data[2], self.data[3]])
    }
    pub fn ts(&self) -> u32 {
        u32::from_be_bytes([self.data[4], self.data[5], self.data[6], self.data[7]])
    }
    pub fn ssrc(&self) -> u32 {
        u32::from_be_bytes([self.data[8], self.data[9], self.data[10], self.data[11]])
    }
    /// The same packet with `seq_add` / `ts_add` added (wrapping) and its SSRC replaced.
    pub fn rewritten(&self, seq_add: u16, ts_add: u32, ssrc: Option<u32>) -> Pkt {
        let mut data = self.data.clone();
        data[2..4].copy_from_slice(&self.seq().wrapping_add(seq_add).to_be_bytes());
        data[4..8].copy_from_slice(&self.ts().wrapping_add(ts_add).to_be_bytes());
        if let Some(s) = ssrc {
            data[8..12].copy_from_slice(&s.to_be_bytes());
        }
        Pkt { ms: self.ms, data }
    }
}

/// The packets of a capture, in recorded order.
pub fn capture(c: Capture) -> Vec<Pkt> {
    let bytes: &[u8] = match c {
        Capture::FfmpegVp8 => include_bytes!("../../tests/data/ffmpeg_vp8.rtpdump"),
        Capture::FfmpegH264 => include_bytes!("../../tests/data/ffmpeg_h264.rtpdump"),
        Capture::FfmpegOpus => include_bytes!("../../tests/data/ffmpeg_opus.rtpdump"),
    };
    crate::ingest::rtpdump::records(bytes)
        .into_iter()
        .map(|(ms, d)| Pkt {
            ms: i64::from(ms),
            data: d.to_vec(),
        })
        .collect()
}

/// A capture played `n` times back to back, each pass continuing the sequence numbers
/// and timestamps (one packet interval after the previous pass's last).
pub fn looped(c: Capture, n: usize) -> Vec<Pkt> {
    let one = capture(c);
    let (first, last) = (&one[0], &one[one.len() - 1]);
    // One frame / packet interval after the last one.
    let interval = one
        .iter()
        .map(|p| p.ts().wrapping_sub(first.ts()))
        .find(|&d| d > 0)
        .expect("two timestamps");
    let step_ts = last.ts().wrapping_sub(first.ts()) + interval;
    let step_seq = one.len() as u16;
    (0..n)
        .flat_map(|k| {
            let k32 = k as u32;
            one.iter()
                .map(move |p| p.rewritten(step_seq * k as u16, step_ts * k32, None))
        })
        .collect()
}

/// A sender report of `ssrc`: RTP time `rtp_time` was sampled at NTP time `ntp_secs`
/// whole seconds plus `ntp_extra_us` µs (kept whole-µs exact: the fraction is µs·2^32/10^6
/// rounded up so the receiver's floor gives the µs back).
pub fn sender_report(ssrc: u32, ntp_us: i64, rtp_time: u32) -> Bytes {
    let secs = (ntp_us / 1_000_000) as u64;
    let us = (ntp_us % 1_000_000) as u64;
    let frac = (us << 32).div_ceil(1_000_000);
    let sr = SenderReport {
        ssrc,
        ntp_time: (secs << 32) | frac,
        rtp_time,
        ..Default::default()
    };
    sr.marshal().expect("SR")
}

/// NTP time of the test senders' first sample, µs since 1900 (2023-ish).
pub const NTP_BASE_US: i64 = 3_900_000_000 * 1_000_000;

/// The sender's address in the tests; its RTCP is expected at port + 1.
pub fn sender() -> SocketAddr {
    "127.0.0.1:5000".parse().expect("addr")
}

/// A source with VP8 (or H.264) video on PT 96 and/or Opus on PT 111.
pub fn spec(video: Option<VideoCodec>, audio: bool) -> SourceSpec {
    SourceSpec {
        camid: "t".into(),
        video: video.map(|codec| RtpStreamSpec {
            codec,
            payload_type: 96,
            ssrc: None,
        }),
        audio: audio.then_some(RtpStreamSpec {
            codec: AudioCodec::Opus,
            payload_type: 111,
            ssrc: None,
        }),
        transport: SourceTransport::Rtp,
        ..Default::default()
    }
}

/// One input at a test time (µs after the epoch).
#[derive(Debug, Clone)]
pub struct At {
    pub us: i64,
    pub medium: Medium,
    pub port: Port,
    pub data: Bytes,
    pub from: SocketAddr,
}

impl At {
    /// An RTP datagram from [`sender`].
    pub fn rtp(us: i64, medium: Medium, data: impl Into<Bytes>) -> Self {
        At {
            us,
            medium,
            port: Port::Rtp,
            data: data.into(),
            from: sender(),
        }
    }
    /// A datagram on the RTCP port from `from`.
    pub fn rtcp(us: i64, medium: Medium, data: impl Into<Bytes>, from: SocketAddr) -> Self {
        At {
            us,
            medium,
            port: Port::Rtcp,
            data: data.into(),
            from,
        }
    }
}

/// A receiver driven as the shell drives it: each input at its time, then every output
/// drained; between inputs, a poll at each `poll_timeout`.
pub struct Sim {
    pub rx: SourceReceiver,
    pub epoch: Instant,
    pub counters: Arc<SourceCounters>,
    /// Every output with the test time (µs after the epoch) it came out at.
    pub out: Vec<(i64, Output)>,
    now: Instant,
}

impl Sim {
    pub fn new(spec: &SourceSpec, send_receiver_reports: bool) -> Self {
        let epoch = Instant::now();
        let counters = Arc::new(SourceCounters::default());
        let config = ReceiverConfig {
            epoch,
            our_ssrc: 0xC0FFEE,
            send_receiver_reports,
            latch: Some(Default::default()),
        };
        Sim {
            rx: SourceReceiver::new(spec, config, counters.clone()),
            epoch,
            counters,
            out: Vec::new(),
            now: epoch,
        }
    }

    fn at(&self, us: i64) -> Instant {
        self.epoch + Duration::from_micros(us as u64)
    }

    fn us(&self, t: Instant) -> i64 {
        t.duration_since(self.epoch).as_micros() as i64
    }

    /// Polls at every timeout before `t`, then moves the clock to `t`.
    pub fn advance(&mut self, t_us: i64) {
        let t = self.at(t_us);
        let mut same = 0;
        while let Some(d) = self.rx.poll_timeout().filter(|&d| d < t) {
            let d = d.max(self.now);
            same = if d == self.now { same + 1 } else { 0 };
            assert!(
                same < 100,
                "poll_timeout does not advance at {} µs",
                self.us(d)
            );
            self.now = d;
            self.drain();
        }
        self.now = self.now.max(t);
    }

    /// Drains every output at the current time (what the shell does after each wake-up).
    pub fn drain(&mut self) {
        while let Some(o) = self.rx.poll_output(self.now) {
            let t = self.us(self.now);
            self.out.push((t, o));
        }
    }

    /// Feeds `inputs` (sorted by time, stably), then runs the clock to `until_us`.
    pub fn run(&mut self, mut inputs: Vec<At>, until_us: i64) {
        inputs.sort_by_key(|a| a.us);
        for a in inputs {
            self.advance(a.us);
            self.rx.handle_input(Input {
                medium: a.medium,
                port: a.port,
                data: a.data,
                from: a.from,
                arrival: self.at(a.us),
            });
            self.drain();
        }
        self.advance(until_us);
        self.drain();
    }

    /// The access units of `medium`.
    pub fn units(&self, medium: Medium) -> Vec<TimedUnit> {
        self.out
            .iter()
            .filter_map(|(_, o)| match o {
                Output::AccessUnit(u) if u.medium == medium => Some(u.clone()),
                _ => None,
            })
            .collect()
    }

    /// The RTCP sent, with its time (µs), of the kinds `kinds`.
    pub fn transmits(&self, kinds: &[RtcpKind]) -> Vec<(i64, Transmit)> {
        self.out
            .iter()
            .filter_map(|(t, o)| match o {
                Output::Transmit(x) if kinds.contains(&x.kind) => Some((*t, x.clone())),
                _ => None,
            })
            .collect()
    }

    /// Keyframe requests (PLI, FIR) with their times (µs).
    pub fn keyframe_requests(&self) -> Vec<(i64, RtcpKind)> {
        self.transmits(&[RtcpKind::Pli, RtcpKind::Fir])
            .into_iter()
            .map(|(t, x)| (t, x.kind))
            .collect()
    }

    /// A counter's value.
    pub fn count(&self, c: impl Fn(&SourceCounters) -> &std::sync::atomic::AtomicU64) -> u64 {
        c(&self.counters).load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// `ticks` of a `rate` Hz clock in µs, rounded down (as the receiver converts).
pub fn ticks_us(ticks: i64, rate: u32) -> i64 {
    crate::time::rescale_floor(ticks, rate, crate::time::MICROS)
}

/// RTP packets of a capture as inputs: each at `start_us` + its offset in the stream's
/// own clock (`ts` − first `ts`, so the sender is exactly real time) + `transit_us`.
pub fn paced(pkts: &[Pkt], medium: Medium, rate: u32, start_us: i64, transit_us: i64) -> Vec<At> {
    let ts0 = pkts[0].ts();
    pkts.iter()
        .map(|p| {
            let media = ticks_us(i64::from(p.ts().wrapping_sub(ts0)), rate);
            At::rtp(start_us + media + transit_us, medium, p.data.clone())
        })
        .collect()
}

/// RTP packets of a capture at their recorded arrival offsets, from `start_us`.
pub fn as_recorded(pkts: &[Pkt], medium: Medium, start_us: i64) -> Vec<At> {
    pkts.iter()
        .map(|p| At::rtp(start_us + p.ms * 1000, medium, p.data.clone()))
        .collect()
}
