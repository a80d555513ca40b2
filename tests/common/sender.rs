//! ffmpeg RTP publishers: a lavfi picture and a sine tone, encoded like a WebRTC client
//! (VP8 realtime or H.264 constrained baseline packetization-mode 1, Opus 48 kHz), sent to
//! the ports a mixer returned. Killed when dropped.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Video codec of a publisher.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Codec {
    Vp8,
    H264,
}

/// What one publisher sends.
#[derive(Debug, Clone)]
pub struct SenderSpec {
    /// lavfi video source, e.g. [`solid`]("red").
    pub picture: String,
    pub codec: Codec,
    /// UDP port for video RTP (RTCP goes to +1); None = no video.
    pub video_port: Option<u16>,
    pub video_pt: u8,
    pub video_ssrc: u32,
    /// Tone frequency in Hz.
    pub tone_hz: u32,
    /// UDP port for audio RTP; None = no audio.
    pub audio_port: Option<u16>,
    pub audio_pt: u8,
    pub audio_ssrc: u32,
    /// Media length; ffmpeg exits after it (the handle kills it earlier if dropped).
    pub duration: Duration,
}

/// lavfi source of a solid 640x360@15 picture in `colour` (an ffmpeg colour name or 0xRRGGBB).
pub fn solid(colour: &str) -> String {
    format!("color=c={colour}:size=640x360:rate=15")
}

impl SenderSpec {
    /// A 640x360@15 solid-colour publisher with a tone, both media, default PTs (VP8 96,
    /// H.264 102, Opus 111).
    pub fn solid(
        colour: &str,
        codec: Codec,
        tone_hz: u32,
        video_port: u16,
        audio_port: u16,
    ) -> Self {
        SenderSpec {
            picture: solid(colour),
            codec,
            video_port: Some(video_port),
            video_pt: match codec {
                Codec::Vp8 => 96,
                Codec::H264 => 102,
            },
            video_ssrc: 0x1111_0000 + tone_hz,
            tone_hz,
            audio_port: Some(audio_port),
            audio_pt: 111,
            audio_ssrc: 0x2222_0000 + tone_hz,
            duration: Duration::from_secs(20),
        }
    }

    /// [`SenderSpec::solid`] to the RTP ports the daemon gave a source.
    pub fn solid_to(
        colour: &str,
        codec: Codec,
        tone_hz: u32,
        ports: &cloudmixer::proto::SourcePorts,
    ) -> Self {
        let port = |p: u32| u16::try_from(p).expect("a UDP port");
        let (v, a) = (port(ports.video_rtp_port), port(ports.audio_rtp_port));
        Self::solid(colour, codec, tone_hz, v, a)
    }

    /// The ffmpeg arguments (without the program name).
    pub fn args(&self) -> Vec<String> {
        let secs = format!("{:.3}", self.duration.as_secs_f64());
        let mut a: Vec<String> = ["-hide_banner", "-nostdin", "-loglevel", "error", "-re"]
            .map(String::from)
            .to_vec();
        // -t before each -i: it ends the endless lavfi sources (an output -t would not).
        // Without video the picture is not an input at all: an unread input leaves -re
        // without effect on the others (the tone then goes out faster than real time).
        let mut inputs = Vec::new();
        if self.video_port.is_some() {
            inputs.push(self.picture.clone());
        }
        inputs.push(format!("sine=frequency={}:sample_rate=48000", self.tone_hz));
        let audio_input = inputs.len() - 1;
        for src in inputs {
            a.extend([
                "-t".into(),
                secs.clone(),
                "-f".into(),
                "lavfi".into(),
                "-i".into(),
                src,
            ]);
        }
        if let Some(port) = self.video_port {
            a.extend(["-map", "0:v"].map(String::from));
            a.extend(video_encoder_args(self.codec, "800k", 15));
            a.extend(rtp_out(self.video_pt, self.video_ssrc, port));
        }
        if let Some(port) = self.audio_port {
            a.extend(["-map".to_string(), format!("{audio_input}:a")]);
            a.extend(opus_encoder_args());
            a.extend(rtp_out(self.audio_pt, self.audio_ssrc, port));
        }
        a
    }

