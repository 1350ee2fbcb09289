//! Private temporary directories: mode 0700, unique per call, removed on drop.

use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A directory only this user can enter. Set `HANDOFF_KEEP_TEMP=1` to keep it for a post
/// mortem.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates a fresh directory under the system temporary directory. The name carries the
    /// pid, a per-process counter and the clock, and creation fails if it exists, so two
    /// tests (or two test processes) never share one.
    pub fn new(label: &str) -> TempDir {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let base = std::env::temp_dir();
        for _ in 0..100 {
            let n = COUNTER.fetch_add(1, Ordering::Relaxed);
            let nanos = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or(0);
            let path = base.join(format!(
                "handoff-{label}-{}-{n}-{nanos:08x}",
                std::process::id()
            ));
            match std::fs::DirBuilder::new().mode(0o700).create(&path) {
                Ok(()) => return TempDir { path },
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => panic!(
                    "cannot create a temporary directory {}: {e}",
                    path.display()
                ),
            }
        }
        panic!(
            "cannot find a free temporary directory name under {}",
            base.display()
        );
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Creates (mode 0700) and returns a subdirectory.
    pub fn subdir(&self, rel: &str) -> PathBuf {
        let p = self.path.join(rel);
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&p)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", p.display()));
        p
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if std::env::var_os("HANDOFF_KEEP_TEMP").is_none() {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}
