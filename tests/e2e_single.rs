//! Per-participant files beside the composite (issue 11), end to end over real RTP with
//! ffmpeg publishers, checked by content: each participant's own file shows only its
//! colour and holds only its tone, the audio-only participant has no video file,
//! passthrough video is the sender's packets bit for bit, a participant's stream that
//! restarts at another resolution stays one playable file, and leaving for longer than
//! the presence timeout then coming back makes a second span with its own files.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use cloudmixer::proto::{
    mixer_event::Event, MixerEvent, MixerInfo, OutputInfo, OutputKind, OutputMedia, OutputStatus,
    RecordCfg, RecordMode, VideoCodec, WatchEventsRequest,
};
use common::daemon::Daemon;
use common::media::{self, check_tones, Rgb, BLUE, COLOUR_TOLERANCE, RED};
use common::outputs;
use common::rpc;
use common::sender::{spawn_ffmpeg, Codec, SenderSpec};
use common::spec;
use tokio::time::{sleep_until, timeout};

const A: &str = "Usr1.-1";
const B: &str = "Usr2.-1";
const C: &str = "Usr3.-1";
const TOOL_TIMEOUT: Duration = Duration::from_secs(60);

fn output<'a>(info: &'a MixerInfo, id: &str) -> &'a OutputInfo {
    info.outputs
        .iter()
        .find(|o| o.output_id == id)
        .unwrap_or_else(|| panic!("no output {id}: {:#?}", info.outputs))
}

fn record(mode: RecordMode) -> RecordCfg {
    RecordCfg {
        mode: mode as i32,
        ..Default::default()
    }
}

/// The mean colour of the picture's centre at `t_s`, any picture size.
fn centre_colour(path: &Path, t_s: f64) -> Rgb {
    let (w, h) = (64, 36);
    let out = common::run_bounded(
        Command::new("ffmpeg")
            .args(["-hide_banner", "-nostdin", "-loglevel", "error"])
            .args(["-ss", &format!("{t_s:.3}"), "-i"])
            .arg(path)
            .args(["-frames:v", "1", "-vf", &format!("scale={w}:{h}")])
            .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-"]),
        TOOL_TIMEOUT,
    );
    assert_eq!(out.len(), (w * h * 3) as usize, "{}", path.display());
    media::Frame {
        width: w,
        height: h,
        rgb: out,
    }
    .patch_mean(w / 2, h / 2)
}

