//! Admission control and bounded memory against the real daemon:
//! - with `--cpu-budget-millicores 700`, two 1280x720@15 one-source mixers (about 303
//!   millicores each by the cost model) are admitted, the third is refused with
//!   RESOURCE_EXHAUSTED naming the budget and its cost, and destroying one admits it;
//! - `--max-mixers 1` refuses the second mixer, naming the flag;
//! - creating and destroying a mixer with 1100x1100 placeholder pictures 40 times keeps
//!   the daemon's RSS flat (ended mixers stay listed but keep no decoded pictures);
//! - `--max-ended-mixers 5` keeps only the 5 most recently ended in `list`;
//! - `--max-event-watchers 2` refuses a third WatchEvents stream, naming the flag, until
//!   one closes;
//! - a daemon left without file descriptors (prlimit) refuses a Create with
//!   RESOURCE_EXHAUSTED naming file descriptors, not UDP ports, and recovers.

mod common;

use std::io::Cursor;

use cloudmixer::proto::{ListCloudMixersRequest, VideoCodec};
use common::daemon::Daemon;
use common::{rpc, spec};
use tonic::Code;

fn one_source(id: &str) -> cloudmixer::proto::CreateCloudMixerRequest {
    spec::create_request(
        id,
        vec![spec::source("A", Some((VideoCodec::Vp8, 96)), true)],
        vec![spec::region("A", 0, 0, 1280, 720)],
        &format!("{id}.mp4"),
    )
}

#[tokio::test]
async fn the_budget_admits_what_fits_and_names_itself_when_full() {
    let d = Daemon::start_with_args(64, &["--cpu-budget-millicores".into(), "700".into()]);
    let mut c = d.client().await;
    rpc::create(&mut c, one_source("m1")).await;
    rpc::create(&mut c, one_source("m2")).await;
    let e = c.create_cloud_mixer(one_source("m3")).await.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    let m = e.message();
    assert!(
        m.contains("700-millicore")
            && m.contains("--cpu-budget-millicores")
            && m.contains("303 millicores"),
        "{m}"
    );
    // Nothing of the refused mixer remains.
    let get = c
        .get_cloud_mixer(cloudmixer::proto::GetCloudMixerRequest {
            mixer_id: "m3".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(get.code(), Code::NotFound);
    rpc::destroy(&mut c, "m1").await;
    rpc::create(&mut c, one_source("m3")).await;
    rpc::destroy(&mut c, "m2").await;
    rpc::destroy(&mut c, "m3").await;
}

#[tokio::test]
async fn max_mixers_refuses_the_next_one() {
    let d = Daemon::start_with_args(64, &["--max-mixers".into(), "1".into()]);
    let mut c = d.client().await;
    rpc::create(&mut c, one_source("only")).await;
    let e = c.create_cloud_mixer(one_source("next")).await.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    assert!(e.message().contains("--max-mixers"), "{}", e.message());
    rpc::destroy(&mut c, "only").await;
    rpc::create(&mut c, one_source("next")).await;
    rpc::destroy(&mut c, "next").await;
}

/// A `w` x `h` PNG of noise (so that it stays large: ~3 bytes per pixel).
fn noise_png(w: u32, h: u32) -> Vec<u8> {
    let mut state = 0x1234_5678u32;
    let img = image::RgbImage::from_fn(w, h, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [r, g, b, _] = state.to_le_bytes();
        image::Rgb([r, g, b])
    });
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Png)
        .expect("encode PNG");
    out.into_inner()
}

#[tokio::test]
async fn creating_and_destroying_with_large_placeholders_keeps_memory_flat() {
    // The default retention keeps every one of these ended mixers listed.
    let d = Daemon::start();
    let mut c = d.client().await;
    // 1100x1100 noise: just under the 4 MiB placeholder limit, 4.8 MB decoded (RGBA).
    let picture = noise_png(1100, 1100);
    assert!(picture.len() < 4 << 20, "{} bytes", picture.len());
    let cycle = |i: usize| {
        let mut req = one_source(&format!("ph{i}"));
        if let Some(v) = req.video_file_cfg.as_mut() {
            for r in &mut v.layout_config {
                r.placeholder_image = picture.clone();
            }
        }
        req
    };
    const WARM_UP: usize = 5;
    const CYCLES: usize = 40;
    let mut rss_after_warm_up = 0;
    for i in 0..CYCLES {
        rpc::create(&mut c, cycle(i)).await;
        rpc::destroy(&mut c, &format!("ph{i}")).await;
        if i + 1 == WARM_UP {
            rss_after_warm_up = d.rss_bytes();
        }
    }
    let rss_end = d.rss_bytes();
    let growth = rss_end.saturating_sub(rss_after_warm_up) as f64 / 1e6;
    eprintln!("RSS {rss_after_warm_up} -> {rss_end} bytes: {growth:.1} MB grown");
    // 35 more ended mixers holding their 4.8 MB picture would be 170 MB.
    assert!(
        growth < 40.0,
        "RSS grew {growth:.1} MB over {} create/destroy cycles ({rss_after_warm_up} -> {rss_end} bytes)",
        CYCLES - WARM_UP
    );
}

