//! Settings: duplicate_limit and message_id_filter, and each source (env, vk_layer_settings.txt,
//! VkLayerSettingsCreateInfoEXT) with its precedence.

mod common;
use common::*;

use std::path::Path;

/// 00671 fifteen times on one memory object.
fn repeated(d: Driver) -> Scenario {
    scenario("get-fd", d).args(["--export", "none", "--repeat", "15"])
}

fn write_settings_file(dir: &Path, text: &str) -> std::path::PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let p = dir.join("vk_layer_settings.txt");
    std::fs::write(&p, text).unwrap();
    p
}

on_both_drivers! {
    /// Default duplicate_limit: 10 reports of 15.
    fn duplicate_limit_default_is_10(d: Driver) {
        let out = repeated(d).run();
        out.assert_ids(&times(NOT_EXPORTED, 10));
        assert_eq!(out.results()["calls"].as_array().unwrap().len(), 15);
    }
}

on_both_drivers! {
    fn duplicate_limit_env_3(d: Driver) {
        let out = repeated(d).env("VK_HANDOFF_VALIDATION_DUPLICATE_LIMIT", "3").run();
        out.assert_ids(&times(NOT_EXPORTED, 3));
    }
}

on_both_drivers! {
    /// 0 means unlimited.
    fn duplicate_limit_zero_is_unlimited(d: Driver) {
        let out = repeated(d).env("VK_HANDOFF_VALIDATION_DUPLICATE_LIMIT", "0").run();
        out.assert_ids(&times(NOT_EXPORTED, 15));
    }
}

on_both_drivers! {
    fn message_id_filter_by_id(d: Driver) {
        let out = repeated(d).env("VK_HANDOFF_VALIDATION_MESSAGE_ID_FILTER", NOT_EXPORTED).run();
        out.assert_ids(&[]);
    }
}

on_both_drivers! {
    /// By number as the Khronos layer prints it ("MessageID = 0x…").
    fn message_id_filter_by_hex_number(d: Driver) {
        let n = format!("0x{:08x}", handoff_rules::id_number(NOT_EXPORTED) as u32);
        let out = repeated(d).env("VK_HANDOFF_VALIDATION_MESSAGE_ID_FILTER", &n).run();
        out.assert_ids(&[]);
    }
}

on_both_drivers! {
    /// By number as the app's callback receives it (messageIdNumber, a signed int32).
    fn message_id_filter_by_decimal_number(d: Driver) {
        let n = handoff_rules::id_number(NOT_EXPORTED).to_string();
        let out = repeated(d).env("VK_HANDOFF_VALIDATION_MESSAGE_ID_FILTER", &n).run();
        out.assert_ids(&[]);
    }
}

on_both_drivers! {
    /// A list: the filtered id is muted, the others still come.
    fn message_id_filter_list_mutes_only_listed(d: Driver) {
        let list = format!("{NOT_FD_TYPE},{NOT_EXPORTED}");
        let out = scenario("get-fd", d)
            .args(["--export", "opaque", "--leak"])
            .env("VK_HANDOFF_VALIDATION_MESSAGE_ID_FILTER", &list)
            .run();
        out.assert_ids(&[LEAK]);
    }
}

on_both_drivers! {
    /// vk_layer_settings.txt in the directory VK_LAYER_SETTINGS_PATH names.
    fn settings_file_via_path_dir(d: Driver) {
        let s = repeated(d);
        let dir = s.dir().join("settings");
        write_settings_file(&dir, "# Handoff\nhandoff_validation.duplicate_limit = 2\n");
        let out = s.env("VK_LAYER_SETTINGS_PATH", &dir).run();
        out.assert_ids(&times(NOT_EXPORTED, 2));
    }
}

