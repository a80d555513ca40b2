//! Creating an output file beneath the recordings root, through its directory handle,
//! following no symbolic link and never replacing anything.
//!
//! Given an open [`RecordingsRoot`] and a relative path `a/b/c.mp4`, each directory
//! component is created if missing (`mkdirat`) and then opened with
//! `O_DIRECTORY|O_NOFOLLOW` relative to the previous one (`cap_primitives`'
//! `open_dir_nofollow`), and the file is created with `O_CREAT|O_EXCL` relative to the
//! last directory (`O_EXCL` also refuses a symlink, dangling or not, in the file's
//! place). Every lookup is of one name beneath an already-open directory, so no
//! component is resolved through a symlink and nothing outside the root is reached,
//! whatever the file system holds or however it changes meanwhile: a symlink swapped
//! in between two steps makes the next step fail (ELOOP / EEXIST) instead of being
//! followed. "Never overwrite" is the `O_EXCL` open itself, not an earlier check.
//!
//! Errors are [`MixerError::Output`]: a component that is a symlink or a file, a file
//! name that exists, or a directory that keeps vanishing while it is created, is `BadPath` (INVALID_ARGUMENT naming
//! `video_file_cfg.svr_path_name`); other I/O errors by their kind
//! ([`OutputCause::from_io_kind`]).

use std::fs::File;
use std::io;
use std::path::{Component, Path};

use cap_primitives::fs::{DirOptions, FollowSymlinks, OpenOptions};

use crate::model::{MixerError, OutputCause, RecordingsRoot};

// Linux errno values (the daemon runs on Linux: see also `media/mux.rs`).
const ELOOP: i32 = 40;
const ENOTDIR: i32 = 20;
const EEXIST: i32 = 17;

/// Creates the new, empty file `rel` (relative, only normal components) beneath `root`,
/// creating missing parent directories; returns it open for writing. `name` is the
/// output's name in errors (its `svr_path_name`). Errors: see the module docs.
pub fn create_new(root: &RecordingsRoot, rel: &Path, name: &str) -> Result<File, MixerError> {
    let bad = |msg: String| MixerError::output(name, OutputCause::BadPath, msg);
    let mut parts = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(p) => parts.push(Path::new(p)),
            _ => {
                return Err(bad(format!(
                    "{rel:?} must stay beneath the recordings root"
                )))
            }
        }
    }
    let Some((file_name, dirs)) = parts.split_last() else {
        return Err(bad("empty file name".into()));
    };
    let mut cur = root
        .dir()
        .try_clone()
        .map_err(|e| MixerError::from_io(name, &e))?
        .into_std_file();
    for d in dirs {
        cur = open_or_create_dir(&cur, d).map_err(|e| component_error(name, &cur, d, &e))?;
    }
    let mut opts = OpenOptions::new();
    opts.write(true).create_new(true);
    cap_primitives::fs::open(&cur, file_name, &opts).map_err(|e| {
        if e.raw_os_error() == Some(EEXIST) {
            bad(format!(
                "{file_name:?} already exists (a file, directory or symbolic link); \
                 recordings are not overwritten"
            ))
        } else {
            component_error(name, &cur, file_name, &e)
        }
    })
}

/// Directory `d` of `dir`, created if missing, opened without following a symlink.
/// A directory that vanishes between the two steps (the root is being changed
/// concurrently) is tried again, [`MAX_ATTEMPTS`] times in all.
fn open_or_create_dir(dir: &File, d: &Path) -> io::Result<File> {
    let mut attempt = 1;
    loop {
        match cap_primitives::fs::create_dir(dir, d, &DirOptions::new()) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        match cap_primitives::fs::open_dir_nofollow(dir, d) {
            Err(e) if e.kind() == io::ErrorKind::NotFound && attempt < MAX_ATTEMPTS => {
                attempt += 1;
            }
            r => return r,
        }
    }
}

/// Attempts to create-and-open one directory component that keeps vanishing.
const MAX_ATTEMPTS: u32 = 3;