fn close(got: Rgb, want: Rgb) -> bool {
    got.iter()
        .zip(want)
        .all(|(g, w)| g.abs_diff(w) <= COLOUR_TOLERANCE)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_participants_get_their_own_files_beside_the_composite() {
    let d = Daemon::start();
    let mut c = d.client().await;
    let id = "single-three";
    let events = rpc::watch(&mut c, id, Duration::from_secs(60)).await;
    let mut req = spec::create_request(
        id,
        vec![
            spec::source(A, Some((VideoCodec::Vp8, 96)), true),
            spec::source(B, Some((VideoCodec::H264, 102)), true),
            spec::source(C, None, true),
        ],
        spec::side_by_side(A, B),
        "single/three.mp4",
    );
    req.record_cfg = Some(record(RecordMode::MixedAndSingle));
    let created = rpc::create(&mut c, req).await;
    let t0 = tokio::time::Instant::now();
    let p = &created.source_ports;
    let _a = SenderSpec::solid_to("red", Codec::Vp8, 440, &p[0]).start();
    let _b = SenderSpec::solid_to("blue", Codec::H264, 1000, &p[1]).start();
    let mut only_audio = SenderSpec::solid_to("black", Codec::Vp8, 2500, &p[2]);
    only_audio.video_port = None;
    let _c = only_audio.start();

    sleep_until(t0 + Duration::from_secs(8)).await;
    let info = rpc::destroy(&mut c, id).await;
    let evs = timeout(Duration::from_secs(20), events)
        .await
        .expect("events end")
        .unwrap();

    // Every output listed, each FINALIZED; the composite first.
    let ids: Vec<&str> = info.outputs.iter().map(|o| o.output_id.as_str()).collect();
    assert_eq!(ids[0], "mixed", "{ids:?}");
    let mut singles: Vec<&str> = ids[1..].to_vec();
    singles.sort_unstable();
    assert_eq!(
        singles,
        [
            "Usr1.-1/audio/1",
            "Usr1.-1/av/1",
            "Usr2.-1/audio/1",
            "Usr2.-1/av/1",
            "Usr3.-1/audio/1"
        ],
        "the audio-only participant has no video file"
    );
    for o in &info.outputs {
        assert_eq!(o.status, OutputStatus::Finalized as i32, "{o:?}");
        let file = d.recordings().join(&o.path);
        assert_eq!(
            std::fs::metadata(&file).map(|m| m.len()).ok(),
            Some(o.size_bytes),
            "{o:?}"
        );
        if o.kind == OutputKind::Single as i32 {
            assert!(
                o.start_unix_ms > 0 && o.end_unix_ms > o.start_unix_ms,
                "{o:?}"
            );
            // Present from the start to Destroy: ~8 s minus the senders' start-up.
            assert!((5_000..=9_000).contains(&o.duration_ms), "{o:?}");
            let span_ms = (o.end_unix_ms - o.start_unix_ms) as u64;
            assert!(span_ms.abs_diff(o.duration_ms) <= 500, "{o:?}");
            // Events: growing, then FINALIZED last.
            let seen = outputs::events_of(&evs, &o.output_id);
            assert!(seen.len() >= 3, "{}: {} events", o.output_id, seen.len());
            assert_eq!(
                seen.last().map(|x| x.status),
                Some(OutputStatus::Finalized as i32)
            );
            assert!(seen
                .windows(2)
                .all(|w| w[0].duration_ms <= w[1].duration_ms));
        }
    }
    let mixed = output(&info, "mixed");
    assert_eq!(Some(mixed), info.output.as_ref());

    // Each participant's files by content.
    let root = d.recordings();
    let checks: [(&str, Rgb, f64, &str, &str); 2] = [
        (A, RED, 440.0, "webm", "vp8"),
        (B, BLUE, 1000.0, "mp4", "h264"),
    ];
    for (camid, colour, tone, container, codec) in checks {
        let av = output(&info, &format!("{camid}/av/1"));
        assert_eq!(
            (av.media, av.container.as_str()),
            (OutputMedia::Av as i32, container)
        );
        let file = root.join(&av.path);
        let pr = media::probe(&file);
        let v = pr.of_kind("video");
        assert_eq!(v.len(), 1, "{pr:?}");
        assert_eq!(
            (v[0].codec.as_str(), v[0].width, v[0].height),
            (codec, 640, 360)
        );
        let want_audio = if container == "webm" { "opus" } else { "aac" };
        assert_eq!(
            pr.of_kind("audio").first().map(|a| a.codec.as_str()),
            Some(want_audio)
        );
        for t in [1.0, 3.0, 5.0] {
            let got = centre_colour(&file, t);
            assert!(close(got, colour), "{camid} at {t} s: {got:?}");
        }
        let audio = media::audio_between(&file, 1.0, 5.0);
        for absent in [440.0, 1000.0, 2500.0].into_iter().filter(|f| *f != tone) {
            check_tones(&audio, &[tone], absent).unwrap_or_else(|e| panic!("{camid} av: {e}"));
        }
        let aac = output(&info, &format!("{camid}/audio/1"));
        assert_eq!(
            (aac.media, aac.container.as_str()),
            (OutputMedia::Audio as i32, "aac")
        );
        let samples = media::audio_between(&root.join(&aac.path), 1.0, 5.0);
        for absent in [440.0, 1000.0, 2500.0].into_iter().filter(|f| *f != tone) {
            check_tones(&samples, &[tone], absent).unwrap_or_else(|e| panic!("{camid} aac: {e}"));
        }
    }
    let c_audio = output(&info, "Usr3.-1/audio/1");
    let c_file = root.join(&c_audio.path);
    assert_eq!(media::probe(&c_file).of_kind("video").len(), 0);
    let samples = media::audio_between(&c_file, 1.0, 5.0);
    for absent in [440.0, 1000.0] {
        check_tones(&samples, &[2500.0], absent).expect("C's own tone only");
    }
    // The composite as before: both pictures, both voices and C's.
    let composite = media::audio_between(&root.join(&mixed.path), 2.0, 6.0);
    check_tones(&composite, &[440.0, 1000.0, 2500.0], 1700.0).expect("everyone in the mix");
}

/// `ffmpeg -i path -map 0:v -c copy -f framemd5`: the (size, md5) of each video packet.
fn packet_hashes(path: &Path, bsf: Option<&str>) -> Vec<(u64, String)> {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-nostdin", "-loglevel", "error", "-i"])
        .arg(path)
        .args(["-map", "0:v", "-c", "copy"]);
    if let Some(b) = bsf {
        cmd.args(["-bsf:v", b]);
    }
    let out = common::run_bounded(cmd.args(["-f", "framemd5", "-"]), TOOL_TIMEOUT);
    String::from_utf8_lossy(&out)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            Some((f.get(4)?.parse().ok()?, f.get(5)?.to_string()))
        })
        .collect()
}

