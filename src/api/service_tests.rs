//! Service tests that need no running engine: lookups, validation, reservation, shutdown.

use std::time::Duration;

use tonic::Code;

use super::*;
use crate::api::config::OutputDefaults;
use crate::events::EventBus;
use crate::ingest::ports::PortPool;

fn service(root: &std::path::Path) -> CloudMixerService {
    CloudMixerService::new(ServiceConfig {
        output: OutputDefaults {
            recordings_root: crate::model::RecordingsRoot::open(root).unwrap(),
            x264_preset: "veryfast".into(),
            encoder_threads: 0,
            max_picture_pixels: crate::model::DEFAULT_MAX_PICTURE_PIXELS,
            single_path_template: crate::model::record::DEFAULT_SINGLE_PATH_TEMPLATE.to_owned(),
        },
        ports: PortPool::default_loopback(),
        bus: EventBus::new(),
        shutdown_timeout: Duration::from_secs(1),
        whip: None,
        rtc: Default::default(),
        policy: Default::default(),
        retention: Default::default(),
        limits: Default::default(),
        watch_stall: crate::api::watch::DEFAULT_WATCH_STALL,
        journal: None,
        requests: Default::default(),
    })
}

fn create_req(out: &str) -> proto::CreateCloudMixerRequest {
    proto::CreateCloudMixerRequest {
        mixer_id: "m1".into(),
        video_file_cfg: Some(proto::VideoFileCfg {
            svr_path_name: out.into(),
            v_width: 640,
            v_height: 360,
            v_fps: 15,
            layout_config: vec![proto::LayoutRegion {
                width: 640,
                height: 360,
                param: Some(proto::RegionParam { camid: "a".into() }),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

#[tokio::test]
async fn unknown_mixer_is_not_found() {
    let dir = tempfile::tempdir().unwrap();
    let s = service(dir.path());
    let get = s
        .get_cloud_mixer(Request::new(proto::GetCloudMixerRequest {
            mixer_id: "nope".into(),
        }))
        .await;
    assert_eq!(get.unwrap_err().code(), Code::NotFound);
    let upd = s
        .update_cloud_mixer_content(Request::new(proto::UpdateCloudMixerContentRequest {
            mixer_id: "nope".into(),
            ..Default::default()
        }))
        .await;
    assert_eq!(upd.unwrap_err().code(), Code::NotFound);
    let del = s
        .destroy_cloud_mixer(Request::new(proto::DestroyCloudMixerRequest {
            mixer_id: "nope".into(),
            ..Default::default()
        }))
        .await;
    assert_eq!(del.unwrap_err().code(), Code::NotFound);
    let list = s
        .list_cloud_mixers(Request::new(proto::ListCloudMixersRequest {}))
        .await
        .unwrap();
    assert!(list.into_inner().mixers.is_empty());
}

#[tokio::test]
async fn invalid_create_names_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let s = service(dir.path());
    let mut r = create_req("x.mp4");
    r.video_file_cfg.as_mut().unwrap().v_width = 641;
    let e = s.create_cloud_mixer(Request::new(r)).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert_eq!(e.message(), "video_file_cfg.v_width: must be even, got 641");
}

#[tokio::test]
async fn existing_output_file_is_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("old.mp4"), b"x").unwrap();
    let s = service(dir.path());
    let e = s
        .create_cloud_mixer(Request::new(create_req("old.mp4")))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::AlreadyExists);
    assert!(e.message().starts_with("video_file_cfg.svr_path_name:"));
}

#[tokio::test]
async fn reservation_rejects_duplicate_id_and_path() {
    let dir = tempfile::tempdir().unwrap();
    let s = service(dir.path());
    let d = &s.inner.cfg.output;
    let spec = validate::create_request(&create_req("a.mp4"), d).unwrap();
    let (_e, _g) = s.inner.registry.reserve(&spec, 1, 0).unwrap();
    let Err(e) = s.inner.registry.reserve(&spec, 2, 0) else {
        panic!("duplicate id reserved")
    };
    assert_eq!(e.code(), Code::AlreadyExists);
    let mut other = create_req("a.mp4");
    other.mixer_id = "m2".into();
    let spec2 = validate::create_request(&other, d).unwrap();
    let Err(e) = s.inner.registry.reserve(&spec2, 3, 0) else {
        panic!("duplicate path reserved")
    };
    assert_eq!(e.code(), Code::AlreadyExists);
    assert!(e.message().contains("\"m1\""), "{}", e.message());
    // A reserved (starting) mixer is listed as Starting.
    let info = s
        .get_cloud_mixer(Request::new(proto::GetCloudMixerRequest {
            mixer_id: "m1".into(),
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(info.state, proto::MixerState::Starting as i32);
}

#[tokio::test]
async fn after_shutdown_creates_are_unavailable() {
    let dir = tempfile::tempdir().unwrap();
    let s = service(dir.path());
    assert_eq!(s.shutdown_all().await, 0);
    let e = s
        .create_cloud_mixer(Request::new(create_req("x.mp4")))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::Unavailable);
}

#[tokio::test]
async fn watch_rejects_malformed_id() {
    let dir = tempfile::tempdir().unwrap();
    let s = service(dir.path());
    let e = s
        .watch_events(Request::new(proto::WatchEventsRequest {
            mixer_id: "a b".into(),
        }))
        .await
        .err()
        .unwrap();
    assert_eq!(e.code(), Code::InvalidArgument);
}

/// `create_req(out)` with record mode `mode` and mixer id `id`.
fn create_req_mode(id: &str, out: &str, mode: proto::RecordMode) -> proto::CreateCloudMixerRequest {
    proto::CreateCloudMixerRequest {
        mixer_id: id.into(),
        record_cfg: Some(proto::RecordCfg {
            mode: mode as i32,
            ..Default::default()
        }),
        ..create_req(out)
    }
}

#[tokio::test]
async fn a_single_only_mixer_neither_takes_nor_journals_its_output_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("old.mp4"), b"x").unwrap();
    let mut s = service(dir.path());
    let state = dir.path().join(".cloudmixer");
    Arc::get_mut(&mut s.inner).unwrap().cfg.journal = Some(Journal::open(&state).unwrap());
    let d = &s.inner.cfg.output;
    let reserve = |id: &str, out: &str, mode| {
        let spec = validate::create_request(&create_req_mode(id, out, mode), d).unwrap();
        s.inner.registry.reserve(&spec, 1, 0).map(|(e, _g)| e)
    };
    use proto::RecordMode::{Mixed, MixedAndSingle, Single};
    // An existing file at svr_path_name does not matter: nothing is written there.
    let Ok(single) = reserve("s1", "old.mp4", Single) else {
        panic!("single-only mixer refused")
    };
    assert!(
        reserve("s2", "old.mp4", Single).is_ok(),
        "a path no composite writes is not taken"
    );
    assert!(reserve("s3", "b.mp4", Single).is_ok());
    assert!(
        reserve("m1", "b.mp4", Mixed).is_ok(),
        "the single-only mixer does not hold b.mp4"
    );
    let Err(e) = reserve("m2", "b.mp4", MixedAndSingle) else {
        panic!("b.mp4 is m1's")
    };
    assert!(e.message().contains("\"m1\""), "{}", e.message());
    let Err(e) = reserve("m3", "old.mp4", MixedAndSingle) else {
        panic!("old.mp4 exists")
    };
    assert!(e.message().contains("already exists"), "{}", e.message());
    // No journal record for a mixer without a composite file; one for a composite.
    s.begin_journal(&single).unwrap();
    assert_eq!(std::fs::read_dir(&state).unwrap().count(), 0);
    s.begin_journal(&s.inner.registry.get("m1").unwrap())
        .unwrap();
    assert_eq!(std::fs::read_dir(&state).unwrap().count(), 1);
}