#[tokio::test]
async fn list_keeps_only_the_most_recently_ended_mixers() {
    let d = Daemon::start_with_args(64, &["--max-ended-mixers".into(), "5".into()]);
    let mut c = d.client().await;
    for i in 0..12 {
        rpc::create(&mut c, one_source(&format!("e{i:02}"))).await;
        rpc::destroy(&mut c, &format!("e{i:02}")).await;
    }
    rpc::create(&mut c, one_source("running")).await;
    let listed = c
        .list_cloud_mixers(ListCloudMixersRequest {})
        .await
        .expect("List")
        .into_inner()
        .mixers;
    let ids: Vec<&str> = listed.iter().map(|m| m.mixer_id.as_str()).collect();
    assert_eq!(ids, ["e07", "e08", "e09", "e10", "e11", "running"]);
    rpc::destroy(&mut c, "running").await;
}

#[tokio::test]
async fn event_streams_beyond_the_bound_are_refused_until_one_closes() {
    let d = Daemon::start_with_args(8, &["--max-event-watchers".into(), "2".into()]);
    let mut c = d.client().await;
    let watch = |c: &mut rpc::Client| {
        let mut c = c.clone();
        async move {
            c.watch_events(cloudmixer::proto::WatchEventsRequest::default())
                .await
        }
    };
    let first = watch(&mut c).await.expect("first stream");
    let _second = watch(&mut c).await.expect("second stream");
    let e = watch(&mut c).await.unwrap_err();
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    assert!(
        e.message().contains("--max-event-watchers"),
        "{}",
        e.message()
    );
    // Unary calls have their own bound.
    c.list_cloud_mixers(ListCloudMixersRequest::default())
        .await
        .expect("List beside two streams");
    // Closing one frees its slot (once the daemon has seen the stream end).
    drop(first);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match watch(&mut c).await {
            Ok(_third) => break,
            Err(e) if e.code() == Code::ResourceExhausted => {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "slot never freed: {e:?}"
                );
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
}

/// Open file descriptors of process `pid`.
fn open_fds(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .expect("read /proc/PID/fd")
        .count()
}

/// Sets the soft open-file limit of `pid` (the hard limit stays, so it can be raised
/// back).
fn set_nofile(pid: u32, n: usize) {
    let ok = std::process::Command::new("prlimit")
        .arg(format!("--pid={pid}"))
        .arg(format!("--nofile={n}:"))
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "prlimit --pid {pid} --nofile={n}");
}

#[tokio::test]
async fn running_out_of_file_descriptors_is_reported_as_that() {
    let d = Daemon::start();
    let mut c = d.client().await;
    // Warm up (the first Create opens what every later one shares), then leave the
    // daemon three descriptors: not enough for a source's four sockets.
    rpc::create(&mut c, one_source("warm")).await;
    rpc::destroy(&mut c, "warm").await;
    let pid = d.pid();
    set_nofile(pid, open_fds(pid) + 3);
    let e = c
        .create_cloud_mixer(one_source("starved"))
        .await
        .unwrap_err();
    set_nofile(pid, 1024);
    assert_eq!(e.code(), Code::ResourceExhausted, "{e:?}");
    let m = e.message();
    assert!(
        m.starts_with("file descriptors exhausted while") && m.contains("ulimit -n"),
        "{m}"
    );
    assert!(!m.contains("UDP ports in"), "{m}");
    // With descriptors back, the same Create works: nothing was left half-made.
    rpc::create(&mut c, one_source("starved")).await;
    rpc::destroy(&mut c, "starved").await;
}
