//! Where the built libraries and the scenario binary are.
//!
//! Never a compile-time absolute path: the libraries are looked up at run time, in
//! `$HANDOFF_LIB_DIR` when it is set, then next to the running executable
//! (`target/<profile>/deps/` for a test) and in its parent directory.

use std::path::{Path, PathBuf};

use super::{LAYER_LIB, MOCK_ICD_LIB, SCENARIO_BIN};

/// The directories searched, in order.
pub fn search_dirs() -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os("HANDOFF_LIB_DIR") {
        dirs.push(PathBuf::from(d));
    }
    if let Some(exe_dir) = exe_dir() {
        if let Some(parent) = exe_dir.parent() {
            dirs.push(exe_dir.clone());
            dirs.push(parent.to_path_buf());
        } else {
            dirs.push(exe_dir);
        }
    }
    dirs
}

fn exe_dir() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let exe = exe.canonicalize().unwrap_or(exe);
    exe.parent().map(Path::to_path_buf)
}

fn find(name: &str, dirs: &[PathBuf]) -> Option<PathBuf> {
    dirs.iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .map(|p| p.canonicalize().unwrap_or(p))
}

fn find_or_panic(name: &str, what: &str) -> PathBuf {
    let dirs = search_dirs();
    find(name, &dirs).unwrap_or_else(|| {
        panic!(
            "{what} ({name}) not found in {dirs:?}. Build it with `cargo test -p handoff-tests` \
             (which builds it as a dependency) or point HANDOFF_LIB_DIR at the directory holding it."
        )
    })
}

/// `libVkLayer_handoff.so`, absolute.
pub fn layer_library() -> PathBuf {
    find_or_panic(LAYER_LIB, "the Handoff layer library")
}

/// `libhandoff_mock_icd.so`, absolute.
pub fn mock_icd_library() -> PathBuf {
    find_or_panic(MOCK_ICD_LIB, "the mock ICD library")
}

/// The `handoff-scenario` binary: the test executable's directory's parent
/// (`target/<profile>/`), the directory itself, `$HANDOFF_LIB_DIR`, and last `fallback`
/// (a test passes `env!("CARGO_BIN_EXE_handoff-scenario")`).
pub fn scenario_binary(fallback: Option<&str>) -> PathBuf {
    let mut dirs = Vec::new();
    if let Some(exe_dir) = exe_dir() {
        if let Some(parent) = exe_dir.parent() {
            dirs.push(parent.to_path_buf());
        }
        dirs.push(exe_dir);
    }
    if let Some(d) = std::env::var_os("HANDOFF_LIB_DIR") {
        dirs.push(PathBuf::from(d));
    }
    if let Some(p) = find(SCENARIO_BIN, &dirs) {
        return p;
    }
    if let Some(f) = fallback {
        let p = PathBuf::from(f);
        if p.is_file() {
            return p;
        }
    }
    panic!("the {SCENARIO_BIN} binary was not found in {dirs:?} (nor at {fallback:?})")
}

/// Fails the test (never skips it) when the Vulkan loader cannot be loaded.
pub fn require_vulkan_loader() {
    // SAFETY: dlopen with a valid NUL-terminated name; the handle is closed right away and
    // nothing from the library is called.
    unsafe {
        let h = libc::dlopen(
            c"libvulkan.so.1".as_ptr(),
            libc::RTLD_NOW | libc::RTLD_LOCAL,
        );
        if h.is_null() {
            panic!(
                "libvulkan.so.1 (the Vulkan loader) cannot be loaded; install it with \
                 `apt-get install libvulkan1`"
            );
        }
        libc::dlclose(h);
    }
}