/// The error of looking up or creating component `c` in directory `dir`: a symlink or a
/// non-directory in the way is `BadPath`, said precisely when a fresh `lstat` tells.
fn component_error(name: &str, dir: &File, c: &Path, e: &io::Error) -> MixerError {
    match e.raw_os_error() {
        Some(ELOOP) | Some(ENOTDIR) | Some(EEXIST) => {
            let what = match cap_primitives::fs::stat(dir, c, FollowSymlinks::No) {
                Ok(m) if m.file_type().is_symlink() => "a symbolic link (not followed)",
                Ok(m) if !m.is_dir() => "not a directory",
                _ => "a symbolic link or not a directory",
            };
            MixerError::output(name, OutputCause::BadPath, format!("{c:?} is {what}"))
        }
        _ if e.kind() == io::ErrorKind::NotFound => MixerError::output(
            name,
            OutputCause::BadPath,
            format!("{c:?} kept vanishing while it was created (the directory is being changed)"),
        ),
        _ => MixerError::from_io(name, e),
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;
    use crate::model::ErrorCode;

    struct Fixture {
        _tmp: tempfile::TempDir,
        root_path: std::path::PathBuf,
        outside: std::path::PathBuf,
        root: RecordingsRoot,
    }

    fn fixture() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let root_path = tmp.path().join("root");
        let outside = tmp.path().join("outside");
        std::fs::create_dir(&root_path).unwrap();
        std::fs::create_dir(&outside).unwrap();
        let root = RecordingsRoot::open(&root_path).unwrap();
        Fixture {
            _tmp: tmp,
            root_path,
            outside,
            root,
        }
    }

    #[track_caller]
    fn refused(f: &Fixture, rel: &str, says: &str) {
        let e = create_new(&f.root, Path::new(rel), rel).expect_err(rel);
        assert_eq!(e.code(), ErrorCode::InvalidArgument, "{rel}: {e}");
        assert!(e.to_string().contains(says), "{rel}: {e}");
    }

    #[test]
    fn creates_parents_and_the_file_beneath_the_root() {
        let f = fixture();
        use std::io::Write;
        let mut file = create_new(&f.root, Path::new("a/b/c.mp4"), "a/b/c.mp4").unwrap();
        file.write_all(b"data").unwrap();
        assert_eq!(
            std::fs::read(f.root_path.join("a/b/c.mp4")).unwrap(),
            b"data"
        );
        // Never overwritten: the second create-new of the same name is refused.
        refused(&f, "a/b/c.mp4", "already exists");
        assert_eq!(
            std::fs::read(f.root_path.join("a/b/c.mp4")).unwrap(),
            b"data"
        );
    }

    #[test]
    fn symlinks_and_files_in_the_way_are_refused_and_nothing_is_written_outside() {
        let f = fixture();
        std::fs::write(f.outside.join("victim.mp4"), b"precious").unwrap();
        symlink(&f.outside, f.root_path.join("to_dir")).unwrap();
        symlink(
            f.outside.join("victim.mp4"),
            f.root_path.join("to_file.mp4"),
        )
        .unwrap();
        symlink(f.outside.join("new.mp4"), f.root_path.join("dangling.mp4")).unwrap();
        symlink(f.outside.join("gone"), f.root_path.join("dangling_dir")).unwrap();
        std::fs::create_dir(f.root_path.join("sub")).unwrap();
        symlink("..", f.root_path.join("sub/up")).unwrap();
        std::fs::write(f.root_path.join("file.mp4"), b"x").unwrap();

        refused(
            &f,
            "to_dir/x.mp4",
            "\"to_dir\" is a symbolic link (not followed)",
        );
        refused(&f, "to_dir/deeper/x.mp4", "\"to_dir\" is a symbolic link");
        refused(&f, "to_file.mp4", "already exists");
        refused(&f, "dangling.mp4", "already exists");
        refused(
            &f,
            "dangling_dir/x.mp4",
            "\"dangling_dir\" is a symbolic link",
        );
        // A symlink that stays inside the root is not followed either.
        refused(&f, "sub/up/x.mp4", "\"up\" is a symbolic link");
        refused(&f, "file.mp4/x.mp4", "\"file.mp4\" is not a directory");
        refused(
            &f,
            "../outside/x.mp4",
            "must stay beneath the recordings root",
        );

        let outside: Vec<_> = std::fs::read_dir(&f.outside)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(outside, vec!["victim.mp4"]);
        assert_eq!(
            std::fs::read(f.outside.join("victim.mp4")).unwrap(),
            b"precious"
        );
        assert!(!f.root_path.join("x.mp4").exists());
    }
}
