//! End to end, the mixed audio with ffmpeg senders through the daemon, checked on the
//! decoded recordings:
//! - two and three simultaneous full-scale talkers (sines of peak 1.0): no decoded
//!   sample of the composite at or beyond full scale after AAC (the limiter), and every
//!   talker's tone still clearly measurable;
//! - per-source gain and mute: a -6 dB source is 6 ± 0.5 dB under a 0 dB one, a muted one
//!   is below -80 dBFS in the mix while its own per-participant file keeps its tone, a
//!   lone talker under the ceiling keeps its level within 0.5 dB; Update changes gain and
//!   mute live; Get reports them with each source's level.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use cloudmixer::proto::{
    CreateCloudMixerRequest, MixerInfo, OutputKind, RecordCfg, RecordMode, SingleMedia, SourceMix,
    SourcePorts, UpdateCloudMixerContentRequest,
};
use common::daemon::Daemon;
use common::media::{tone_amplitude, MIN_TONE_RATIO};
use common::rpc::{self, Client};
use common::run_bounded;
use common::sender::{self, Codec, Sender, SenderSpec};
use common::spec;

/// Bound of every wait (senders heard, media recorded).
const LIMIT: Duration = Duration::from_secs(30);
/// Peak of a normal talker's tone (each channel): 1/8, -18 dBFS.
const SINE_AMPLITUDE: f64 = 0.125;
/// Tolerance of a level or a level difference, dB (the bound).
const LEVEL_TOLERANCE_DB: f64 = 0.5;
/// A muted source must be below this in the mix, as an amplitude (-80 dBFS).
const MUTED_MAX_AMPLITUDE: f64 = 1e-4;
/// A limited talker's tone must keep at least this amplitude (-20 dBFS).
const LIMITED_MIN_AMPLITUDE: f64 = 0.1;

fn db(ratio: f64) -> f64 {
    20.0 * ratio.log10()
}

/// An audio-only request for `n` sources `T0`, `T1`, ... whose composite is
/// `audio-mix/<id>.m4a`.
fn audio_request(id: &str, n: usize, record_cfg: Option<RecordCfg>) -> CreateCloudMixerRequest {
    let sources = (0..n)
        .map(|i| spec::source(&format!("T{i}"), None, true))
        .collect();
    CreateCloudMixerRequest {
        record_cfg,
        ..spec::create_request(id, sources, vec![], &format!("audio-mix/{id}.mp4"))
    }
}

/// An audio-only sender of `tone_hz` at peak `amplitude` to the source's audio port.
fn tone(tone_hz: u32, amplitude: f64, p: &SourcePorts) -> Sender {
    let port = u16::try_from(p.audio_rtp_port).expect("a UDP port");
    let s = SenderSpec {
        video_port: None,
        ..SenderSpec::solid("black", Codec::Vp8, tone_hz, 0, port)
    };
    sender::start_with_tone_amplitude(&s, amplitude)
}

/// [`rpc::poll_until`] bounded by [`LIMIT`].
async fn wait_info(
    c: &mut Client,
    id: &str,
    what: &str,
    done: impl Fn(&MixerInfo) -> bool,
) -> MixerInfo {
    rpc::poll_until(c, id, what, LIMIT, done).await
}

async fn wait_heard(c: &mut Client, id: &str) -> MixerInfo {
    wait_info(c, id, "every sender heard", |i| {
        i.sources.iter().all(|s| s.audio_frames_decoded > 50)
    })
    .await
}

/// Waits until the composite holds at least `ms` of media; returns its duration.
async fn wait_recorded(c: &mut Client, id: &str, ms: u64) -> u64 {
    let info = wait_info(c, id, &format!("{ms} ms recorded"), |i| {
        i.output.as_ref().is_some_and(|o| o.duration_ms >= ms)
    })
    .await;
    info.output.expect("the composite").duration_ms
}

