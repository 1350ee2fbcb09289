//! The harness itself: the child's environment, the timeout, where things are found.

mod common;
use common::*;

use std::collections::BTreeSet;

on_both_drivers! {
    /// The child sees exactly the loader variables the harness sets, a private HOME and
    /// XDG_DATA_HOME, and runs in the scenario's own directory.
    fn child_environment_is_clean(d: Driver) {
        let out = scenario("env", d).run();
        let vars = out.results()["vars"].as_object().unwrap();
        let vk: BTreeSet<&str> = vars.keys().map(String::as_str).filter(|k| k.starts_with("VK_")).collect();
        let want: BTreeSet<&str> =
            ["VK_ADD_LAYER_PATH", "VK_DRIVER_FILES", "VK_ICD_FILENAMES", "VK_INSTANCE_LAYERS"].into();
        assert_eq!(vk, want, "{}", out.context());
        assert_eq!(vars["VK_INSTANCE_LAYERS"], "VK_LAYER_HANDOFF_validation");
        assert_eq!(vars["VK_DRIVER_FILES"], vars["VK_ICD_FILENAMES"]);
        let handoff: Vec<&str> = vars.keys().map(String::as_str).filter(|k| k.starts_with("HANDOFF_")).collect();
        match d {
            Driver::Mock(p) => {
                assert_eq!(handoff, ["HANDOFF_MOCK_PROFILE"], "{}", out.context());
                assert_eq!(vars["HANDOFF_MOCK_PROFILE"], p);
                let manifest = std::fs::read_to_string(vars["VK_DRIVER_FILES"].as_str().unwrap()).unwrap();
                let m: serde_json::Value = serde_json::from_str(&manifest).unwrap();
                let lib = std::path::Path::new(m["ICD"]["library_path"].as_str().unwrap());
                assert!(lib.is_absolute() && lib.is_file(), "{manifest}");
            }
            Driver::Real => assert!(handoff.is_empty(), "{}", out.context()),
        }
        let dir = out.dir().to_str().unwrap().to_owned();
        for k in ["HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME"] {
            assert!(vars[k].as_str().unwrap().starts_with(&dir), "{k} = {}", vars[k]);
        }
        assert!(vars.contains_key("XDG_RUNTIME_DIR"));
        assert!(!vars.contains_key("RUST_LOG"));
        assert_eq!(out.result_str("cwd"), out.path("cwd").to_str().unwrap());
    }
}

#[test]
fn test_variables_win_and_layer_modes_differ() {
    let out = scenario("env", MOCK)
        .layer(Layer::Off)
        .env("VK_HANDOFF_VALIDATION_DUPLICATE_LIMIT", "3")
        .env("RUST_LOG", "handoff=debug")
        .run();
    let vars = out.results()["vars"].as_object().unwrap();
    assert_eq!(vars["VK_HANDOFF_VALIDATION_DUPLICATE_LIMIT"], "3");
    assert_eq!(vars["RUST_LOG"], "handoff=debug");
    assert!(!vars.contains_key("VK_ADD_LAYER_PATH"));
    assert!(!vars.contains_key("VK_INSTANCE_LAYERS"));

    let implicit = scenario("env", MOCK).layer(Layer::Implicit).run();
    let vars = implicit.results()["vars"].as_object().unwrap();
    assert!(!vars.contains_key("VK_INSTANCE_LAYERS"));
    let manifest = std::path::Path::new(vars["XDG_DATA_HOME"].as_str().unwrap())
        .join("vulkan/implicit_layer.d/VkLayer_handoff_implicit.json");
    let m: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
    assert_eq!(m["layer"]["enable_environment"]["HANDOFF_ENABLE"], "1");
    assert_eq!(m["layer"]["disable_environment"]["HANDOFF_DISABLE"], "1");
    assert!(std::path::Path::new(m["layer"]["library_path"].as_str().unwrap()).is_absolute());
}

#[test]
#[should_panic(expected = "timed out")]
fn a_hanging_scenario_is_killed() {
    scenario("sleep", MOCK)
        .layer(Layer::Off)
        .timeout(std::time::Duration::from_secs(1))
        .run();
}

#[test]
fn libraries_are_found_next_to_the_test() {
    let layer = handoff_tests::harness::paths::layer_library();
    let icd = handoff_tests::harness::paths::mock_icd_library();
    assert!(
        layer.is_absolute() && layer.is_file(),
        "{}",
        layer.display()
    );
    assert!(icd.is_absolute() && icd.is_file(), "{}", icd.display());
}
