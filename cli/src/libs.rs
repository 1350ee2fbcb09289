//! Finding the layer and mock-ICD libraries that the manifests point at.
//!
//! Order: `$HANDOFF_LIB_DIR` if set; otherwise the newer of the copy next to the `handoff`
//! executable and the one in its `deps/` directory. `cargo build --release` of the workspace
//! puts the libraries next to `handoff`; `cargo build -p handoff-cli` leaves them in `deps/`
//! only, so the copy next to `handoff` can be an older build.

use crate::Failure;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The layer library (`[lib] name = "VkLayer_handoff"`).
pub const LAYER_LIBRARY: &str = "libVkLayer_handoff.so";
/// The mock ICD library.
pub const MOCK_ICD_LIBRARY: &str = "libhandoff_mock_icd.so";

/// The directories searched, in order, each with whether a hit there wins outright.
fn search_dirs() -> Vec<(PathBuf, bool)> {
    let mut dirs = Vec::new();
    if let Some(dir) = std::env::var_os("HANDOFF_LIB_DIR").filter(|d| !d.is_empty()) {
        dirs.push((PathBuf::from(dir), true));
    }
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(Path::to_path_buf))
    {
        dirs.push((exe_dir.join("deps"), false));
        dirs.push((exe_dir, false));
    }
    dirs
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// The absolute path of library `name`, or exit 2 with what to do.
pub fn locate(name: &str) -> Result<PathBuf, Failure> {
    let dirs = search_dirs();
    let mut best: Option<PathBuf> = None;
    for (dir, wins) in &dirs {
        let candidate = dir.join(name);
        if !candidate.is_file() {
            continue;
        }
        if *wins {
            best = Some(candidate);
            break;
        }
        // Between the exe directory and deps/, the newer build (ties go to deps/).
        let newer = match &best {
            None => true,
            Some(b) => modified(&candidate) > modified(b),
        };
        if newer {
            best = Some(candidate);
        }
    }
    match best {
        Some(path) => std::fs::canonicalize(&path)
            .map_err(|err| Failure::runtime(format!("cannot resolve {}: {err}", path.display()))),
        None => {
            let looked: Vec<String> = dirs.iter().map(|(d, _)| d.display().to_string()).collect();
            Err(Failure::setup(format!(
                "cannot find {name} (looked in {}); run `cargo build --release` first, \
                 or point HANDOFF_LIB_DIR at the directory that holds it",
                looked.join(", ")
            )))
        }
    }
}
