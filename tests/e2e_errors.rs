//! What the daemon says to bad requests and bad packets: each invalid request gets the
//! right gRPC code and a message naming the field (also an output path through an
//! existing file); unknown and duplicate mixers, port exhaustion; garbage UDP next to a real publisher is counted and dropped while the
//! recording goes on; the health and reflection services answer.

mod common;

use std::net::UdpSocket;
use std::time::{Duration, Instant};

use cloudmixer::proto::{
    cloud_mixer_client::CloudMixerClient, CreateCloudMixerRequest, DestroyCloudMixerRequest,
    GetCloudMixerRequest, LayoutPreset, ListCloudMixersRequest, MixerState, OutputStatus,
    UpdateCloudMixerContentRequest, VideoCodec,
};
use common::daemon::Daemon;
use common::media::{self, check_colours, check_tones, ColourAt, RED};
use common::sender::{Codec, SenderSpec};
use common::spec::{self, region};
use rand::{Rng, SeedableRng};
use tonic::{transport::Channel, Code};

const A: &str = "Usr1.-1";

/// One VP8+Opus source, full-canvas region, 1280x720@15.
fn valid(id: &str) -> CreateCloudMixerRequest {
    spec::create_request(
        id,
        vec![spec::source(A, Some((VideoCodec::Vp8, 96)), true)],
        vec![region(A, 0, 0, 1280, 720)],
        &format!("errors/{id}.mp4"),
    )
}

fn video_only(id: &str) -> CreateCloudMixerRequest {
    let mut r = valid(id);
    r.sources = vec![spec::source(A, Some((VideoCodec::Vp8, 96)), false)];
    r
}

