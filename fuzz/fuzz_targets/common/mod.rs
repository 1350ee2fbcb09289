//! What the targets that go through the loader share: finding the instrumented layer and
//! mock ICD, pointing the loader at them, one runner per process, and the expected outcome.

use std::path::{Path, PathBuf};

use handoff_tests::app::args::Args;
use handoff_tests::app::ctx::InstanceOpts;
use handoff_tests::app::hostile::{Case, CaseOutcome, Runner};
use handoff_tests::harness::manifest;

const MALFORMED: &str = "HANDOFF-Chain-malformed";

/// Where the layer and the mock ICD are: `$HANDOFF_LIB_DIR`, else next to the fuzzer
/// (`cargo fuzz build` puts the instrumented libraries in `deps/`).
fn lib_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("HANDOFF_LIB_DIR")
        .map(PathBuf::from)
        .into_iter()
        .collect();
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        dirs.push(exe_dir.join("deps"));
        dirs.push(exe_dir);
    }
    dirs
}

fn library(name: &str) -> PathBuf {
    let dirs = lib_dirs();
    dirs.iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} not found in {dirs:?}; set HANDOFF_LIB_DIR"))
}

/// Points the loader at the layer and the mock ICD (`profile`) through manifests in a
/// private directory; runs before the first instance.
fn setup_env(profile: &str) {
    let dir = std::env::temp_dir().join(format!("handoff-fuzz-{}", std::process::id()));
    let icd = manifest::write(
        &dir.join("icd"),
        "handoff_mock_icd.json",
        &manifest::mock_icd(&library("libhandoff_mock_icd.so")),
    );
    manifest::write(
        &dir.join("layer"),
        "VkLayer_handoff.json",
        &manifest::explicit_layer(&library("libVkLayer_handoff.so")),
    );
    let set = |k: &str, v: &std::ffi::OsStr| std::env::set_var(k, v);
    set("VK_DRIVER_FILES", icd.as_os_str());
    set("VK_ICD_FILENAMES", icd.as_os_str());
    set("VK_ADD_LAYER_PATH", dir.join("layer").as_os_str());
    set("VK_INSTANCE_LAYERS", "VK_LAYER_HANDOFF_validation".as_ref());
    set("HANDOFF_MOCK_PROFILE", profile.as_ref());
    // Every case reports against the same device: no muting after the tenth.
    set("VK_HANDOFF_VALIDATION_DUPLICATE_LIMIT", "0".as_ref());
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        set("XDG_RUNTIME_DIR", "/tmp".as_ref());
    }
}

/// The runner of this process, set up on first use with the mock's `profile` (a process
/// runs one target, so the profile of the first call stays).
pub fn with_runner<R>(profile: &str, f: impl FnOnce(&Runner) -> R) -> R {
    thread_local! {
        static RUNNER: std::cell::OnceCell<Runner> = const { std::cell::OnceCell::new() };
    }
    RUNNER.with(|cell| {
        let runner = cell.get_or_init(|| {
            setup_env(profile);
            Runner::new(&InstanceOpts::from_args(&Args::new(Vec::new())))
                .unwrap_or_else(|e| panic!("cannot set up the instance: {e}"))
        });
        f(runner)
    })
}

/// The layer's answer for `case`, as `tests/tests/chains.rs` expects it.
pub fn check(case: &Case, out: &CaseOutcome) {
    let want = vec![MALFORMED; case.malformed_reports()];
    assert_eq!(out.ids, want, "case {case:?}: {out:?}");
}

/// Runs every case `decode` takes from `data`, checking each.
pub fn run_all(profile: &str, data: &[u8], decode: impl Fn(&mut &[u8]) -> Option<Case>) {
    let mut rest = data;
    with_runner(profile, |runner| {
        while let Some(case) = decode(&mut rest) {
            let out = runner.run(&case);
            check(&case, &out);
        }
    });
}