    /// Starts ffmpeg.
    pub fn start(&self) -> Sender {
        assert!(
            self.video_port.is_some() || self.audio_port.is_some(),
            "a sender needs at least one port"
        );
        Sender {
            child: spawn_ffmpeg(self.args()),
        }
    }
}

/// Starts `ffmpeg args` with no stdin and stdout, stderr shown in the test's output.
pub fn spawn_ffmpeg(args: Vec<String>) -> std::process::Child {
    Command::new("ffmpeg")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start ffmpeg (is it installed? scripts/install-deps.sh)")
}

/// ffmpeg output options of a WebRTC-like video encoder: VP8 realtime, or H.264
/// constrained baseline in Annex B (for packetization-mode 1); `bitrate` as ffmpeg takes
/// it ("800k"), a keyframe every `gop` pictures.
pub fn video_encoder_args(codec: Codec, bitrate: &str, gop: u32) -> Vec<String> {
    let enc: &[&str] = match codec {
        Codec::Vp8 => &[
            "-c:v",
            "libvpx",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-auto-alt-ref",
            "0",
        ],
        Codec::H264 => &[
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-tune",
            "zerolatency",
            "-profile:v",
            "baseline",
            "-bsf:v",
            "h264_mp4toannexb",
        ],
    };
    let mut a: Vec<String> = enc.iter().map(|s| s.to_string()).collect();
    a.extend(["-b:v".into(), bitrate.into(), "-g".into(), gop.to_string()]);
    a.extend(["-pix_fmt".into(), "yuv420p".into()]);
    a
}

/// ffmpeg output options of a WebRTC-like Opus encoder: 48 kHz stereo, 64 kbit/s,
/// 20 ms frames.
pub fn opus_encoder_args() -> Vec<String> {
    [
        "-c:a",
        "libopus",
        "-ar",
        "48000",
        "-ac",
        "2",
        "-b:a",
        "64k",
        "-application",
        "lowdelay",
        "-frame_duration",
        "20",
    ]
    .map(String::from)
    .to_vec()
}

/// ffmpeg output options that send one stream as RTP to 127.0.0.1:`port`.
pub fn rtp_out(pt: u8, ssrc: u32, port: u16) -> Vec<String> {
    vec![
        "-payload_type".into(),
        pt.to_string(),
        "-ssrc".into(),
        ssrc.to_string(),
        "-f".into(),
        "rtp".into(),
        format!("rtp://127.0.0.1:{port}?pkt_size=1200"),
    ]
}

/// A running ffmpeg publisher; killed and reaped on drop.
pub struct Sender {
    child: Child,
}

impl Sender {
    /// true while ffmpeg runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Sender {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `args` (of [`SenderSpec::args`]) with the `tone_hz` sine (ffmpeg's mono `sine`,
/// amplitude 1/8, which ffmpeg's upmix to the encoder's stereo lowers by 3 dB) replaced
/// by a stereo one of peak `amplitude` in each channel (1.0 = full scale), made by
/// `aevalsrc`: the level sent is the level given.
pub fn with_tone_amplitude(args: Vec<String>, tone_hz: u32, amplitude: f64) -> Vec<String> {
    let sine = format!("sine=frequency={tone_hz}:sample_rate=48000");
    let wave = format!("{amplitude}*sin(2*PI*{tone_hz}*t)");
    let loud = format!("aevalsrc={wave}|{wave}:s=48000:c=stereo");
    assert!(args.contains(&sine), "no {sine} input in {args:?}");
    args.into_iter()
        .map(|a| if a == sine { loud.clone() } else { a })
        .collect()
}

/// Starts `spec` with its tone at peak `amplitude` ([`with_tone_amplitude`]).
pub fn start_with_tone_amplitude(spec: &SenderSpec, amplitude: f64) -> Sender {
    Sender {
        child: spawn_ffmpeg(with_tone_amplitude(spec.args(), spec.tone_hz, amplitude)),
    }
}
