//! Files never leave the recordings root, whatever the file system holds: against a real
//! daemon, symlinks planted inside the root (to a directory outside, to a file outside,
//! dangling, and one swapped with a real directory in a loop while Creates run) never
//! get a byte written outside the root, and no existing file is touched; such paths are
//! INVALID_ARGUMENT naming `video_file_cfg.svr_path_name` (or ALREADY_EXISTS for a name
//! that exists). String limits: a huge `oper_user_id` is refused and `List` still works.

mod common;

use std::collections::BTreeMap;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cloudmixer::proto::{
    CreateCloudMixerRequest, DestroyCloudMixerRequest, GetCloudMixerRequest,
    ListCloudMixersRequest, OutputStatus, VideoCodec,
};
use common::daemon::Daemon;
use common::rpc::{self, Client};
use common::spec::{self, region};
use tonic::Code;

const FIELD: &str = "video_file_cfg.svr_path_name: ";
const A: &str = "Usr1.-1";

/// A mixer with one source (no sender: its tile shows the background) writing `path`.
fn request(id: &str, path: &str) -> CreateCloudMixerRequest {
    spec::create_request(
        id,
        vec![spec::source(A, Some((VideoCodec::Vp8, 96)), true)],
        vec![region(A, 0, 0, 1280, 720)],
        path,
    )
}

/// Every file under `dir` (not following symlinks) and its bytes; symlinks as their
/// target, marked.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir") {
            let p = e.expect("entry").path();
            let m = std::fs::symlink_metadata(&p).expect("lstat");
            if m.file_type().is_symlink() {
                let t = std::fs::read_link(&p).expect("readlink");
                out.insert(p, format!("-> {}", t.display()).into_bytes());
            } else if m.is_dir() {
                todo.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).expect("read"));
            }
        }
    }
    out
}

async fn create(c: &mut Client, id: &str, path: &str) -> Result<(), tonic::Status> {
    c.create_cloud_mixer(request(id, path)).await.map(|_| ())
}