on_both_drivers! {
    /// VK_LAYER_SETTINGS_PATH naming the file itself.
    fn settings_file_via_path_file(d: Driver) {
        let s = repeated(d);
        let file = write_settings_file(&s.dir().join("settings"), "handoff_validation.duplicate_limit = 2\n");
        let out = s.env("VK_LAYER_SETTINGS_PATH", &file).run();
        out.assert_ids(&times(NOT_EXPORTED, 2));
    }
}

on_both_drivers! {
    /// No VK_LAYER_SETTINGS_PATH: vk_layer_settings.txt in the working directory.
    fn settings_file_in_working_directory(d: Driver) {
        let s = repeated(d);
        write_settings_file(&s.dir().join("cwd"), "handoff_validation.duplicate_limit = 2\n");
        let out = s.run();
        out.assert_ids(&times(NOT_EXPORTED, 2));
    }
}

on_both_drivers! {
    /// Last: $XDG_DATA_HOME/vulkan/settings.d/vk_layer_settings.txt.
    fn settings_file_in_xdg_data_home(d: Driver) {
        let s = repeated(d);
        write_settings_file(&s.dir().join("data/vulkan/settings.d"), "handoff_validation.duplicate_limit = 2\n");
        let out = s.run();
        out.assert_ids(&times(NOT_EXPORTED, 2));
    }
}

on_both_drivers! {
    /// VkLayerSettingsCreateInfoEXT chained on VkInstanceCreateInfo (VK_EXT_layer_settings
    /// enabled, which the layer provides).
    fn settings_from_create_info(d: Driver) {
        let out = with_create_info_settings(repeated(d), &["duplicate_limit=int:2"]).run();
        out.assert_ids(&times(NOT_EXPORTED, 2));
    }
}

on_both_drivers! {
    /// A list and a bool through VkLayerSettingsCreateInfoEXT: message_id_filter as strings,
    /// forward_invalid_calls=false (the default, spelled out).
    fn settings_from_create_info_list(d: Driver) {
        let filter = format!("message_id_filter=list:{NOT_FD_TYPE},{NOT_EXPORTED}");
        let out = with_create_info_settings(repeated(d), &[&filter, "forward_invalid_calls=bool:false"]).run();
        out.assert_ids(&[]);
    }
}

on_both_drivers! {
    /// env (2) > file (4) > create info (6).
    fn env_beats_file_beats_create_info(d: Driver) {
        let s = repeated(d);
        let dir = s.dir().join("settings");
        write_settings_file(&dir, "handoff_validation.duplicate_limit = 4\n");
        let s = s
            .env("VK_LAYER_SETTINGS_PATH", &dir)
            .env("VK_HANDOFF_VALIDATION_DUPLICATE_LIMIT", "2");
        let out = with_create_info_settings(s, &["duplicate_limit=int:6"]).run();
        out.assert_ids(&times(NOT_EXPORTED, 2));
    }
}

on_both_drivers! {
    /// file (4) > create info (6).
    fn file_beats_create_info(d: Driver) {
        let s = repeated(d);
        let dir = s.dir().join("settings");
        write_settings_file(&dir, "handoff_validation.duplicate_limit = 4\n");
        let s = s.env("VK_LAYER_SETTINGS_PATH", &dir);
        let out = with_create_info_settings(s, &["duplicate_limit=int:6"]).run();
        out.assert_ids(&times(NOT_EXPORTED, 4));
    }
}

on_both_drivers! {
    /// Only the exact upper-case env form is read: the shortened VK_HANDOFF_DUPLICATE_LIMIT
    /// that other layers accept is ignored (DESIGN.md "Settings").
    fn shortened_env_form_is_ignored(d: Driver) {
        let out = repeated(d).env("VK_HANDOFF_DUPLICATE_LIMIT", "2").run();
        out.assert_ids(&times(NOT_EXPORTED, 10));
    }
}

