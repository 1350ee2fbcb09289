//! `handoff install`: what it writes makes the layer load by `VK_INSTANCE_LAYERS` alone, and
//! it never silently replaces a manifest that loads another build.
//!
//! `handoff` is the binary of handoff-cli: build it first
//! (`cargo build --release -p handoff-cli`); the test looks for it where the harness looks
//! for the libraries (`$HANDOFF_LIB_DIR`, next to the test executable, its parent), so the
//! test also runs from a copied folder such as `.dev/`.

mod common;
use common::*;
use handoff_tests::harness::paths::search_dirs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `handoff` in the first of the harness's search directories that holds it.
fn handoff_binary() -> PathBuf {
    let dirs = search_dirs();
    dirs.iter()
        .map(|d| d.join("handoff"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| {
            panic!(
                "handoff is missing from {dirs:?}: build it first (cargo build --release -p \
                 handoff-cli) or point HANDOFF_LIB_DIR at the folder holding it"
            )
        })
}

/// Runs `handoff install ARGS` with `data` as `$XDG_DATA_HOME` and nothing else of the
/// user's Vulkan environment.
fn install(data: &Path, args: &[&str]) -> Output {
    let mut cmd = Command::new(handoff_binary());
    cmd.arg("install").args(args);
    for (k, _) in std::env::vars_os() {
        if k.to_str().is_some_and(|k| {
            k.starts_with("VK_") || k.starts_with("XDG_") || k == "HANDOFF_LIB_DIR"
        }) {
            cmd.env_remove(&k);
        }
    }
    cmd.env("XDG_DATA_HOME", data)
        .env("HOME", data.join("no-home"))
        .output()
        .expect("run handoff install")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn manifest(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("manifest written"))
        .expect("manifest is JSON")
}

on_both_drivers! {
    /// `install --user` under a temporary XDG_DATA_HOME: the scenario then runs with no
    /// VK_ADD_LAYER_PATH, only VK_INSTANCE_LAYERS, and the layer catches the bug.
    fn install_user_makes_the_layer_load_by_name(d: Driver) {
        // Control: the name alone enables nothing before the install.
        let out = scenario("get-fd", d)
            .layer(Layer::Off)
            .env("VK_INSTANCE_LAYERS", "VK_LAYER_HANDOFF_validation")
            .run();
        out.assert_ids(&[]);

        let s = scenario("get-fd", d)
            .layer(Layer::Off)
            .env("VK_INSTANCE_LAYERS", "VK_LAYER_HANDOFF_validation");
        // The harness points the child's XDG_DATA_HOME here.
        let data = s.dir().join("data");
        let o = install(&data, &["--user"]);
        let stdout = text(&o.stdout);
        assert!(o.status.success(), "{stdout}{}", text(&o.stderr));
        let path = data.join("vulkan/explicit_layer.d/VkLayer_handoff.json");
        assert!(stdout.contains(&format!("wrote {}", path.display())), "{stdout}");
        assert!(stdout.contains("VK_INSTANCE_LAYERS=VK_LAYER_HANDOFF_validation"), "{stdout}");
        let m = manifest(&path);
        let lib = m["layer"]["library_path"].as_str().unwrap();
        assert!(Path::new(lib).is_absolute() && Path::new(lib).is_file(), "{lib}");
        assert!(m["layer"]["features"]["settings"].as_array().is_some_and(|s| !s.is_empty()));

        let out = s.run();
        out.assert_ids(&[NOT_EXPORTED]);
    }
}

on_both_drivers! {
    /// `install --implicit --user`: enabled by HANDOFF_ENABLE=1 alone.
    fn install_implicit_is_enabled_by_handoff_enable(d: Driver) {
        let s = scenario("get-fd", d).layer(Layer::Off).env("HANDOFF_ENABLE", "1");
        let data = s.dir().join("data");
        let o = install(&data, &["--implicit", "--user"]);
        let stdout = text(&o.stdout);
        assert!(o.status.success(), "{stdout}{}", text(&o.stderr));
        assert!(stdout.contains("HANDOFF_ENABLE=1"), "{stdout}");
        assert!(data.join("vulkan/implicit_layer.d/VkLayer_handoff_implicit.json").is_file());
        s.run().assert_ids(&[NOT_EXPORTED]);
    }
}

/// A manifest at the install path that loads another library is kept unless `--force`;
/// installing over our own manifest again is fine.
#[test]
fn install_refuses_a_foreign_manifest_without_force() {
    let dir = std::env::temp_dir().join(format!("handoff-install-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("vulkan/explicit_layer.d/VkLayer_handoff.json");

    assert!(install(&dir, &["--user"]).status.success());
    let ours = std::fs::read_to_string(&path).unwrap();
    let again = install(&dir, &["--user"]);
    assert!(again.status.success(), "{}", text(&again.stderr));

    let mut foreign = manifest(&path);
    foreign["layer"]["library_path"] = "/elsewhere/libVkLayer_handoff.so".into();
    let foreign = serde_json::to_string_pretty(&foreign).unwrap();
    std::fs::write(&path, &foreign).unwrap();

    let refused = install(&dir, &["--user"]);
    let stderr = text(&refused.stderr);
    assert_eq!(refused.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("/elsewhere/libVkLayer_handoff.so") && stderr.contains("--force"),
        "{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        foreign,
        "the manifest was replaced"
    );

    let forced = install(&dir, &["--user", "--force"]);
    assert!(forced.status.success(), "{}", text(&forced.stderr));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), ours);

    let both = install(&dir, &["--user", "--system"]);
    assert_eq!(both.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}