/// Destroys `id` and checks its file was finalized with some bytes in it.
async fn destroy_finalized(c: &mut Client, id: &str) {
    let info = rpc::destroy(c, id).await;
    let out = info.output.expect("output info");
    assert_eq!(out.status, OutputStatus::Finalized as i32, "{id}: {out:?}");
    assert!(out.size_bytes > 0, "{id}: {out:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn planted_symlinks_never_redirect_a_write() {
    let d = Daemon::start();
    let mut c = d.client().await;
    let root = d.recordings();
    let outside_tmp = tempfile::tempdir().unwrap();
    let outside = outside_tmp.path();
    std::fs::write(
        outside.join("victim.mp4"),
        b"precious bytes outside the root",
    )
    .unwrap();
    std::fs::create_dir(outside.join("dir")).unwrap();
    symlink(outside.join("dir"), root.join("to_dir")).unwrap();
    symlink(outside.join("victim.mp4"), root.join("to_file.mp4")).unwrap();
    symlink(
        outside.join("created_by_daemon.mp4"),
        root.join("dangling.mp4"),
    )
    .unwrap();
    symlink(outside.join("no_such_dir"), root.join("dangling_dir")).unwrap();
    std::fs::create_dir(root.join("sub")).unwrap();
    symlink(outside, root.join("sub/escape")).unwrap();
    std::fs::write(root.join("existing.mp4"), b"an earlier recording").unwrap();
    std::fs::write(root.join("plain_file"), b"not a directory").unwrap();
    let outside_before = snapshot(outside);
    let root_before = snapshot(&root);

    let cases = [
        ("to-dir", "to_dir/x.mp4", "\"to_dir\" is a symbolic link"),
        (
            "to-dir-deep",
            "to_dir/a/b/x.mp4",
            "\"to_dir\" is a symbolic link",
        ),
        (
            "dangling-dir",
            "dangling_dir/x.mp4",
            "\"dangling_dir\" is a symbolic link",
        ),
        (
            "nested",
            "sub/escape/x.mp4",
            "\"escape\" is a symbolic link",
        ),
        (
            "through-file",
            "plain_file/x.mp4",
            "\"plain_file\" is not a directory",
        ),
    ];
    for (id, path, says) in cases {
        let e = create(&mut c, id, path).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{path}: {e:?}");
        assert!(e.message().starts_with(FIELD), "{path}: {e:?}");
        assert!(e.message().contains(says), "{path}: {e:?}");
        let e = c
            .get_cloud_mixer(GetCloudMixerRequest {
                mixer_id: id.into(),
            })
            .await
            .unwrap_err();
        assert_eq!(
            e.code(),
            Code::NotFound,
            "a refused Create leaves no mixer: {e:?}"
        );
    }
    // A name that exists (a file, a symlink to one, a dangling symlink) is never replaced.
    for (id, path) in [
        ("existing", "existing.mp4"),
        ("to-file", "to_file.mp4"),
        ("dangling", "dangling.mp4"),
    ] {
        let e = create(&mut c, id, path).await.unwrap_err();
        assert_eq!(e.code(), Code::AlreadyExists, "{path}: {e:?}");
        assert!(e.message().starts_with(FIELD), "{path}: {e:?}");
    }

    // A real directory next to the traps works, and the file has content.
    create(&mut c, "good", "real/dir/good.mp4")
        .await
        .expect("a real path");
    destroy_finalized(&mut c, "good").await;
    let probe = common::media::probe(&root.join("real/dir/good.mp4"));
    assert_eq!(probe.of_kind("video").len(), 1, "{probe:?}");

    assert_eq!(
        snapshot(outside),
        outside_before,
        "nothing changed outside the root"
    );
    let mut root_after = snapshot(&root);
    assert!(root_after.remove(&root.join("real/dir/good.mp4")).is_some());
    // The daemon's own state (the recordings catalog, the journal) changes by design.
    let state = root.join(".cloudmixer");
    root_after.retain(|p, _| !p.starts_with(&state));
    let root_before: BTreeMap<_, _> = root_before
        .into_iter()
        .filter(|(p, _)| !p.starts_with(&state))
        .collect();
    assert_eq!(
        root_after, root_before,
        "no existing file or link in the root was touched"
    );
}

/// Swaps `root/swap` between a real directory and a symlink to `outside` as fast as it
/// can until `stop`; real directories are renamed aside (`kept-N`) with what the daemon
/// put in them. Returns the number of swaps.
fn swapper(root: PathBuf, outside: PathBuf, stop: Arc<AtomicBool>) -> u64 {
    let swap = root.join("swap");
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        let _ = std::fs::create_dir(&swap);
        std::thread::yield_now();
        let _ = std::fs::rename(&swap, root.join(format!("kept-{n}")));
        let _ = symlink(&outside, &swap);
        std::thread::yield_now();
        let _ = std::fs::remove_file(&swap);
        n += 1;
    }
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn symlink_swapped_in_a_loop_during_creates_never_escapes() {
    let d = Daemon::start();
    let mut c = d.client().await;
    let root = d.recordings();
    let outside_tmp = tempfile::tempdir().unwrap();
    let outside = outside_tmp.path().to_path_buf();
    std::fs::write(outside.join("victim.mp4"), b"precious").unwrap();
    let outside_before = snapshot(&outside);

    let stop = Arc::new(AtomicBool::new(false));
    let t = {
        let (root, outside, stop) = (root.clone(), outside.clone(), stop.clone());
        std::thread::spawn(move || swapper(root, outside, stop))
    };
    // Creates until both outcomes were seen (the race was really run both ways), bounded.
    let deadline = Instant::now() + Duration::from_secs(120);
    let (mut created, mut refused) = (Vec::new(), 0u32);
    let mut i = 0;
    while (created.is_empty() || refused == 0 || i < 20) && Instant::now() < deadline && i < 400 {
        let id = format!("m{i}");
        match create(&mut c, &id, &format!("swap/{id}.mp4")).await {
            Ok(()) => {
                destroy_finalized(&mut c, &id).await;
                created.push(id);
            }
            Err(e) => {
                assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
                assert!(e.message().starts_with(FIELD), "{e:?}");
                refused += 1;
            }
        }
        i += 1;
    }
    stop.store(true, Ordering::Relaxed);
    let swaps = t.join().expect("swapper");
    println!(
        "{i} creates: {} created, {refused} refused, {swaps} swaps",
        created.len()
    );
    assert!(
        !created.is_empty() && refused > 0,
        "both outcomes within the bound: {} created, {refused} refused",
        created.len()
    );

    assert_eq!(
        snapshot(&outside),
        outside_before,
        "nothing written outside the root"
    );
    // Every created file is inside the root, in one of the real directories.
    let inside = snapshot(&root);
    for id in &created {
        let name = format!("{id}.mp4");
        let found: Vec<_> = inside
            .iter()
            .filter(|(p, _)| p.file_name().is_some_and(|n| n == name.as_str()))
            .collect();
        assert_eq!(
            found.len(),
            1,
            "{name}: {:?}",
            found.iter().map(|f| f.0).collect::<Vec<_>>()
        );
        assert!(!found[0].1.is_empty(), "{name} has content");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_or_control_strings_are_refused_and_list_still_works() {
    let d = Daemon::start();
    let mut c = d.client().await;
    create(&mut c, "kept", "kept.mp4").await.expect("create");

    let huge = "x".repeat(5 << 20);
    let mut r = request("huge", "huge.mp4");
    r.oper_user_id = huge.clone();
    let e = c.create_cloud_mixer(r).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{}", e.code());
    assert!(
        e.message().starts_with("oper_user_id: at most 128 bytes"),
        "{}",
        &e.message()[..100.min(e.message().len())]
    );
    let e = c
        .destroy_cloud_mixer(DestroyCloudMixerRequest {
            mixer_id: "kept".into(),
            oper_user_id: huge.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(
        e.message().starts_with("oper_user_id: "),
        "{}",
        e.message().len()
    );
    let e = c
        .get_cloud_mixer(GetCloudMixerRequest {
            mixer_id: huge.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument);
    assert!(
        e.message().starts_with("mixer_id: ") && e.message().len() < 200,
        "{}",
        e.message().len()
    );

    let mut r = request("forged", "forged.mp4");
    r.oper_user_id = "eve\nFORGED log line".into();
    let e = c.create_cloud_mixer(r).await.unwrap_err();
    assert_eq!(e.code(), Code::InvalidArgument, "{e:?}");
    assert!(
        e.message().starts_with("oper_user_id: control characters"),
        "{e:?}"
    );
    for (id, path) in [("..", ""), (".", "")] {
        let e = create(&mut c, id, path).await.unwrap_err();
        assert_eq!(e.code(), Code::InvalidArgument, "{id}: {e:?}");
        assert!(e.message().starts_with("mixer_id: "), "{e:?}");
    }

    let list = c
        .list_cloud_mixers(ListCloudMixersRequest {})
        .await
        .expect("List still works")
        .into_inner();
    let ids: Vec<_> = list.mixers.iter().map(|m| m.mixer_id.as_str()).collect();
    assert_eq!(ids, ["kept"]);
    assert_eq!(list.mixers[0].oper_user_id, "e2e");
    destroy_finalized(&mut c, "kept").await;
    assert!(
        !d.log().contains("\nFORGED"),
        "no raw control character reached the log"
    );
}
