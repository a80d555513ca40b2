//! Runs the sync pattern ([`super::sync_pattern`]) through a real daemon and measures the
//! output: per participant the flash−beep offset (lip sync), between participants the
//! onset differences minus their phase difference (cross-participant sync), and the
//! file's audio and video durations against the time recorded (the mixer's own Running
//! to Stopping, from its events).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use cloudmixer::proto::{MixerState, OutputStatus, VideoCodec};

use super::daemon::{Daemon, DEFAULT_RTP_PORTS};
use super::media::probe;
use super::rpc;
use super::sender::Codec;
use super::spec;
use super::sync_pattern::{
    audio_track, beep_onsets, column_mean, flash_onsets, luma_frames, paired_offsets, stats,
    Participant, PatternSender, PATTERN_FPS,
};

/// Output canvas: two 160x180 regions side by side.
pub const CANVAS: (u32, u32) = (320, 180);

/// The two participants: A (VP8, beep 1000 Hz, phase 0.0 s) on the left, B (H.264, beep
/// 2500 Hz, phase 0.5 s) on the right.
pub const PHASES: [f64; 2] = [0.0, 0.5];
pub const BEEPS_HZ: [u32; 2] = [1000, 2500];

/// Where a participant's packets go: the mixer's ports, or a relay in front of them.
pub type Route = Box<dyn Fn(SocketAddr) -> SocketAddr>;

/// What was measured.
#[derive(Debug, Default)]
pub struct SyncReport {
    /// Per participant: flash onset − beep onset, s, one per matched flash.
    pub av_offsets: [Vec<f64>; 2],
    /// (B − A) − phase difference, s, for video flashes and for beeps.
    pub video_cross: Vec<f64>,
    pub audio_cross: Vec<f64>,
    /// Flashes and beeps found per participant.
    pub flashes: [usize; 2],
    /// Onset times of the flashes found per participant, s of the output.
    pub flash_times: [Vec<f64>; 2],
    pub beeps: [usize; 2],
    /// ffprobe durations, s, and the mixer's time from Running to Stopping (its events).
    pub video_s: f64,
    pub audio_s: f64,
    pub recorded_s: f64,
    pub frame_rate: String,
    pub file: PathBuf,
    /// Per participant, from the mixer's stats just before Destroy: packets lost, audio
    /// samples dropped as later than the playout delay.
    pub packets_lost: [u64; 2],
    pub audio_samples_late: [u64; 2],
    /// Per participant: lost audio packets replaced by Opus concealment.
    pub audio_frames_concealed: [u64; 2],
}

impl SyncReport {
    /// One line per measure: count, min / mean / max in ms.
    pub fn summary(&self) -> String {
        let ms = |v: &[f64]| {
            let (lo, mean, hi) = stats(v);
            format!(
                "n={} min {:.1} mean {:.1} max {:.1} ms",
                v.len(),
                lo * 1e3,
                mean * 1e3,
                hi * 1e3
            )
        };
        format!(
            "A flash-beep: {}\nB flash-beep: {}\nB-A video: {}\nB-A audio: {}\n\
             flashes {:?} beeps {:?}; video {:.3} s, audio {:.3} s, recorded {:.3} s, {} fps\n\
             packets lost {:?}, audio samples late {:?}, audio frames concealed {:?}",
            ms(&self.av_offsets[0]),
            ms(&self.av_offsets[1]),
            ms(&self.video_cross),
            ms(&self.audio_cross),
            self.flashes,
            self.beeps,
            self.video_s,
            self.audio_s,
            self.recorded_s,
            self.frame_rate,
            self.packets_lost,
            self.audio_samples_late,
            self.audio_frames_concealed
        )
    }

    /// Every offset, of all four measures, in s.
    pub fn worst_abs(&self) -> f64 {
        self.av_offsets
            .iter()
            .flatten()
            .chain(&self.video_cross)
            .chain(&self.audio_cross)
            .map(|x| x.abs())
            .fold(0.0, f64::max)
    }
}