async fn destroy(c: &mut CloudMixerClient<Channel>, id: &str) -> Result<(), tonic::Status> {
    let r = c
        .destroy_cloud_mixer(DestroyCloudMixerRequest {
            mixer_id: id.into(),
            oper_user_id: String::new(),
        })
        .await?
        .into_inner();
    let out = r.info.and_then(|i| i.output).expect("final output info");
    assert_eq!(out.status, OutputStatus::Finalized as i32, "{out:?}");
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_requests_are_rejected_naming_the_field() {
    type Edit = fn(&mut CreateCloudMixerRequest);
    let cases: Vec<(&str, Edit)> = vec![
        ("video_file_cfg.v_width", |r| {
            r.video_file_cfg.as_mut().unwrap().v_width = 0
        }),
        ("video_file_cfg.v_width", |r| {
            r.video_file_cfg.as_mut().unwrap().v_width = 641
        }),
        ("video_file_cfg.v_width", |r| {
            r.video_file_cfg.as_mut().unwrap().v_width = 4000
        }),
        ("video_file_cfg.v_height", |r| {
            r.video_file_cfg.as_mut().unwrap().v_height = 0
        }),
        ("video_file_cfg.v_fps", |r| {
            r.video_file_cfg.as_mut().unwrap().v_fps = 0
        }),
        ("video_file_cfg.v_fps", |r| {
            r.video_file_cfg.as_mut().unwrap().v_fps = 61
        }),
        ("video_file_cfg.layout_config[0].width", |r| {
            r.video_file_cfg.as_mut().unwrap().layout_config[0].width = 0
        }),
        ("video_file_cfg.layout_config[0]", |r| {
            // 640 px wide at left 1000 ends at 1640 > 1280: outside the canvas.
            r.video_file_cfg.as_mut().unwrap().layout_config[0] = region(A, 1000, 0, 640, 360)
        }),
        ("video_file_cfg.layout_preset.name", |r| {
            let c = r.video_file_cfg.as_mut().unwrap();
            c.layout_config.clear();
            c.layout_preset = Some(LayoutPreset {
                name: "no-such-preset".into(),
                camids: vec![A.into()],
                keep_aspect_ratio: Some(false),
                placeholder_image: Vec::new(),
            });
        }),
        ("video_file_cfg.background_color", |r| {
            r.video_file_cfg.as_mut().unwrap().background_color = "red".into()
        }),
        ("sources[1].camid", |r| r.sources.push(r.sources[0].clone())),
        ("sources[0].video.codec", |r| {
            r.sources[0].video.as_mut().unwrap().codec = 0
        }),
        ("sources[0].audio.codec", |r| {
            r.sources[0].audio.as_mut().unwrap().codec = 0
        }),
        ("sources[0].video.payload_type", |r| {
            r.sources[0].video.as_mut().unwrap().payload_type = 128
        }),
        ("sources[0]", |r| {
            r.sources[0].video = None;
            r.sources[0].audio = None;
        }),
        ("video_file_cfg.svr_path_name", |r| {
            r.video_file_cfg.as_mut().unwrap().svr_path_name = "//etc/x.mp4".into()
        }),
        ("video_file_cfg.svr_path_name", |r| {
            r.video_file_cfg.as_mut().unwrap().svr_path_name = "../x.mp4".into()
        }),
        ("video_file_cfg.svr_path_name", |r| {
            r.video_file_cfg.as_mut().unwrap().svr_path_name = "a/../../x.mp4".into()
        }),
        ("mixer_id", |r| r.mixer_id = "bad id/with slash".into()),
        ("video_file_cfg", |r| r.video_file_cfg = None),
    ];
    let d = Daemon::start();
    let mut c = d.client().await;
    for (i, (field, edit)) in cases.iter().enumerate() {
        let mut r = valid(&format!("bad-{i}"));
        edit(&mut r);
        let e = c
            .create_cloud_mixer(r.clone())
            .await
            .expect_err(&format!("case {i} ({field}) must be rejected: {r:?}"));
        assert_eq!(e.code(), Code::InvalidArgument, "case {i}: {e:?}");
        assert!(
            e.message().contains(field),
            "case {i}: message {:?} does not name {field}",
            e.message()
        );
    }
    // Nothing was created and no file was left behind; the valid request still works.
    let listed = c
        .list_cloud_mixers(ListCloudMixersRequest {})
        .await
        .unwrap()
        .into_inner();
    assert!(listed.mixers.is_empty(), "{:?}", listed.mixers);
    assert!(!std::path::Path::new("/etc/x.mp4").exists());
    assert!(!d.recordings().parent().unwrap().join("x.mp4").exists());
    c.create_cloud_mixer(valid("good"))
        .await
        .expect("the base request is valid");
    destroy(&mut c, "good").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_and_duplicate_mixers() {
    let d = Daemon::start();
    let mut c = d.client().await;
    let e = c
        .get_cloud_mixer(GetCloudMixerRequest {
            mixer_id: "nope".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "{e:?}");
    assert_eq!(
        destroy(&mut c, "nope").await.unwrap_err().code(),
        Code::NotFound
    );
    let upd = |id: &str| UpdateCloudMixerContentRequest {
        mixer_id: id.into(),
        layout_config: vec![region(A, 0, 0, 640, 360)],
        ..Default::default()
    };
    let e = c.update_cloud_mixer_content(upd("nope")).await.unwrap_err();
    assert_eq!(e.code(), Code::NotFound, "{e:?}");

    c.create_cloud_mixer(valid("dup"))
        .await
        .expect("first create");
    let e = c.create_cloud_mixer(valid("dup")).await.unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists, "{e:?}");
    assert!(e.message().contains("dup"), "{e:?}");
    destroy(&mut c, "dup").await.unwrap();
    let e = c.update_cloud_mixer_content(upd("dup")).await.unwrap_err();
    assert_eq!(
        e.code(),
        Code::FailedPrecondition,
        "update after destroy: {e:?}"
    );
}

/// An output path through an existing regular file cannot be created: the caller's
/// mistake, INVALID_ARGUMENT naming the field (not INTERNAL), and no mixer is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_path_through_a_file_is_invalid_argument() {
    let d = Daemon::start();
    let mut c = d.client().await;
    std::fs::write(d.recordings().join("blocker.mp4"), b"not a directory").unwrap();
    for (id, path) in [
        ("through-file", "blocker.mp4/x.mp4"),
        ("under-file", "blocker.mp4/sub/x.mp4"),
    ] {
        let mut r = valid(id);
        r.video_file_cfg.as_mut().unwrap().svr_path_name = path.into();
        let e = c.create_cloud_mixer(r).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{path}: {e:?}");
        assert!(
            e.message().starts_with("video_file_cfg.svr_path_name: "),
            "{path}: {e:?}"
        );
        assert!(e.message().contains(path), "{path}: {e:?}");
        let e = c
            .get_cloud_mixer(GetCloudMixerRequest {
                mixer_id: id.into(),
            })
            .await
            .unwrap_err();
        assert_eq!(
            e.code(),
            Code::NotFound,
            "a failed start is not listed: {e:?}"
        );
    }
    // The ports of the failed starts came back: a valid mixer still starts.
    c.create_cloud_mixer(valid("after")).await.expect("create");
    destroy(&mut c, "after").await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn port_range_exhaustion_and_release() {
    // One RTP/RTCP pair: room for exactly one video-only source.
    let d = Daemon::start_with_rtp_ports(2);
    let mut c = d.client().await;
    let one = c
        .create_cloud_mixer(video_only("one"))
        .await
        .expect("fits")
        .into_inner();
    assert_eq!(one.source_ports[0].video_rtp_port, u32::from(d.rtp_ports.0));
    let e = c.create_cloud_mixer(video_only("two")).await.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    let e = c.create_cloud_mixer(valid("three")).await.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    destroy(&mut c, "one").await.unwrap();
    // Destroy must release the ports before it returns. If the first try fails, retry
    // for a few seconds only to tell a late release from a leak in the failure message.
    let t = Instant::now();
    let mut attempt = 0;
    let again = loop {
        attempt += 1;
        match c
            .create_cloud_mixer(video_only(&format!("four-{attempt}")))
            .await
        {
            Ok(r) => break r.into_inner(),
            Err(e)
                if e.code() == Code::ResourceExhausted && t.elapsed() < Duration::from_secs(3) =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await
            }
            Err(e) => panic!("ports of a destroyed mixer never came back: {e:?}"),
        }
    };
    assert_eq!(
        attempt,
        1,
        "ports came back only {} ms after Destroy returned",
        t.elapsed().as_millis()
    );
    assert_eq!(
        again.source_ports[0].video_rtp_port,
        u32::from(d.rtp_ports.0)
    );
    destroy(&mut c, "four-1").await.unwrap();
}

/// Bad datagrams for a source whose SSRCs are pinned: random bytes, truncated RTP headers,
/// a wrong payload type, a foreign SSRC, a CSRC count longer than the packet.
fn garbage(rng: &mut impl Rng, pt: u8, ssrc: u32, i: usize) -> Vec<u8> {
    let header = |pt: u8, ssrc: u32, seq: u16| {
        let mut h = vec![0x80, pt, 0, 0, 0, 0, 0, 0];
        h[2..4].copy_from_slice(&seq.to_be_bytes());
        h.extend(ssrc.to_be_bytes());
        h
    };
    let seq = rng.gen();
    match i % 5 {
        0 => (0..rng.gen_range(1..1400)).map(|_| rng.gen()).collect(),
        1 => header(pt, ssrc, seq)[..rng.gen_range(1..12)].to_vec(),
        2 => [header((pt + 7) % 128, ssrc, seq), vec![0x55; 200]].concat(),
        3 => [header(pt, ssrc ^ 0x5a5a_5a5a, seq), vec![0x90; 200]].concat(),
        _ => {
            let mut h = header(pt, ssrc, seq);
            h[0] = 0x8f; // 15 CSRCs announced, none present
            h
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_packets_are_dropped_and_the_recording_goes_on() {
    let d = Daemon::start();
    let mut c = d.client().await;
    let pub_spec = SenderSpec::solid("red", Codec::Vp8, 440, 0, 0);
    let mut req = valid("garbage");
    {
        let s = &mut req.sources[0];
        s.video.as_mut().unwrap().ssrc = Some(pub_spec.video_ssrc);
        s.audio.as_mut().unwrap().ssrc = Some(pub_spec.audio_ssrc);
    }
    let created = c
        .create_cloud_mixer(req)
        .await
        .expect("create")
        .into_inner();
    let p = &created.source_ports[0];
    let (vport, aport) = (p.video_rtp_port as u16, p.audio_rtp_port as u16);
    let t0 = Instant::now();
    let _publisher = SenderSpec {
        video_port: Some(vport),
        audio_port: Some(aport),
        ..pub_spec.clone()
    }
    .start();

    // 3 s of garbage, 100 datagrams per port, alternating kinds.
    let (vssrc, assrc) = (pub_spec.video_ssrc, pub_spec.audio_ssrc);
    let sent = tokio::task::spawn_blocking(move || {
        let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for i in 0..100 {
            sock.send_to(&garbage(&mut rng, 96, vssrc, i), ("127.0.0.1", vport))
                .unwrap();
            sock.send_to(&garbage(&mut rng, 111, assrc, i), ("127.0.0.1", aport))
                .unwrap();
            std::thread::sleep(Duration::from_millis(30)); // paces the garbage over 3 s
        }
        200u64
    })
    .await
    .unwrap();

    let info = c
        .get_cloud_mixer(GetCloudMixerRequest {
            mixer_id: "garbage".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(info.state, MixerState::Running as i32, "{info:?}");
    let s = &info.sources[0];
    // Every kind but random bytes is certainly invalid; random bytes nearly always are.
    assert!(
        s.packets_dropped >= sent * 3 / 5,
        "{} of {sent} garbage datagrams dropped: {s:?}",
        s.packets_dropped
    );
    assert!(
        s.video_frames_decoded > 0 && s.audio_frames_decoded > 0,
        "{s:?}"
    );
    assert_eq!((s.width, s.height), (640, 360));

    // Paces the recording: 6 s of it (the checks below look at 1.5-5 s).
    tokio::time::sleep(Duration::from_secs(6).saturating_sub(t0.elapsed())).await;
    destroy(&mut c, "garbage").await.unwrap();
    let file = d.recordings().join("errors/garbage.mp4");
    let frame = media::frame_at(&file, 4.0, 1280, 720);
    let points = [
        ColourAt {
            what: "centre",
            x: 640,
            y: 360,
            rgb: RED,
        },
        ColourAt {
            what: "corner",
            x: 40,
            y: 40,
            rgb: RED,
        },
    ];
    check_colours(&frame, &points).expect("the publisher's picture survives the garbage");
    check_tones(&media::audio_between(&file, 1.5, 5.0), &[440.0], 2500.0).expect("its tone too");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_and_reflection_services_answer() {
    use tonic_health::pb::{
        health_check_response::ServingStatus, health_client::HealthClient, HealthCheckRequest,
    };
    use tonic_reflection::pb::v1::{
        server_reflection_client::ServerReflectionClient,
        server_reflection_request::MessageRequest, server_reflection_response::MessageResponse,
        ServerReflectionRequest,
    };

    let d = Daemon::start();
    let ch = d.channel().await;
    let mut health = HealthClient::new(ch.clone());
    for service in ["", "cloudmixer.v1.CloudMixer"] {
        let r = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap_or_else(|e| panic!("health check {service:?}: {e:?}"))
            .into_inner();
        assert_eq!(r.status, ServingStatus::Serving as i32, "{service:?}");
    }
    let e = health
        .check(HealthCheckRequest {
            service: "no.such.Service".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::NotFound);

    let mut refl = ServerReflectionClient::new(ch);
    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = refl
        .server_reflection_info(tokio_stream::iter([req]))
        .await
        .expect("reflection v1")
        .into_inner();
    let resp = tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("reflection answers")
        .expect("reflection stream")
        .expect("one response");
    let Some(MessageResponse::ListServicesResponse(list)) = resp.message_response else {
        panic!("not a service list: {resp:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.iter().any(|n| n == "cloudmixer.v1.CloudMixer"),
        "{names:?}"
    );

    // grpcurl is optional (not in Debian 12): when present, it must see the same service.
    if std::process::Command::new("grpcurl")
        .arg("-version")
        .output()
        .is_ok()
    {
        let out = common::run_bounded(
            std::process::Command::new("grpcurl").args([
                "-plaintext",
                &format!("127.0.0.1:{}", d.port),
                "list",
            ]),
            Duration::from_secs(20),
        );
        assert!(String::from_utf8_lossy(&out).contains("cloudmixer.v1.CloudMixer"));
    }
}
