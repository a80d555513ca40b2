//! Placeholders through the real daemon. Two mixers record side by side (640x360, grey
//! background, two 320x180 tiles keeping the aspect ratio): in mixer "ph" source A
//! (ffmpeg, red) has a yellow 16:9 placeholder and a 500 ms stale timeout, source B never
//! sends and has a green 4:3 placeholder (pillarboxed: grey bars). Mixer "plain" has the
//! same layout without pictures. Checked in the files by sampling colours: A's
//! placeholder before its first picture and after it went silent, A's picture while it
//! sends, B's picture with background bars, and background where "plain" has no picture.
//! Bad pictures are refused naming the field, even one just over 4 MiB (the gRPC message
//! limit leaves room for it).

mod common;

use std::io::Cursor;
use std::time::Duration;

use cloudmixer::proto::{
    CreateCloudMixerRequest, DestroyCloudMixerRequest, MixerState, OutputStatus, VideoCodec,
};
use common::daemon::Daemon;
use common::media::{self, check_colours, ColourAt, Rgb, RED};
use common::sender::{Codec, SenderSpec};
use common::spec::{self, region};
use image::{DynamicImage, ImageFormat, RgbImage};
use tokio::time::sleep_until;
use tonic::Code;

const A: &str = "Usr1.-1";
const B: &str = "Usr2.-1";
const GREY: Rgb = [128, 128, 128];
const GREEN: Rgb = [0, 255, 0];
const YELLOW: Rgb = [255, 255, 0];
/// Mixer "ph"'s stale timeout, ms.
const STALE_MS: u32 = 500;
/// Wall time after Create at which A's sender is killed, and the mixers destroyed.
const SILENT_AT: Duration = Duration::from_millis(3_500);
const DESTROY_AT: Duration = Duration::from_millis(5_600);
/// Output times sampled: the first picture (A cannot have a picture yet), A sending
/// (its first keyframe is in by then, as in e2e_rtp), and A silent for more than
/// playout delay + stale timeout (killed at ~3.3 s of output time).
const FIRST_T: f64 = 0.0;
const SENDING_T: f64 = 2.5;
const SILENT_T: f64 = 4.9;

/// A `w` x `h` PNG of one colour.
fn png(w: u32, h: u32, c: Rgb) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    DynamicImage::ImageRgb8(RgbImage::from_pixel(w, h, image::Rgb(c)))
        .write_to(&mut out, ImageFormat::Png)
        .expect("encode PNG");
    out.into_inner()
}

/// 640x360, grey, A at (0, 90) and B at (320, 90), both 320x180; pictures as given.
fn request(id: &str, a_image: Vec<u8>, b_image: Vec<u8>) -> CreateCloudMixerRequest {
    let mut a = region(A, 0, 90, 320, 180);
    a.placeholder_image = a_image;
    let mut b = region(B, 320, 90, 320, 180);
    b.placeholder_image = b_image;
    let mut r = spec::create_request(
        id,
        vec![
            spec::source(A, Some((VideoCodec::Vp8, 96)), true),
            spec::source(B, Some((VideoCodec::H264, 102)), true),
        ],
        vec![a, b],
        &format!("ph/{id}.mp4"),
    );
    let cfg = r.video_file_cfg.as_mut().expect("set by create_request");
    (cfg.v_width, cfg.v_height) = (640, 360);
    cfg.background_color = "#808080".into();
    r
}

fn at(what: &'static str, x: u32, y: u32, rgb: Rgb) -> ColourAt {
    ColourAt { what, x, y, rgb }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_sources_show_their_placeholder_picture() {
    let d = Daemon::start();
    let mut c = d.client().await;

    // Bad pictures: INVALID_ARGUMENT naming the field, nothing created.
    let big = vec![0u8; 4 * 1024 * 1024 + 1];
    for (bytes, want) in [
        (
            b"not a picture".to_vec(),
            "video_file_cfg.layout_config[1].placeholder_image: not a PNG or JPEG image",
        ),
        (
            big,
            "video_file_cfg.layout_config[1].placeholder_image: at most 4194304 bytes",
        ),
    ] {
        let e = c
            .create_cloud_mixer(request("bad", Vec::new(), bytes))
            .await
            .expect_err("a bad picture is refused");
        assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
        assert!(e.message().starts_with(want), "{:?}", e.message());
    }
    let mut bad_timeout = request("bad", Vec::new(), Vec::new());
    bad_timeout.stale_timeout_ms = 50;
    let e = c.create_cloud_mixer(bad_timeout).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(e.message().starts_with("stale_timeout_ms:"), "{e:?}");

    // Two mixers, then A publishes to "ph" only.
    let mut with = request("ph", png(64, 36, YELLOW), png(40, 30, GREEN));
    with.stale_timeout_ms = STALE_MS;
    let ph = c.create_cloud_mixer(with).await.expect("Create ph");
    let t0 = tokio::time::Instant::now();
    let ph = ph.into_inner();
    let plain = c
        .create_cloud_mixer(request("plain", Vec::new(), Vec::new()))
        .await
        .expect("Create plain")
        .into_inner();
    let info = ph.info.as_ref().expect("info");
    assert_eq!(info.state, MixerState::Running as i32);
    assert_eq!(info.stale_timeout_ms, STALE_MS);
    assert_eq!(plain.info.as_ref().map(|i| i.stale_timeout_ms), Some(2000));
    let p = &ph.source_ports[0];
    let port = |p: u32| u16::try_from(p).expect("UDP port");
    let sender = SenderSpec::solid(
        "red",
        Codec::Vp8,
        440,
        port(p.video_rtp_port),
        port(p.audio_rtp_port),
    )
    .start();
    sleep_until(t0 + SILENT_AT).await;
    drop(sender);
    sleep_until(t0 + DESTROY_AT).await;
    for id in ["ph", "plain"] {
        let out = c
            .destroy_cloud_mixer(DestroyCloudMixerRequest {
                mixer_id: id.into(),
                oper_user_id: String::new(),
            })
            .await
            .expect("Destroy")
            .into_inner()
            .info
            .and_then(|i| i.output)
            .expect("final output");
        assert_eq!(out.status, OutputStatus::Finalized as i32, "{out:?}");
    }

    let file = |id: &str| d.recordings().join(format!("ph/{id}.mp4"));
    let frame = |id: &str, t: f64| media::frame_at(&file(id), t, 640, 360);
    // B never sent: its 4:3 picture pillarboxed to 240x180 at x = 360, grey bars beside.
    let b_points = [
        at("B placeholder centre", 480, 180, GREEN),
        at("B placeholder near its left edge", 370, 120, GREEN),
        at("B left bar", 340, 180, GREY),
        at("B right bar", 620, 180, GREY),
        at("top band", 320, 40, GREY),
    ];
    let mut first = b_points.to_vec();
    first.push(at("A before its first picture", 160, 180, YELLOW));
    check_colours(&frame("ph", FIRST_T), &first).expect("ph, first picture");
    let mut sending = b_points.to_vec();
    sending.push(at("A sending", 160, 180, RED));
    check_colours(&frame("ph", SENDING_T), &sending).expect("ph, A sending");
    let mut silent = b_points.to_vec();
    silent.push(at("A silent > stale timeout", 160, 180, YELLOW));
    check_colours(&frame("ph", SILENT_T), &silent).expect("ph, A silent");
    // Without pictures: the background where the placeholders were.
    let plain_points = [
        at("B without a picture", 480, 180, GREY),
        at("A without a picture", 160, 180, GREY),
    ];
    check_colours(&frame("plain", SENDING_T), &plain_points).expect("plain");
}