/// Encodes `seconds` of a moving test picture like a WebRTC sender into `path`.
fn pre_encode(path: &Path, codec: Codec, seconds: u32) {
    let mut args: Vec<String> = ["-hide_banner", "-nostdin", "-loglevel", "error", "-y"]
        .map(String::from)
        .to_vec();
    args.extend(["-f", "lavfi", "-i"].map(String::from));
    args.push(format!("testsrc2=size=640x360:rate=15:duration={seconds}"));
    args.extend(common::sender::video_encoder_args(codec, "800k", 15));
    args.push(path.display().to_string());
    let st = spawn_ffmpeg(args).wait().expect("ffmpeg ran");
    assert!(st.success(), "pre-encode {}", path.display());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passthrough_files_hold_the_senders_packets_bit_for_bit() {
    let d = Daemon::start();
    let mut c = d.client().await;
    let id = "single-passthrough";
    let dir = tempfile::tempdir().expect("temp dir");
    let inputs: [(Codec, PathBuf); 2] = [
        (Codec::Vp8, dir.path().join("a.webm")),
        (Codec::H264, dir.path().join("b.mkv")),
    ];
    for (codec, path) in &inputs {
        pre_encode(path, *codec, 6);
    }
    let mut req = spec::create_request(
        id,
        vec![
            spec::source(A, Some((VideoCodec::Vp8, 96)), false),
            spec::source(B, Some((VideoCodec::H264, 102)), false),
        ],
        spec::side_by_side(A, B),
        "single/passthrough.mp4",
    );
    req.record_cfg = Some(record(RecordMode::Single));
    let created = rpc::create(&mut c, req).await;
    let mut senders = Vec::new();
    for ((codec, path), ports) in inputs.iter().zip(&created.source_ports) {
        let pt = if *codec == Codec::Vp8 { 96 } else { 102 };
        let mut args: Vec<String> = [
            "-hide_banner",
            "-nostdin",
            "-loglevel",
            "error",
            "-re",
            "-i",
        ]
        .map(String::from)
        .to_vec();
        args.push(path.display().to_string());
        args.extend(["-map", "0:v", "-c", "copy"].map(String::from));
        if *codec == Codec::H264 {
            args.extend(["-bsf:v", "h264_mp4toannexb"].map(String::from));
        }
        let port = u16::try_from(ports.video_rtp_port).unwrap();
        args.extend(common::sender::rtp_out(
            pt,
            0x5151_0000 + u32::from(pt),
            port,
        ));
        senders.push(spawn_ffmpeg(args));
    }
    for s in &mut senders {
        let st = tokio::task::block_in_place(|| s.wait()).expect("sender ran");
        assert!(st.success());
    }
    let info = rpc::destroy(&mut c, id).await;
    assert!(info.output.is_none(), "single mode writes no composite");
    for ((codec, input), camid) in inputs.iter().zip([A, B]) {
        let o = output(&info, &format!("{camid}/video/1"));
        assert_eq!(o.status, OutputStatus::Finalized as i32, "{o:?}");
        let recorded = d.recordings().join(&o.path);
        let bsf = (*codec == Codec::H264).then_some("h264_mp4toannexb");
        let sent = packet_hashes(input, bsf);
        let got = packet_hashes(&recorded, bsf);
        assert!(sent.len() >= 80, "{} packets sent", sent.len());
        let start = sent
            .iter()
            .position(|p| Some(p) == got.first())
            .unwrap_or_else(|| panic!("{camid}: first recorded packet not sent: {got:?}"));
        assert_eq!(
            got[..],
            sent[start..start + got.len().min(sent.len() - start)],
            "{camid}: recorded packets differ from the sent ones"
        );
        assert!(
            got.len() * 10 >= sent.len() * 9,
            "{camid}: {} of {} packets recorded",
            got.len(),
            sent.len()
        );
    }
}

/// A publisher of `colour` at `size` (WxH) with H.264 and a tone for `seconds`.
fn h264_sender(
    colour: &str,
    size: &str,
    tone: u32,
    seconds: u64,
    ports: &cloudmixer::proto::SourcePorts,
) -> std::process::Child {
    let mut s = SenderSpec::solid_to(colour, Codec::H264, tone, ports);
    s.picture = format!("color=c={colour}:size={size}:rate=15");
    s.duration = Duration::from_secs(seconds);
    spawn_ffmpeg(s.args())
}

/// Waits (bounded) for `output_id`'s FINALIZED event on `stream`.
async fn wait_finalized(stream: &mut tonic::Streaming<MixerEvent>, output_id: &str) -> OutputInfo {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let Ok(next) = tokio::time::timeout_at(deadline, stream.message()).await else {
            panic!("{output_id} not finalized in time");
        };
        let ev = next.expect("event stream").expect("event");
        if let Some(Event::OutputInfoChanged(o)) = ev.event {
            let o = o.output_info.expect("info");
            if o.output_id == output_id && o.status == OutputStatus::Finalized as i32 {
                return o;
            }
        }
    }
}