/// The samples of `path` from `t1_s` to `t2_s` as decoded (f32, not clipped): every
/// channel interleaved, or with `first_only` the first channel alone (ffmpeg's `pan`
/// copying channel 0 with gain 1: no downmix that would change a level).
fn decoded_f32(path: &Path, t1_s: f64, t2_s: f64, first_only: bool) -> Vec<f32> {
    let mut cmd = std::process::Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-nostdin", "-loglevel", "error", "-ss"])
        .arg(format!("{t1_s:.3}"))
        .arg("-t")
        .arg(format!("{:.3}", t2_s - t1_s))
        .arg("-i")
        .arg(path)
        .args(["-vn", "-ar", "48000"]);
    if first_only {
        cmd.args(["-af", "pan=mono|c0=c0"]);
    }
    let raw = run_bounded(cmd.args(["-f", "f32le", "-"]), Duration::from_secs(60));
    raw.chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

/// The first channel of `path` from `t1_s` to `t2_s`.
fn channel0(path: &Path, t1_s: f64, t2_s: f64) -> Vec<f32> {
    decoded_f32(path, t1_s, t2_s, true)
}

fn composite(info: &MixerInfo) -> PathBuf {
    PathBuf::from(&info.output.as_ref().expect("the composite").abs_path)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_scale_talkers_are_limited_below_full_scale_and_each_stays_audible() {
    let d = Daemon::start();
    let mut c = d.client().await;
    let cases: [(&str, &[u32]); 2] = [("duo", &[440, 1000]), ("trio", &[440, 1000, 2500])];
    let mut senders = Vec::new();
    for (id, tones) in cases {
        let created = rpc::create(&mut c, audio_request(id, tones.len(), None)).await;
        for (hz, p) in tones.iter().zip(&created.source_ports) {
            senders.push(tone(*hz, 1.0, p));
        }
    }
    for (id, _) in cases {
        wait_heard(&mut c, id).await;
    }
    for (id, _) in cases {
        wait_recorded(&mut c, id, 6000).await;
    }
    let mut ended = Vec::new();
    for (id, tones) in cases {
        ended.push((rpc::destroy(&mut c, id).await, tones));
    }
    drop(senders);
    for (info, tones) in ended {
        let path = composite(&info);
        let dur_s = info.output.as_ref().unwrap().duration_ms as f64 / 1000.0;
        let all = decoded_f32(&path, 0.0, dur_s + 1.0, false);
        assert!(
            all.len() > 48_000 * 2 * 4,
            "{}: {} samples",
            path.display(),
            all.len()
        );
        let (at, peak) =
            all.iter().enumerate().fold(
                (0, 0f32),
                |m, (i, v)| if v.abs() > m.1 { (i, v.abs()) } else { m },
            );
        let at_rails = all.iter().filter(|v| v.abs() >= 1.0).count();
        eprintln!(
            "{}: {} talkers at full scale: decoded peak {peak:.4} ({:.2} dBFS) at {:.3} s of {dur_s} s",
            info.mixer_id,
            tones.len(),
            db(f64::from(peak)),
            at as f64 / 2.0 / 48_000.0
        );
        assert_eq!(
            at_rails,
            0,
            "{}: samples at or beyond full scale",
            path.display()
        );
        assert!(peak < 1.0, "{}: peak {peak}", path.display());
        // Each talker measurable over the steady part.
        let mono = channel0(&path, 2.0, dur_s - 1.0);
        let floor = tone_amplitude(&mono, 1700.0, 48_000);
        for &hz in tones {
            let a = tone_amplitude(&mono, f64::from(hz), 48_000);
            assert!(
                a >= LIMITED_MIN_AMPLITUDE && a >= MIN_TONE_RATIO * floor,
                "{}: {hz} Hz amplitude {a:.4} (1700 Hz, sent by nobody: {floor:.5})",
                path.display()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gain_and_mute_shape_the_mix_and_not_the_participant_files() {
    let d = Daemon::start();
    let mut c = d.client().await;
    let id = "levels";
    // T0 440 Hz at 0 dB, T1 1000 Hz at -6 dB, T2 2500 Hz muted; each also in its own file.
    let cfg = RecordCfg {
        mode: RecordMode::MixedAndSingle as i32,
        single_media: vec![SingleMedia::Audio as i32],
        ..Default::default()
    };
    let mut req = audio_request(id, 3, Some(cfg));
    req.sources[1].gain_db = -6.0;
    req.sources[2].muted = true;
    let created = rpc::create(&mut c, req).await;
    let _senders: Vec<Sender> = [440, 1000, 2500]
        .iter()
        .zip(&created.source_ports)
        .map(|(hz, p)| tone(*hz, SINE_AMPLITUDE, p))
        .collect();
    wait_heard(&mut c, id).await;
    // Every talker is heard from here on (ffmpeg may take seconds to start under load).
    let heard_ms = wait_recorded(&mut c, id, 0).await;
    wait_recorded(&mut c, id, heard_ms + 3000).await;

    // Get reports the settings and each source's level (a 1/8 sine: -21.1 dBFS RMS).
    let info = rpc::info(&mut c, id).await;
    let by = |i: usize| &info.sources[i];
    assert_eq!((by(0).gain_db, by(0).muted), (0.0, false));
    assert_eq!((by(1).gain_db, by(1).muted), (-6.0, false));
    assert_eq!((by(2).gain_db, by(2).muted), (0.0, true));
    let rms_dbfs = db(SINE_AMPLITUDE / 2f64.sqrt());
    for s in &info.sources {
        assert!(
            (f64::from(s.audio_level_dbfs) - rms_dbfs).abs() < 1.5,
            "{}: level {} dBFS, sent {rms_dbfs:.1}",
            s.camid,
            s.audio_level_dbfs
        );
    }

    // Live: T1 back to 0 dB, T2 unmuted at -6 dB.
    let before_ms = wait_recorded(&mut c, id, 0).await;
    c.update_cloud_mixer_content(UpdateCloudMixerContentRequest {
        mixer_id: id.into(),
        source_mix: vec![
            SourceMix {
                camid: "T1".into(),
                gain_db: 0.0,
                muted: false,
            },
            SourceMix {
                camid: "T2".into(),
                gain_db: -6.0,
                muted: false,
            },
        ],
        ..Default::default()
    })
    .await
    .expect("Update source_mix");
    let after_ms = wait_recorded(&mut c, id, 0).await;
    wait_recorded(&mut c, id, after_ms + 4500).await;
    let info = rpc::destroy(&mut c, id).await;
    assert_eq!(
        info.sources
            .iter()
            .map(|s| (s.gain_db, s.muted))
            .collect::<Vec<_>>(),
        [(0.0, false), (0.0, false), (-6.0, false)]
    );

    let path = composite(&info);
    let amp = |x: &[f32], hz: u32| tone_amplitude(x, f64::from(hz), 48_000);
    let first = channel0(
        &path,
        heard_ms as f64 / 1000.0 + 0.5,
        before_ms as f64 / 1000.0 - 0.5,
    );
    let (a0, a1, a2) = (amp(&first, 440), amp(&first, 1000), amp(&first, 2500));
    eprintln!("before the update: 440 Hz {a0:.5}, 1000 Hz {a1:.5}, 2500 Hz {a2:.7}");
    assert!(
        db(a0 / SINE_AMPLITUDE).abs() <= LEVEL_TOLERANCE_DB,
        "the 0 dB talker: amplitude {a0:.5}, sent {SINE_AMPLITUDE} ({:+.2} dB)",
        db(a0 / SINE_AMPLITUDE)
    );
    assert!(
        (db(a1 / a0) + 6.0).abs() <= LEVEL_TOLERANCE_DB,
        "-6 dB talker at {:+.2} dB of the 0 dB one",
        db(a1 / a0)
    );
    assert!(
        a2 < MUTED_MAX_AMPLITUDE,
        "muted talker at {:.1} dBFS",
        db(a2)
    );

    let end_s = info.output.as_ref().expect("the composite").duration_ms as f64 / 1000.0;
    let second = channel0(&path, after_ms as f64 / 1000.0 + 1.0, end_s - 0.5);
    let (b0, b1, b2) = (amp(&second, 440), amp(&second, 1000), amp(&second, 2500));
    eprintln!("after the update: 440 Hz {b0:.5}, 1000 Hz {b1:.5}, 2500 Hz {b2:.5}");
    assert!(
        db(b1 / b0).abs() <= LEVEL_TOLERANCE_DB,
        "T1 back at 0 dB: {:+.2} dB of T0",
        db(b1 / b0)
    );
    assert!(
        (db(b2 / b0) + 6.0).abs() <= LEVEL_TOLERANCE_DB,
        "T2 unmuted at -6 dB: {:+.2} dB of T0",
        db(b2 / b0)
    );

    // The muted participant's own file has its tone at the level sent.
    let own = info
        .outputs
        .iter()
        .find(|o| o.kind == OutputKind::Single as i32 && o.camid == "T2")
        .unwrap_or_else(|| panic!("no file of T2: {:?}", info.outputs));
    let own_samples = channel0(Path::new(&own.abs_path), 1.0, 3.0);
    let o2 = amp(&own_samples, 2500);
    assert!(
        db(o2 / SINE_AMPLITUDE).abs() <= 1.0,
        "T2's own file: 2500 Hz amplitude {o2:.5} ({:+.2} dB)",
        db(o2 / SINE_AMPLITUDE)
    );
    assert!(
        amp(&own_samples, 440) < MUTED_MAX_AMPLITUDE * 10.0,
        "T2's file holds only T2"
    );
}

/// Integrated loudness of `path` from `t1_s` to `t2_s`, LUFS, by ffmpeg's `ebur128`
/// filter (its summary's "I:" line).
fn integrated_lufs(path: &Path, t1_s: f64, t2_s: f64) -> f64 {
    let out = common::output_bounded(
        std::process::Command::new("ffmpeg")
            .args(["-hide_banner", "-nostdin", "-ss"])
            .arg(format!("{t1_s:.3}"))
            .arg("-t")
            .arg(format!("{:.3}", t2_s - t1_s))
            .arg("-i")
            .arg(path)
            .args(["-vn", "-af", "ebur128", "-f", "null", "-"]),
        LIMIT,
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "ffmpeg ebur128: {err}");
    // The summary comes last: "Integrated loudness:\n    I:         -30.1 LUFS".
    let summary = err
        .rsplit_once("Integrated loudness:")
        .unwrap_or_else(|| panic!("no ebur128 summary in: {err}"))
        .1;
    summary
        .split_once("I:")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no integrated loudness in: {summary}"))
}

/// `loudness_target_lufs` by ffmpeg's EBU R128 meter: the same -18 dBFS tone recorded
/// by two mixers, one normalising to -30 LUFS, one not. Once settled (the normaliser's
/// 3 s warm-up and 12 dB at 3 dB/s), the normalised mix measures -30 ± 1 LU and the
/// other stays near the tone's own loudness, 12 LU above.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mix_is_normalised_to_the_loudness_target() {
    const TARGET: i32 = -30;
    let d = Daemon::start();
    let mut c = d.client().await;
    let mut senders = Vec::new();
    for (id, target) in [("plain", 0), ("normalised", TARGET)] {
        let mut req = audio_request(id, 1, None);
        req.video_file_cfg
            .as_mut()
            .expect("video_file_cfg")
            .loudness_target_lufs = target;
        let created = rpc::create(&mut c, req).await;
        senders.push(tone(440, SINE_AMPLITUDE, &created.source_ports[0]));
    }
    for id in ["plain", "normalised"] {
        wait_heard(&mut c, id).await;
    }
    for id in ["plain", "normalised"] {
        wait_recorded(&mut c, id, 16_000).await;
    }
    let mut files = Vec::new();
    for id in ["plain", "normalised"] {
        files.push(composite(&rpc::destroy(&mut c, id).await));
    }
    drop(senders);
    let (plain, normalised) = (
        integrated_lufs(&files[0], 10.0, 15.0),
        integrated_lufs(&files[1], 10.0, 15.0),
    );
    eprintln!(
        "integrated loudness 10..15 s: plain {plain:.1} LUFS, normalised {normalised:.1} LUFS"
    );
    assert!(
        (normalised - f64::from(TARGET)).abs() <= 1.0,
        "normalised mix at {normalised:.1} LUFS, target {TARGET}"
    );
    assert!(
        plain - normalised >= 10.0,
        "the plain mix ({plain:.1} LUFS) is not louder than the normalised one"
    );
}