/// Creates a 320x180@50 mixer with participants A and B, sends the pattern for
/// `send_for` at `readrate` through `route`, destroys the mixer `tail` after the sender
/// ends, and measures the file.
pub async fn run(
    id: &str,
    send_for: Duration,
    readrate: f64,
    route: Route,
    tail: Duration,
) -> SyncReport {
    // Each source's stream offsets every 5 s, kept beside the file (see below).
    let d = Daemon::start_with_env(
        DEFAULT_RTP_PORTS,
        &[],
        &[("RUST_LOG", "info,cloudmixer::mixer::source_worker=debug")],
    );
    let mut c = d.client().await;
    let path = format!("sync/{id}.mp4");
    let mut req = spec::create_request(
        id,
        vec![
            spec::source("A", Some((VideoCodec::Vp8, 96)), true),
            spec::source("B", Some((VideoCodec::H264, 96)), true),
        ],
        vec![
            spec::region("A", 0, 0, 160, 180),
            spec::region("B", 160, 0, 160, 180),
        ],
        &path,
    );
    let cfg = req.video_file_cfg.as_mut().expect("cfg");
    (cfg.v_width, cfg.v_height, cfg.v_fps) = (CANVAS.0, CANVAS.1, PATTERN_FPS);
    let (created, mut clock) = rpc::create_clocked(&mut c, req).await;
    let participants = created
        .source_ports
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let to = |port: u32| route(SocketAddr::from(([127, 0, 0, 1], port as u16))).port();
            Participant {
                phase_s: PHASES[i],
                beep_hz: BEEPS_HZ[i],
                codec: [Codec::Vp8, Codec::H264][i],
                video_port: to(p.video_rtp_port),
                audio_port: to(p.audio_rtp_port),
                ssrc: 0x5100_0000 + 16 * i as u32,
            }
        })
        .collect();
    let sender = PatternSender {
        participants,
        duration: send_for,
        readrate,
    };
    let mut proc = sender.start();
    let ended = tokio::task::spawn_blocking(move || {
        let ok = proc.wait(send_for + Duration::from_secs(30));
        drop(proc);
        ok
    })
    .await
    .expect("join");
    assert!(ended, "the pattern sender did not end");
    // The recording's planned end, after the sender's last packet (the length of the
    // file's tail, not a wait for a condition).
    tokio::time::sleep(tail).await;
    let stats = rpc::sources(&mut c, id).await;
    let info = rpc::destroy(&mut c, id).await;
    // The mixer's own Running -> Stopping time, not the test's clock.
    let recorded_s = clock.recorded_s().await;
    assert_eq!(info.state, MixerState::Stopped as i32);
    assert_eq!(
        info.output.map(|o| o.status),
        Some(OutputStatus::Finalized as i32)
    );
    let file = d.recordings().join(&path);
    // The daemon's log beside the kept file.
    let _ = std::fs::write(
        std::env::temp_dir().join(format!("cloudmixer-{id}.log")),
        d.log(),
    );
    let keep = std::env::temp_dir().join(format!("cloudmixer-{id}.mp4"));
    let _ = std::fs::copy(&file, &keep);
    let mut r = tokio::task::spawn_blocking(move || measure(&keep, recorded_s))
        .await
        .expect("join");
    for (i, s) in stats.iter().take(2).enumerate() {
        r.packets_lost[i] = s.packets_lost;
        r.audio_samples_late[i] = s.audio_samples_late;
        r.audio_frames_concealed[i] = s.audio_frames_concealed;
    }
    r
}

/// Measures an output file of [`run`].
pub fn measure(file: &std::path::Path, recorded_s: f64) -> SyncReport {
    let (cols, rows) = (32, 18);
    let frames = luma_frames(file, cols, rows);
    let audio = audio_track(file);
    let mut r = SyncReport {
        file: file.to_owned(),
        recorded_s,
        ..Default::default()
    };
    let mut flashes = Vec::new();
    let mut beeps = Vec::new();
    for (i, &beep_hz) in BEEPS_HZ.iter().enumerate() {
        // Inner columns of the region (each region is 16 columns wide).
        let (c0, c1) = (16 * i as u32 + 3, 16 * i as u32 + 13);
        let luma: Vec<f64> = frames
            .iter()
            .map(|f| column_mean(f, cols, c0, c1))
            .collect();
        let f = flash_onsets(&luma, PATTERN_FPS);
        let b = beep_onsets(&audio, f64::from(beep_hz));
        r.flashes[i] = f.len();
        r.flash_times[i] = f.clone();
        r.beeps[i] = b.len();
        r.av_offsets[i] = paired_offsets(&b, &f, 0.3);
        eprintln!("participant {i}: flashes {f:.3?}\n beeps {b:.4?}");
        flashes.push(f);
        beeps.push(b);
    }
    let phase = PHASES[1] - PHASES[0];
    let shifted = |v: &[f64]| v.iter().map(|t| t - phase).collect::<Vec<_>>();
    r.video_cross = paired_offsets(&flashes[0], &shifted(&flashes[1]), 0.3);
    r.audio_cross = paired_offsets(&beeps[0], &shifted(&beeps[1]), 0.3);
    let p = probe(file);
    r.video_s = p.of_kind("video").first().map_or(0.0, |s| s.duration_s);
    r.audio_s = p.of_kind("audio").first().map_or(0.0, |s| s.duration_s);
    r.frame_rate = p
        .of_kind("video")
        .first()
        .map_or(String::new(), |s| s.avg_frame_rate.clone());
    r
}