/// The widths of every decoded picture of `path`, and ffmpeg's decode errors.
fn decoded_widths(path: &Path) -> (Vec<u32>, String) {
    let out = common::output_bounded(
        Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-select_streams",
                "v:0",
                "-show_entries",
                "frame=width",
            ])
            .args(["-of", "csv=p=0"])
            .arg(path),
        TOOL_TIMEOUT,
    );
    let widths = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().trim_end_matches(',').parse().ok())
        .collect();
    (widths, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_participant_who_restarts_smaller_then_leaves_and_rejoins() {
    let d = Daemon::start_with_args(
        common::daemon::DEFAULT_RTP_PORTS,
        &["--rtp-relatch-after-ms".into(), "500".into()],
    );
    let mut c = d.client().await;
    let id = "single-rejoin";
    let mut watch = c
        .watch_events(WatchEventsRequest {
            mixer_id: id.into(),
        })
        .await
        .expect("WatchEvents")
        .into_inner();
    let mut req = spec::create_request(
        id,
        vec![spec::source(A, Some((VideoCodec::H264, 102)), true)],
        vec![spec::region(A, 0, 0, 1280, 720)],
        "single/rejoin.mp4",
    );
    req.record_cfg = Some(RecordCfg {
        presence_timeout_ms: 3_000,
        ..record(RecordMode::Single)
    });
    let created = rpc::create(&mut c, req).await;
    let ports = created.source_ports[0].clone();
    // Span 1: red 640x360, then at once (a restart: new SSRC) green 320x240.
    for (colour, size, tone) in [("red", "640x360", 440), ("green", "320x240", 660)] {
        let mut s = h264_sender(colour, size, tone, 3, &ports);
        let st = tokio::task::block_in_place(|| s.wait()).expect("sender ran");
        assert!(st.success());
    }
    // Gone for longer than the presence timeout: span 1 ends by itself.
    let first = wait_finalized(&mut watch, "Usr1.-1/av/1").await;
    // Span 2: blue.
    let mut s = h264_sender("blue", "640x360", 880, 3, &ports);
    let st = tokio::task::block_in_place(|| s.wait()).expect("sender ran");
    assert!(st.success());
    let info = rpc::destroy(&mut c, id).await;
    let mut ids: Vec<&str> = info.outputs.iter().map(|o| o.output_id.as_str()).collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        [
            "Usr1.-1/audio/1",
            "Usr1.-1/audio/2",
            "Usr1.-1/av/1",
            "Usr1.-1/av/2"
        ]
    );
    let span1 = output(&info, "Usr1.-1/av/1");
    let span2 = output(&info, "Usr1.-1/av/2");
    assert_eq!(span1, &first, "the span-1 event is its final info");
    for o in &info.outputs {
        assert_eq!(o.status, OutputStatus::Finalized as i32, "{o:?}");
    }
    // Span times: span 1 covers both senders (~6 s), span 2 starts after the timeout.
    let len1 = span1.end_unix_ms - span1.start_unix_ms;
    assert!(
        (5_000..=8_000).contains(&len1),
        "span 1 lasted {len1} ms: {span1:?}"
    );
    assert!(
        span2.start_unix_ms - span1.end_unix_ms >= 3_000,
        "rejoined {} ms after leaving",
        span2.start_unix_ms - span1.end_unix_ms
    );
    assert!(span1.path != span2.path);
    // Span 1's passthrough file plays across the resolution change.
    let f1 = d.recordings().join(&span1.path);
    let (widths, errors) = decoded_widths(&f1);
    assert!(errors.trim().is_empty(), "decode errors: {errors}");
    let n640 = widths.iter().filter(|w| **w == 640).count();
    let n320 = widths.iter().filter(|w| **w == 320).count();
    assert!(
        n640 >= 30 && n320 >= 30,
        "{n640} pictures at 640, {n320} at 320"
    );
    let dur1 = span1.duration_ms as f64 / 1000.0;
    assert!(close(centre_colour(&f1, 1.0), RED));
    assert!(
        close(centre_colour(&f1, dur1 - 1.0), [0, 128, 0]),
        "green at the end"
    );
    let f2 = d.recordings().join(&span2.path);
    assert!(close(centre_colour(&f2, 1.0), BLUE));
    let a1 = media::audio_between(
        &d.recordings().join(&output(&info, "Usr1.-1/audio/1").path),
        0.5,
        2.5,
    );
    check_tones(&a1, &[440.0], 880.0).expect("span 1 audio: the first sender's tone");
    let a2 = media::audio_between(
        &d.recordings().join(&output(&info, "Usr1.-1/audio/2").path),
        0.5,
        2.5,
    );
    check_tones(&a2, &[880.0], 440.0).expect("span 2 audio: its own tone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_leaves_every_participant_file_playable() {
    let mut d = Daemon::start();
    let mut c = d.client().await;
    let id = "single-kill";
    let mut req = spec::create_request(
        id,
        vec![
            spec::source(A, Some((VideoCodec::Vp8, 96)), true),
            spec::source(B, Some((VideoCodec::H264, 102)), true),
        ],
        spec::side_by_side(A, B),
        "single/kill.mp4",
    );
    req.record_cfg = Some(RecordCfg {
        single_audio_container: cloudmixer::proto::AudioContainer::M4a as i32,
        ..record(RecordMode::MixedAndSingle)
    });
    let created = rpc::create(&mut c, req).await;
    let p = &created.source_ports;
    let _a = SenderSpec::solid_to("red", Codec::Vp8, 440, &p[0]).start();
    let _b = SenderSpec::solid_to("blue", Codec::H264, 1000, &p[1]).start();
    // Until every participant file holds 4 s (bounded).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let info = loop {
        let info = c
            .get_cloud_mixer(cloudmixer::proto::GetCloudMixerRequest {
                mixer_id: id.into(),
            })
            .await
            .expect("Get")
            .into_inner();
        let singles: Vec<&OutputInfo> = info
            .outputs
            .iter()
            .filter(|o| o.kind == OutputKind::Single as i32)
            .collect();
        if singles.len() == 4 && singles.iter().all(|o| o.duration_ms >= 4_000) {
            break info;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:#?}",
            info.outputs
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    d.signal("KILL");
    assert!(
        d.wait_exit(Duration::from_secs(10)).is_some(),
        "daemon killed"
    );
    for o in info
        .outputs
        .iter()
        .filter(|o| o.kind == OutputKind::Single as i32)
    {
        let file = d.recordings().join(&o.path);
        let tone = if o.camid == A { 440.0 } else { 1000.0 };
        let other = if o.camid == A { 1000.0 } else { 440.0 };
        let samples = media::audio_between(&file, 0.5, 3.5);
        check_tones(&samples, &[tone], other)
            .unwrap_or_else(|e| panic!("{}: audio after kill -9: {e}", o.output_id));
        if o.media == OutputMedia::Av as i32 {
            let (widths, errors) = decoded_widths(&file);
            assert!(errors.trim().is_empty(), "{}: {errors}", o.output_id);
            // 15 fps; at most about a second lost to the kill.
            assert!(
                widths.len() >= 45,
                "{}: {} pictures",
                o.output_id,
                widths.len()
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transcoded_files_are_h264_aac_mp4_at_the_asked_size() {
    let d = Daemon::start();
    let mut c = d.client().await;
    let id = "single-transcode";
    let mut req = spec::create_request(
        id,
        vec![spec::source(A, Some((VideoCodec::Vp8, 96)), true)],
        vec![spec::region(A, 0, 0, 1280, 720)],
        "single/transcode.mp4",
    );
    req.record_cfg = Some(RecordCfg {
        single_video: cloudmixer::proto::SingleVideo::Transcode as i32,
        transcode_width: 320,
        transcode_height: 240,
        single_media: vec![cloudmixer::proto::SingleMedia::Av as i32],
        ..record(RecordMode::Single)
    });
    let created = rpc::create(&mut c, req).await;
    let mut s = SenderSpec::solid_to("red", Codec::Vp8, 440, &created.source_ports[0]);
    s.duration = Duration::from_secs(4);
    let mut sender = s.start();
    assert!(
        common::wait_for(Duration::from_secs(20), Duration::from_millis(100), || {
            (!sender.is_running()).then_some(())
        })
        .is_some()
    );
    let info = rpc::destroy(&mut c, id).await;
    let ids: Vec<&str> = info.outputs.iter().map(|o| o.output_id.as_str()).collect();
    assert_eq!(ids, ["Usr1.-1/av/1"], "only the av file was asked for");
    let o = &info.outputs[0];
    assert_eq!(
        (o.container.as_str(), o.status),
        ("mp4", OutputStatus::Finalized as i32)
    );
    let file = d.recordings().join(&o.path);
    let pr = media::probe(&file);
    let v = pr.of_kind("video");
    assert_eq!(
        (v[0].codec.as_str(), v[0].width, v[0].height),
        ("h264", 320, 240),
        "{pr:?}"
    );
    assert_eq!(pr.of_kind("audio")[0].codec, "aac");
    // 640x360 fitted into 320x240: 320x180 of red between black bars.
    let f = media::frame_at(&file, 2.0, 320, 240);
    assert!(
        close(f.patch_mean(160, 120), RED),
        "{:?}",
        f.patch_mean(160, 120)
    );
    assert!(
        close(f.patch_mean(160, 8), [0, 0, 0]),
        "top bar {:?}",
        f.patch_mean(160, 8)
    );
    let samples = media::audio_between(&file, 0.5, 3.0);
    check_tones(&samples, &[440.0], 1000.0).expect("the participant's tone");
}
