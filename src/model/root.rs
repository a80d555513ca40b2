//! [`RecordingsRoot`]: the directory every output file is created beneath, held open as
//! a `cap_std::fs::Dir` capability.
//!
//! The daemon (`serve`) and `compose` open it once at start, the only place ambient
//! authority is used for outputs; afterwards files are created *through the handle*
//! (`output/confined.rs`), never by path, so a symlink or a renamed directory inside the
//! root cannot redirect a write outside it. The path is kept for display
//! (`OutputInfo.abs_path`) and for the lexical checks of validation.

use std::fmt;
use std::io;
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use cap_std::fs::Dir;

/// An open recordings root: its absolute path and the directory handle. Cheap to clone
/// (clones share the handle). Dereferences to its path, so path-only code
/// (`root.join(..)`, `root.display()`) reads as before.
#[derive(Clone)]
pub struct RecordingsRoot {
    path: PathBuf,
    dir: Arc<Dir>,
}

impl RecordingsRoot {
    /// Opens the existing directory `path` (should be absolute: it is what `abs_path`s
    /// are reported under). Uses the process' ambient authority: call it at start-up
    /// only. Errors: the directory cannot be opened (missing, not a directory,
    /// permissions).
    pub fn open(path: &Path) -> io::Result<Self> {
        let dir = Dir::open_ambient_dir(path, cap_std::ambient_authority())?;
        Ok(Self {
            path: path.to_owned(),
            dir: Arc::new(dir),
        })
    }

    /// A root of an already open `dir`, reported under `path` (e.g. a test's fixed
    /// path for a temporary directory). Uses no ambient authority.
    pub fn from_dir(dir: Dir, path: PathBuf) -> Self {
        Self {
            path,
            dir: Arc::new(dir),
        }
    }

    /// The root's path as given to [`open`](Self::open).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether anything (file, directory, symlink, even dangling) is at `abs`, an
    /// absolute path beneath the root: an `lstat` through the handle that cannot leave
    /// the root (a path through a symlink leading outside counts as nothing there).
    /// A friendly early answer only; the exclusive create is what never overwrites.
    pub fn holds(&self, abs: &Path) -> bool {
        abs.strip_prefix(&self.path)
            .is_ok_and(|rel| self.dir.symlink_metadata(rel).is_ok())
    }

    /// The directory handle everything beneath the root is opened through.
    pub fn dir(&self) -> &Dir {
        &self.dir
    }
}

impl Deref for RecordingsRoot {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for RecordingsRoot {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl fmt::Debug for RecordingsRoot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("RecordingsRoot").field(&self.path).finish()
    }
}

/// Two roots are equal when they were opened at the same path (specs compare by value;
/// the handle is a capability, not part of the value).
impl PartialEq for RecordingsRoot {
    fn eq(&self, other: &Self) -> bool {
        self.path == other.path
    }
}

impl Eq for RecordingsRoot {}
