//! Cloudroom's own example objects (seed 002, both calls, verbatim as the vendor's guide
//! prints them: a JavaScript literal with unquoted keys and `keepAspectRatio: 1`) given
//! to the real binary's `create --cloud-mixer-cfg` and `update --cloud-mixer-cfg`, with
//! two ffmpeg publishers: the file lands at the `svrPathName` under the recordings root
//! (its leading `/` is the root), at 1280x720 and 15 fps, side by side at top=180 before
//! the update and picture-in-picture after it, by the colours in the decoded pictures.

mod common;

use std::time::Duration;

use common::daemon::Daemon;
use common::media::{self, check_colours};
use common::rpc;
use common::sender::{Codec, SenderSpec};
use common::spec::{PIP_POINTS, SIDE_BY_SIDE_POINTS};

const LIMIT: Duration = Duration::from_secs(30);

/// A file holding `CRVideo_CreateCloudMixer(cloudMixerCfg)`'s object, copied from seed
/// 002 (under a `//` comment line: JSON5).
const CREATE_CFG: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/cloudroom/create.json5"
);

/// A file holding `CRVideo_UpdateCloudMixerContent(mixerID, cloudMixerCfg)`'s object.
const UPDATE_CFG: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/cloudroom/update.json5"
);

fn cloudmixer(args: &[&str]) -> (String, String) {
    let o = tokio::task::block_in_place(|| common::cloudmixer_cli(args));
    let (out, err) = (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    );
    assert!(o.status.success(), "cloudmixer {args:?}: {err}");
    (out, err)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed_002_examples_work_verbatim_through_the_cli() {
    let d = Daemon::start();
    let server = d.endpoint();
    let mut c = d.client().await;
    let id = "cloudroom";
    cloudmixer(&[
        "create",
        "--server",
        &server,
        "--id",
        id,
        "--source",
        "Usr1.-1:video=vp8/96,audio=opus/111",
        "--source",
        "Usr2.-1:video=h264/102,audio=opus/111",
        "--cloud-mixer-cfg",
        CREATE_CFG,
    ]);
    let info = rpc::info(&mut c, id).await;
    let cfg = info.video_file_cfg.clone().expect("videoFileCfg");
    assert_eq!((cfg.v_width, cfg.v_height, cfg.v_fps), (1280, 720, 15));
    let port = |i: usize| info.sources[i].ports.clone().expect("ports");
    let _a = SenderSpec::solid_to("red", Codec::Vp8, 440, &port(0)).start();
    let _b = SenderSpec::solid_to("blue", Codec::H264, 1000, &port(1)).start();

    // Both pictures in the file for 2 s, then the vendor's update; the file written up to
    // the update is side by side (the switch lands later in output time, never earlier).
    rpc::wait_pictures_and_written(&mut c, id, 3_000).await;
    let (out, _) = cloudmixer(&[
        "update",
        id,
        "--server",
        &server,
        "--json",
        "--cloud-mixer-cfg",
        UPDATE_CFG,
    ]);
    let updated: serde_json::Value = serde_json::from_str(&out).expect("update --json");
    let regions = &updated["info"]["videoFileCfg"]["layoutConfig"];
    assert_eq!(regions[1]["left"], 880, "{out}");
    assert_eq!(regions[1]["keepAspectRatio"], true, "{out}");
    let switch_ms = rpc::written_ms(&rpc::info(&mut c, id).await);
    rpc::poll_until(&mut c, id, "4 s past the update", LIMIT, |i| {
        rpc::written_ms(i) >= switch_ms + 4_000
    })
    .await;
    let fin = rpc::destroy(&mut c, id).await;
    let out = fin.output.expect("output");
    assert_eq!(
        out.path,
        "2021-09-24/2021-09-24_13-47-41_Win32_73542046.mp4"
    );
    let file = d.recordings().join(&out.path);
    assert!(file.is_file(), "{file:?}");
    let probe = media::probe(&file);
    let v = probe.of_kind("video");
    assert_eq!((v[0].width, v[0].height), (1280, 720), "{v:?}");
    assert_eq!(v[0].avg_frame_rate, "15/1", "{v:?}");

    let before = media::frame_at(&file, switch_ms as f64 / 1000.0 - 0.5, 1280, 720);
    check_colours(&before, SIDE_BY_SIDE_POINTS).expect("create's layout: side by side");
    let after = media::frame_at(&file, switch_ms as f64 / 1000.0 + 3.0, 1280, 720);
    check_colours(&after, PIP_POINTS).expect("update's layout: picture in picture");
}

#[test]
fn errors_name_the_key_and_flags_do_not_mix() {
    let d = Daemon::start();
    let server = d.endpoint();
    let run = |args: &[&str]| {
        let o = common::cloudmixer_cli(args);
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let create = |cfg: &str| {
        run(&[
            "create",
            "--server",
            &server,
            "--source",
            "Usr1.-1",
            "--cloud-mixer-cfg",
            cfg,
        ])
    };
    let (code, err) = create("{mode: 0, videoFileCfg: {vFPS: 15}}");
    assert_eq!(code, Some(1));
    assert!(
        err.contains("INVALID_ARGUMENT") && err.contains("videoFileCfg.vFPS"),
        "{err}"
    );
    let (_, err) = create("{mode: 2}");
    assert!(err.contains("mode: only 0"), "{err}");
    let (_, err) = create("{videoFileCfg: {svrPathName: \"//etc/x.mp4\"}}");
    assert!(err.contains("video_file_cfg.svr_path_name"), "{err}");
    let (code, err) = run(&[
        "create",
        "--server",
        &server,
        "--out",
        "x.mp4",
        "--cloud-mixer-cfg",
        "{}",
    ]);
    assert_eq!(code, Some(2), "a usage error: {err}");
    assert!(err.contains("--out"), "{err}");
    let (_, err) = run(&[
        "update",
        "m",
        "--server",
        &server,
        "--cloud-mixer-cfg",
        "{videoFileCfg: {vWidth: 640, vHeight: 360, layoutConfig: []}}",
    ]);
    assert!(err.contains("vWidth/vHeight is fixed at create"), "{err}");
}