on_both_drivers! {
    /// The limit counts per (id, first object): two memory objects with 5 calls each and
    /// duplicate_limit=3 give 3 reports naming each.
    fn duplicate_limit_counts_per_object(d: Driver) {
        let out = scenario("get-fd", d)
            .args(["--count", "2", "--repeat", "5"])
            .env("VK_HANDOFF_VALIDATION_DUPLICATE_LIMIT", "3")
            .run();
        out.assert_ids(&times(NOT_EXPORTED, 6));
        let memories = out.results()["memories"].as_array().unwrap();
        assert_eq!(memories.len(), 2);
        for m in memories {
            let m = m.as_str().unwrap();
            let n = out.with_id(NOT_EXPORTED).iter().filter(|f| f.objects[0].handle == m).count();
            assert_eq!(n, 3, "reports naming {m} first\n{}", out.context());
        }
    }
}

/// A valid export with a messenger chained on VkInstanceCreateInfo, so that only findings
/// about the settings themselves come.
fn settings_check(d: Driver) -> Scenario {
    scenario("get-fd", d).args(["--export", "opaque", "--chain-messenger"])
}

#[track_caller]
fn assert_settings_invalid_naming(out: &Outcome, key: &str) {
    out.assert_ids(&[SETTINGS_INVALID]);
    let f = out.with_id(SETTINGS_INVALID);
    assert!(
        f[0].message.to_lowercase().contains(key),
        "the message names {key}\n{}",
        out.context()
    );
    assert_eq!(
        f[0].via,
        "create_info",
        "raised during vkCreateInstance\n{}",
        out.context()
    );
}

on_both_drivers! {
    /// An unknown key in vk_layer_settings.txt is reported by name; other layers' keys in
    /// the same file are none of Handoff's business.
    fn unknown_key_in_file_is_reported(d: Driver) {
        let s = settings_check(d);
        let dir = s.dir().join("settings");
        write_settings_file(
            &dir,
            "khronos_validation.duplicate_message_limit = 1\nhandoff_validation.no_such_key = 1\n",
        );
        let out = s.env("VK_LAYER_SETTINGS_PATH", &dir).run();
        assert_settings_invalid_naming(&out, "no_such_key");
    }
}

on_both_drivers! {
    /// An unknown VK_HANDOFF_VALIDATION_* variable is reported by name.
    fn unknown_env_key_is_reported(d: Driver) {
        let out = settings_check(d).env("VK_HANDOFF_VALIDATION_NO_SUCH_KEY", "1").run();
        assert_settings_invalid_naming(&out, "no_such_key");
    }
}

on_both_drivers! {
    /// A bool that is not one; the message names the key and the default is kept (the
    /// freed handle is still blocked).
    fn bad_bool_is_reported_and_default_kept(d: Driver) {
        let out = scenario("get-fd", d)
            .args(["--export", "opaque", "--memory", "freed", "--chain-messenger"])
            .env("VK_HANDOFF_VALIDATION_FORWARD_INVALID_CALLS", "maybe")
            .run();
        out.assert_ids(&[MEMORY_UNKNOWN, SETTINGS_INVALID]);
        assert!(out.with_id(SETTINGS_INVALID)[0].message.contains("forward_invalid_calls"), "{}", out.context());
        assert_eq!(first_result(&out), VK_ERROR_VALIDATION_FAILED_EXT, "{}", out.context());
    }
}

on_both_drivers! {
    /// message_id_filter accepts a rule's older alias (HANDOFF-Leak-live-objects is also
    /// VUID-vkDestroyDevice-device-05137 in the catalogue).
    fn message_id_filter_by_alias(d: Driver) {
        let alias = handoff_rules::catalogue::LEAK_LIVE_OBJECTS.aliases[0];
        let out = scenario("get-fd", d)
            .args(["--export", "opaque", "--leak"])
            .env("VK_HANDOFF_VALIDATION_MESSAGE_ID_FILTER", alias)
            .run();
        out.assert_ids(&[]);
        let control = scenario("get-fd", d).args(["--export", "opaque", "--leak"]).run();
        control.assert_ids(&[LEAK]);
    }
}
