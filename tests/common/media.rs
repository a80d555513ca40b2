//! Checks of an output file by content, through the ffmpeg/ffprobe command-line tools:
//! stream parameters, pixel colours of one decoded frame, tone power in the audio.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::run_bounded;

/// Limit for one ffprobe/ffmpeg call on a short test file.
const TOOL_TIMEOUT: Duration = Duration::from_secs(60);
/// Side of the square patch averaged around a sample point, pixels. Averaging hides
/// the codec's ringing at single pixels.
const PATCH: i64 = 5;
/// Per-channel tolerance of a colour check: H.264 at test bit rates plus two YUV<->RGB
/// conversions move a flat colour by well under this, while any two of the colours the
/// tests use (red, blue, black, ...) differ by 200 or more in some channel.
pub const COLOUR_TOLERANCE: u8 = 40;
/// Sample rate of the audio the checks decode to.
pub const AUDIO_RATE: u32 = 48_000;

/// One stream as ffprobe reports it.
#[derive(Debug, Clone, Default)]
pub struct StreamInfo {
    /// "video" or "audio".
    pub kind: String,
    /// ffprobe codec_name, e.g. "h264", "aac".
    pub codec: String,
    pub width: u32,
    pub height: u32,
    /// e.g. "15/1".
    pub avg_frame_rate: String,
    pub sample_rate: u32,
    pub channels: u32,
    /// Seconds; 0 if ffprobe did not say.
    pub duration_s: f64,
}

/// What ffprobe says about a file.
#[derive(Debug, Clone, Default)]
pub struct Probe {
    pub streams: Vec<StreamInfo>,
    /// Container duration, seconds.
    pub duration_s: f64,
    pub format_name: String,
}

impl Probe {
    /// The streams of one kind ("video"/"audio").
    pub fn of_kind(&self, kind: &str) -> Vec<&StreamInfo> {
        self.streams.iter().filter(|s| s.kind == kind).collect()
    }
}

/// `ffprobe -of json -show_streams -show_format`.
pub fn probe(path: &Path) -> Probe {
    let out = run_bounded(
        Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-of",
                "json",
                "-show_streams",
                "-show_format",
            ])
            .arg(path),
        TOOL_TIMEOUT,
    );
    let v: serde_json::Value = serde_json::from_slice(&out).expect("ffprobe prints JSON");
    let num = |x: &serde_json::Value| -> f64 {
        x.as_str()
            .and_then(|s| s.parse().ok())
            .or_else(|| x.as_f64())
            .unwrap_or(0.0)
    };
    let streams = v["streams"]
        .as_array()
        .map(|a| a.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|s| StreamInfo {
            kind: s["codec_type"].as_str().unwrap_or_default().to_owned(),
            codec: s["codec_name"].as_str().unwrap_or_default().to_owned(),
            width: s["width"].as_u64().unwrap_or(0) as u32,
            height: s["height"].as_u64().unwrap_or(0) as u32,
            avg_frame_rate: s["avg_frame_rate"].as_str().unwrap_or_default().to_owned(),
            sample_rate: num(&s["sample_rate"]) as u32,
            channels: s["channels"].as_u64().unwrap_or(0) as u32,
            duration_s: num(&s["duration"]),
        })
        .collect();
    Probe {
        streams,
        duration_s: num(&v["format"]["duration"]),
        format_name: v["format"]["format_name"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
    }
}

/// Number of decoded video frames (`ffprobe -count_frames`).
pub fn count_video_frames(path: &Path) -> u64 {
    let out = run_bounded(
        Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v:0", "-count_frames"])
            .args(["-show_entries", "stream=nb_read_frames", "-of", "csv=p=0"])
            .arg(path),
        TOOL_TIMEOUT,
    );
    String::from_utf8_lossy(&out)
        .trim()
        .parse()
        .expect("a frame count")
}

/// An 8-bit RGB colour.
pub type Rgb = [u8; 3];
pub const RED: Rgb = [255, 0, 0];
pub const BLUE: Rgb = [0, 0, 255];
pub const BLACK: Rgb = [0, 0, 0];

/// One decoded picture, packed RGB24, rows top to bottom.
pub struct Frame {
    pub width: u32,
    pub height: u32,
    pub rgb: Vec<u8>,
}

/// The frame shown at `t_s` seconds, decoded to RGB24 (`width` x `height` must be the
/// stream's size; checked against the byte count).
pub fn frame_at(path: &Path, t_s: f64, width: u32, height: u32) -> Frame {
    decode_one(path, Some(t_s), width, height)
}

/// The picture of an image file (a JPEG snapshot), decoded to RGB24 (`width` x
/// `height` must be its size; checked against the byte count).
pub fn picture_of(path: &Path, width: u32, height: u32) -> Frame {
    decode_one(path, None, width, height)
}

