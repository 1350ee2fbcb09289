//! The layer under the real Vulkan loader: listed, enabled explicitly, enabled implicitly.

mod common;
use common::*;

fn our_layer(out: &Outcome) -> Option<serde_json::Value> {
    out.results()["layers"]
        .as_array()
        .unwrap_or_else(|| panic!("no layers\n{}", out.context()))
        .iter()
        .find(|l| l["name"] == "VK_LAYER_HANDOFF_validation")
        .cloned()
}

on_both_drivers! {
    /// VK_ADD_LAYER_PATH at the manifest directory: the loader lists the layer once, with a
    /// description, and the instance extensions of its manifest.
    fn layer_is_listed(d: Driver) {
        let out = scenario("layers", d).layer(Layer::Listed).run();
        let layers = out.results()["layers"].as_array().unwrap();
        let ours: Vec<_> = layers
            .iter()
            .filter(|l| l["name"] == "VK_LAYER_HANDOFF_validation")
            .collect();
        assert_eq!(ours.len(), 1, "{}", out.context());
        let desc = ours[0]["description"].as_str().unwrap();
        assert!(!desc.trim().is_empty(), "empty description\n{}", out.context());
        // "api_version": "1.3.239" in the manifest.
        assert_eq!(
            ours[0]["spec_version"].as_u64(),
            Some(u64::from(ash::vk::make_api_version(0, 1, 3, 239))),
            "{}",
            out.context()
        );
        assert_eq!(ours[0]["implementation_version"].as_u64(), Some(1), "{}", out.context());
        let mut exts: Vec<&str> = out.results()["layer_extensions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["name"].as_str().unwrap())
            .collect();
        exts.sort();
        assert_eq!(exts, ["VK_EXT_debug_utils", "VK_EXT_layer_settings"], "{}", out.context());
        out.assert_ids(&[]);
    }
}

on_both_drivers! {
    /// Control: without VK_ADD_LAYER_PATH nothing lists the layer.
    fn layer_is_not_listed_without_a_manifest(d: Driver) {
        let out = scenario("layers", d).layer(Layer::Off).run();
        assert!(our_layer(&out).is_none(), "{}", out.context());
    }
}

on_both_drivers! {
    /// The implicit manifest in $XDG_DATA_HOME/vulkan/implicit_layer.d with HANDOFF_ENABLE=1:
    /// the layer is active without VK_INSTANCE_LAYERS and catches the bug.
    fn implicit_layer_enabled_by_env(d: Driver) {
        let out = scenario("get-fd", d)
            .layer(Layer::Implicit)
            .env("HANDOFF_ENABLE", "1")
            .run();
        out.assert_ids(&[NOT_EXPORTED]);
    }
}

on_both_drivers! {
    /// The implicit manifest without HANDOFF_ENABLE: the layer stays off.
    fn implicit_layer_off_without_enable(d: Driver) {
        let out = scenario("get-fd", d).layer(Layer::Implicit).run();
        out.assert_ids(&[]);
        let listed = scenario("layers", d).layer(Layer::Implicit).run();
        assert!(our_layer(&listed).is_some(), "the implicit layer is listed\n{}", listed.context());
    }
}

on_both_drivers! {
    /// HANDOFF_DISABLE=1 wins over HANDOFF_ENABLE=1.
    fn implicit_layer_disable_wins(d: Driver) {
        let out = scenario("get-fd", d)
            .layer(Layer::Implicit)
            .env("HANDOFF_ENABLE", "1")
            .env("HANDOFF_DISABLE", "1")
            .run();
        out.assert_ids(&[]);
    }
}