/// The first frame from `seek_s` seconds on (none: from the start) of `path`, as RGB24.
fn decode_one(path: &Path, seek_s: Option<f64>, width: u32, height: u32) -> Frame {
    let mut cmd = Command::new("ffmpeg");
    cmd.args(["-hide_banner", "-nostdin", "-loglevel", "error"]);
    if let Some(t_s) = seek_s {
        cmd.args(["-ss", &format!("{t_s:.3}")]);
    }
    cmd.arg("-i")
        .arg(path)
        .args(["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]);
    let rgb = run_bounded(&mut cmd, TOOL_TIMEOUT);
    assert_eq!(
        rgb.len(),
        (width * height * 3) as usize,
        "frame at {seek_s:?} s of {} is not {width}x{height} RGB24",
        path.display()
    );
    Frame { width, height, rgb }
}

impl Frame {
    /// Mean colour of the PATCH x PATCH square centred on (x, y), clipped to the picture.
    pub fn patch_mean(&self, x: u32, y: u32) -> Rgb {
        let (mut sum, mut n) = ([0u64; 3], 0u64);
        let h = PATCH / 2;
        for dy in -h..=h {
            for dx in -h..=h {
                let (px, py) = (i64::from(x) + dx, i64::from(y) + dy);
                if px < 0 || py < 0 || px >= i64::from(self.width) || py >= i64::from(self.height) {
                    continue;
                }
                let i = ((py * i64::from(self.width) + px) * 3) as usize;
                for (acc, v) in sum.iter_mut().zip(&self.rgb[i..i + 3]) {
                    *acc += u64::from(*v);
                }
                n += 1;
            }
        }
        assert!(
            n > 0,
            "point ({x}, {y}) outside {}x{}",
            self.width,
            self.height
        );
        sum.map(|s| (s / n) as u8)
    }
}

/// An expected colour at a point of the picture.
#[derive(Debug, Clone, Copy)]
pub struct ColourAt {
    pub what: &'static str,
    pub x: u32,
    pub y: u32,
    pub rgb: Rgb,
}

/// Ok if every point's patch is within [`COLOUR_TOLERANCE`] per channel; else every miss.
pub fn check_colours(frame: &Frame, points: &[ColourAt]) -> Result<(), String> {
    let misses: Vec<String> = points
        .iter()
        .filter_map(|p| {
            let got = frame.patch_mean(p.x, p.y);
            let close = got
                .iter()
                .zip(p.rgb)
                .all(|(g, e)| g.abs_diff(e) <= COLOUR_TOLERANCE);
            (!close).then(|| {
                format!(
                    "{} at ({}, {}): got {got:?}, want {:?}",
                    p.what, p.x, p.y, p.rgb
                )
            })
        })
        .collect();
    if misses.is_empty() {
        Ok(())
    } else {
        Err(misses.join("; "))
    }
}

/// Audio from `t1_s` to `t2_s` seconds, downmixed to mono, 48 kHz, as f32 in -1..1.
pub fn audio_between(path: &Path, t1_s: f64, t2_s: f64) -> Vec<f32> {
    let raw = run_bounded(
        Command::new("ffmpeg")
            .args(["-hide_banner", "-nostdin", "-loglevel", "error"])
            .args([
                "-ss",
                &format!("{t1_s:.3}"),
                "-t",
                &format!("{:.3}", t2_s - t1_s),
                "-i",
            ])
            .arg(path)
            .args([
                "-vn",
                "-ac",
                "1",
                "-ar",
                &AUDIO_RATE.to_string(),
                "-f",
                "s16le",
                "-",
            ]),
        TOOL_TIMEOUT,
    );
    raw.chunks_exact(2)
        .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
        .collect()
}

/// Amplitude (peak, full scale = 1.0) of the `freq_hz` component of `samples`, by a
/// Goertzel filter over the whole Hann-windowed block. A pure sine of amplitude A at
/// `freq_hz` gives ~A; a frequency far from every sine present gives ~0.
pub fn tone_amplitude(samples: &[f32], freq_hz: f64, rate: u32) -> f64 {
    let n = samples.len();
    if n < 2 {
        return 0.0;
    }
    let w = 2.0 * std::f64::consts::PI * freq_hz / f64::from(rate);
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2, mut wsum) = (0.0f64, 0.0f64, 0.0f64);
    for (i, &x) in samples.iter().enumerate() {
        let hann = 0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / (n - 1) as f64).cos();
        wsum += hann;
        let s0 = f64::from(x) * hann + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    2.0 * power.max(0.0).sqrt() / wsum
}

/// Smallest amplitude a sent tone must keep in the mix (-40 dBFS): the test senders use
/// ffmpeg's sine source (amplitude 1/8); mixing and AAC may halve it, never more.
pub const MIN_TONE_AMPLITUDE: f64 = 0.01;
/// A sent tone must be this many times stronger than a frequency nobody sent (26 dB).
pub const MIN_TONE_RATIO: f64 = 20.0;

/// Ok if each of `present` is at least [`MIN_TONE_AMPLITUDE`] and [`MIN_TONE_RATIO`] times
/// the amplitude at `absent_hz`; else says which failed, with every measured amplitude.
pub fn check_tones(samples: &[f32], present: &[f64], absent_hz: f64) -> Result<(), String> {
    let floor = tone_amplitude(samples, absent_hz, AUDIO_RATE);
    let report: Vec<(f64, f64)> = present
        .iter()
        .map(|&f| (f, tone_amplitude(samples, f, AUDIO_RATE)))
        .collect();
    let weak: Vec<String> = report
        .iter()
        .filter(|(_, a)| *a < MIN_TONE_AMPLITUDE || *a < MIN_TONE_RATIO * floor)
        .map(|(f, a)| format!("{f} Hz amplitude {a:.5}"))
        .collect();
    if samples.len() < AUDIO_RATE as usize / 2 {
        return Err(format!("only {} samples", samples.len()));
    }
    if weak.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "weak tones: {} (absent {absent_hz} Hz: {floor:.5}; all: {report:?})",
            weak.join(", ")
        ))
    }
}
