//! Resolution tests: every key through every source, precedence, and problem messages.

use std::collections::HashMap;
use std::ffi::{c_char, c_void, CString, OsString};
use std::path::{Path, PathBuf};

use ash::vk;
use handoff_rules::id_number;

use super::sources::settings_file_with;
use super::*;

/// A fresh directory under the system temp dir, unique per test and process.
pub(crate) fn scratch_dir(tag: &str) -> PathBuf {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let d = std::env::temp_dir().join(format!(
        "handoff-settings-{tag}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let m: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    move |k| m.get(k).cloned()
}

fn no_env(_: &str) -> Option<String> {
    None
}

fn api(key: &str, values: Vec<ApiValue>) -> ApiSetting {
    ApiSetting {
        key: key.to_owned(),
        values,
    }
}

fn s(v: &str) -> ApiValue {
    ApiValue::Str(v.to_owned())
}

const FILE: &str = "/etc/vk_layer_settings.txt";

fn from_file(text: &str) -> (Settings, Vec<Problem>) {
    load_with(&no_env, Some((Path::new(FILE), text)), &[])
}

fn private_dir(tag: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let d = scratch_dir(tag);
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
    d
}

#[test]
fn defaults_without_any_source() {
    let (st, problems) = load_with(&no_env, None, &[]);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(st, Settings::default());
    assert_eq!(st.duplicate_limit, 10);
    assert_eq!(
        st.debug_action,
        DebugAction {
            log: true,
            callback: true,
            brk: false,
            abort: false
        }
    );
    assert_eq!(st.peer, Peer::Unknown);
    assert!(!st.forward_invalid_calls && !st.best_practices);
    assert!(st.report_file.is_none() && st.log_file.is_none() && st.ledger_dir.is_none());
    assert!(st.message_id_filter.is_empty());
}

#[test]
fn table_matches_design_order_and_kinds() {
    let keys: Vec<_> = TABLE.iter().map(|s| (s.key, s.kind, s.default)).collect();
    assert_eq!(
        keys,
        [
            ("report_file", "path", "none"),
            ("log_file", "path", "stderr"),
            ("duplicate_limit", "int", "10"),
            ("message_id_filter", "list", "empty"),
            ("debug_action", "enum list", "log,callback"),
            ("forward_invalid_calls", "bool", "false"),
            ("peer", "enum", "unknown"),
            ("best_practices", "bool", "false"),
            ("ledger_dir", "path", "none"),
        ]
    );
    for spec in TABLE {
        assert!(!spec.label.is_empty() && !spec.accepted.is_empty() && !spec.meaning.is_empty());
    }
}

/// Every key set through the environment, to a non-default value.
#[test]
fn every_key_from_environment() {
    let ledger = private_dir("env-ledger");
    let ledger_s = ledger.to_str().unwrap().to_owned();
    let env = env_of(&[
        ("VK_HANDOFF_VALIDATION_REPORT_FILE", "/tmp/r.jsonl"),
        ("VK_HANDOFF_VALIDATION_LOG_FILE", "/tmp/l.txt"),
        ("VK_HANDOFF_VALIDATION_DUPLICATE_LIMIT", "0"),
        (
            "VK_HANDOFF_VALIDATION_MESSAGE_ID_FILTER",
            "HANDOFF-Chain-malformed,0x10",
        ),
        ("VK_HANDOFF_VALIDATION_DEBUG_ACTION", "break"),
        ("VK_HANDOFF_VALIDATION_FORWARD_INVALID_CALLS", "true"),
        ("VK_HANDOFF_VALIDATION_PEER", "other-api"),
        ("VK_HANDOFF_VALIDATION_BEST_PRACTICES", "1"),
        ("VK_HANDOFF_VALIDATION_LEDGER_DIR", &ledger_s),
    ]);
    let (st, problems) = load_with(&env, None, &[]);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(st.report_file, Some("/tmp/r.jsonl".into()));
    assert_eq!(st.log_file, Some("/tmp/l.txt".into()));
    assert_eq!(st.duplicate_limit, 0);
    assert!(st.message_id_filter.mutes("HANDOFF-Chain-malformed", 0));
    assert!(st.message_id_filter.mutes("x", 16));
    assert_eq!(
        st.debug_action,
        DebugAction {
            brk: true,
            ..DebugAction::NONE
        }
    );
    assert!(st.forward_invalid_calls);
    assert_eq!(st.peer, Peer::OtherApi);
    assert!(st.best_practices);
    assert_eq!(st.ledger_dir, Some(ledger.clone()));
    std::fs::remove_dir_all(ledger).unwrap();
}

#[test]
fn shortened_and_lower_case_env_names_are_not_read() {
    let env = env_of(&[
        ("VK_HANDOFF_DUPLICATE_LIMIT", "3"),
        ("HANDOFF_VALIDATION_DUPLICATE_LIMIT", "3"),
        ("VK_HANDOFF_VALIDATION_duplicate_limit", "3"),
    ]);
    let (st, problems) = load_with(&env, None, &[]);
    assert_eq!(st.duplicate_limit, 10);
    assert!(problems.is_empty());
}

#[test]
fn unknown_environment_variables_are_problems() {
    let env = env_of(&[
        ("VK_HANDOFF_VALIDATION_DUPLICATE_LIMT", "3"),
        ("VK_HANDOFF_VALIDATION_PEER", "vulkan"),
    ]);
    let names = [
        "VK_HANDOFF_VALIDATION_DUPLICATE_LIMT".to_owned(),
        "VK_HANDOFF_VALIDATION_PEER".to_owned(),
    ];
    let (st, problems) = super::sources::resolve(&env, &names, None, &[]);
    assert_eq!(st.peer, Peer::Vulkan);
    assert_eq!(problems.len(), 1, "{problems:?}");
    let p = &problems[0];
    assert_eq!(p.key, "DUPLICATE_LIMT");
    assert_eq!(p.value, "3");
    assert_eq!(p.source, Source::Environment);
    assert!(p.message.contains("VK_HANDOFF_VALIDATION_DUPLICATE_LIMT"));
    assert!(
        p.message.contains("duplicate_limit, message_id_filter"),
        "{}",
        p.message
    );
}

/// Every key set through the settings file, with comments, blank lines, other layers'
/// lines and odd spacing around.
#[test]
fn every_key_from_file() {
    let ledger = private_dir("file-ledger");
    let text = format!(
        "# Handoff settings\n\
         \n\
         khronos_validation.debug_action = VK_DBG_LAYER_ACTION_BREAK\n\
         handoff_validation.report_file = /var/tmp/report.jsonl\n\
         handoff_validation.log_file=/var/tmp/log.txt\n\
           handoff_validation.duplicate_limit =   25  \r\n\
         handoff_validation.message_id_filter = VUID-vkDestroyDevice-device-05137, -5\n\
         handoff_validation.debug_action = log, abort\n\
         handoff_validation.forward_invalid_calls = TRUE\n\
         handoff_validation.peer = vulkan\n\
         handoff_validation.best_practices = true\n\
         handoff_validation.ledger_dir = {}\n\
         # handoff_validation.bogus = 1\n",
        ledger.display()
    );
    let (st, problems) = from_file(&text);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(st.report_file, Some("/var/tmp/report.jsonl".into()));
    assert_eq!(st.log_file, Some("/var/tmp/log.txt".into()));
    assert_eq!(st.duplicate_limit, 25);
    let leak = "HANDOFF-Leak-live-objects";
    assert!(st.message_id_filter.mutes(leak, id_number(leak)));
    assert!(st.message_id_filter.mutes("z", -5));
    assert_eq!(
        st.debug_action,
        DebugAction {
            log: true,
            abort: true,
            ..DebugAction::NONE
        }
    );
    assert!(st.forward_invalid_calls);
    assert_eq!(st.peer, Peer::Vulkan);
    assert!(st.best_practices);
    assert_eq!(st.ledger_dir, Some(ledger.clone()));
    std::fs::remove_dir_all(ledger).unwrap();
}

#[test]
fn file_unknown_key_and_malformed_line() {
    let (st, problems) = from_file(
        "handoff_validation.duplicate_limt = 3\n\
         handoff_validation.peer\n\
         otherlayer.whatever = 1\n\
         handoff_validation.duplicate_limit = 4\n",
    );
    assert_eq!(st.duplicate_limit, 4);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert_eq!(problems[0].key, "duplicate_limt");
    assert_eq!(problems[0].source, Source::File);
    assert!(problems[0].message.contains(&format!("{FILE}:1")));
    assert!(problems[0].message.contains("known keys: report_file"));
    assert_eq!(problems[1].key, "peer");
    assert!(problems[1].message.contains(&format!("{FILE}:2")));
}

#[test]
fn file_last_line_wins() {
    let (st, problems) = from_file(
        "handoff_validation.duplicate_limit = 1\nhandoff_validation.duplicate_limit = 2\n",
    );
    assert!(problems.is_empty());
    assert_eq!(st.duplicate_limit, 2);
}

/// Every key set through VkLayerSettingsCreateInfoEXT values.
#[test]
fn every_key_from_create_info() {
    let ledger = private_dir("api-ledger");
    let n = id_number("HANDOFF-Chain-malformed");
    let settings = [
        api("report_file", vec![s("/r.jsonl")]),
        api("log_file", vec![s("/l.txt")]),
        api("duplicate_limit", vec![ApiValue::Int(3)]),
        api(
            "message_id_filter",
            vec![s("UNASSIGNED-x, VUID-y"), ApiValue::Int(n.into())],
        ),
        api("debug_action", vec![s("callback"), s("abort")]),
        api("forward_invalid_calls", vec![ApiValue::Bool(true)]),
        api("peer", vec![s("unknown")]),
        api("best_practices", vec![ApiValue::Int(1)]),
        api("ledger_dir", vec![s(ledger.to_str().unwrap())]),
    ];
    let (st, problems) = load_with(&no_env, None, &settings);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(st.report_file, Some("/r.jsonl".into()));
    assert_eq!(st.log_file, Some("/l.txt".into()));
    assert_eq!(st.duplicate_limit, 3);
    assert!(st.message_id_filter.mutes("UNASSIGNED-x", 0));
    assert!(st.message_id_filter.mutes("VUID-y", 0));
    assert!(st.message_id_filter.mutes("HANDOFF-Chain-malformed", n));
    assert_eq!(
        st.debug_action,
        DebugAction {
            callback: true,
            abort: true,
            ..DebugAction::NONE
        }
    );
    assert!(st.forward_invalid_calls);
    assert_eq!(st.peer, Peer::Unknown);
    assert!(st.best_practices);
    assert_eq!(st.ledger_dir, Some(ledger.clone()));
    std::fs::remove_dir_all(ledger).unwrap();
}

#[test]
fn create_info_unknown_key() {
    let (_, problems) = load_with(
        &no_env,
        None,
        &[api("duplicates", vec![ApiValue::Int(1), ApiValue::Int(2)])],
    );
    assert_eq!(problems.len(), 1);
    assert_eq!(problems[0].source, Source::CreateInfo);
    assert_eq!(problems[0].value, "1,2");
    assert!(problems[0].message.contains("VkLayerSettingsCreateInfoEXT"));
    assert!(problems[0].message.contains("ledger_dir"));
}

#[test]
fn precedence_env_over_file_over_create_info() {
    let env = env_of(&[("VK_HANDOFF_VALIDATION_DUPLICATE_LIMIT", "1")]);
    let file = "handoff_validation.duplicate_limit = 2\nhandoff_validation.peer = vulkan\n";
    let settings = [
        api("duplicate_limit", vec![ApiValue::Int(3)]),
        api("peer", vec![s("other-api")]),
        api("best_practices", vec![ApiValue::Bool(true)]),
    ];
    let (st, problems) = load_with(&env, Some((Path::new(FILE), file)), &settings);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(st.duplicate_limit, 1); // env beats file and create info
    assert_eq!(st.peer, Peer::Vulkan); // file beats create info
    assert!(st.best_practices); // create info beats the default
}

#[test]
fn invalid_env_value_falls_back_to_file() {
    let env = env_of(&[("VK_HANDOFF_VALIDATION_DUPLICATE_LIMIT", "lots")]);
    let file = "handoff_validation.duplicate_limit = 2\n";
    let (st, problems) = load_with(&env, Some((Path::new(FILE), file)), &[]);
    assert_eq!(st.duplicate_limit, 2);
    assert_eq!(problems.len(), 1);
    let p = &problems[0];
    assert_eq!(
        (p.key.as_str(), p.value.as_str(), p.source),
        ("duplicate_limit", "lots", Source::Environment)
    );
    for needle in [
        "duplicate_limit",
        "\"lots\"",
        "VK_HANDOFF_VALIDATION_DUPLICATE_LIMIT",
        "non-negative decimal integer",
        &format!("using the value from {FILE}:1"),
    ] {
        assert!(
            p.message.contains(needle),
            "{needle} missing: {}",
            p.message
        );
    }
}

#[test]
fn invalid_everywhere_uses_default_and_reports_each() {
    let env = env_of(&[("VK_HANDOFF_VALIDATION_PEER", "gl")]);
    let file = "handoff_validation.peer = opengl\n";
    let (st, problems) = load_with(
        &env,
        Some((Path::new(FILE), file)),
        &[api("peer", vec![ApiValue::Int(2)])],
    );
    assert_eq!(st.peer, Peer::Unknown);
    let sources: Vec<_> = problems.iter().map(|p| p.source).collect();
    assert_eq!(
        sources,
        [Source::Environment, Source::File, Source::CreateInfo]
    );
    for p in &problems {
        assert!(
            p.message.contains("vulkan, other-api, unknown"),
            "{}",
            p.message
        );
        assert!(
            p.message.contains("using the default (unknown)"),
            "{}",
            p.message
        );
    }
}

#[test]
fn shadowed_invalid_value_is_still_reported() {
    let env = env_of(&[("VK_HANDOFF_VALIDATION_BEST_PRACTICES", "true")]);
    let (st, problems) = load_with(&env, None, &[api("best_practices", vec![s("maybe")])]);
    assert!(st.best_practices);
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].message.contains("takes precedence"),
        "{}",
        problems[0].message
    );
}

#[test]
fn invalid_values_for_every_key() {
    let base = scratch_dir("bad-ledger");
    let missing = base.join("missing");
    let bad: [(&str, &str); 9] = [
        ("report_file", ""),
        ("log_file", "   "),
        ("duplicate_limit", "-3"),
        ("message_id_filter", "0xnothex"),
        ("debug_action", "log,print"),
        ("forward_invalid_calls", "yes"),
        ("peer", "metal"),
        ("best_practices", "2"),
        ("ledger_dir", missing.to_str().unwrap()),
    ];
    let pairs: Vec<(String, String)> = bad
        .iter()
        .map(|(k, v)| (env_var(k), (*v).to_owned()))
        .collect();
    let pairs_ref: Vec<(&str, &str)> = pairs
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    let (st, problems) = load_with(&env_of(&pairs_ref), None, &[]);
    assert_eq!(st, Settings::default());
    let keys: Vec<_> = problems.iter().map(|p| p.key.as_str()).collect();
    assert_eq!(keys, TABLE.iter().map(|s| s.key).collect::<Vec<_>>());
    for (p, spec) in problems.iter().zip(TABLE) {
        assert!(p.message.contains(spec.accepted), "{}", p.message);
        assert!(p
            .message
            .contains(&format!("using the default ({})", spec.default)));
    }
    std::fs::remove_dir_all(base).unwrap();
}

#[test]
fn ledger_dir_with_wrong_mode_is_rejected() {
    use std::os::unix::fs::PermissionsExt;
    let d = scratch_dir("wide-ledger");
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (st, problems) = load_with(
        &no_env,
        None,
        &[api("ledger_dir", vec![s(d.to_str().unwrap())])],
    );
    assert!(st.ledger_dir.is_none());
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].message.contains("mode 0755"),
        "{}",
        problems[0].message
    );
    std::fs::remove_dir_all(d).unwrap();
}

#[test]
fn empty_debug_action_means_nothing() {
    let env = env_of(&[("VK_HANDOFF_VALIDATION_DEBUG_ACTION", "")]);
    let (st, problems) = load_with(&env, None, &[]);
    assert!(problems.is_empty());
    assert_eq!(st.debug_action, DebugAction::NONE);
}

#[test]
fn settings_file_search_order() {
    let root = scratch_dir("search");
    let via_env_dir = root.join("envdir");
    let cwd = root.join("cwd");
    let xdg = root.join("xdg");
    let home = root.join("home");
    for d in [&via_env_dir, &cwd] {
        std::fs::create_dir_all(d).unwrap();
        std::fs::write(d.join(SETTINGS_FILE_NAME), "").unwrap();
    }
    let xdg_file = xdg.join("vulkan/settings.d").join(SETTINGS_FILE_NAME);
    let home_file = home
        .join(".local/share/vulkan/settings.d")
        .join(SETTINGS_FILE_NAME);
    for f in [&xdg_file, &home_file] {
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, "").unwrap();
    }
    let explicit = root.join("explicit.txt");
    std::fs::write(&explicit, "").unwrap();

    let env = |pairs: Vec<(&'static str, PathBuf)>| {
        move |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| OsString::from(v))
        }
    };
    let all = vec![
        ("VK_LAYER_SETTINGS_PATH", via_env_dir.clone()),
        ("XDG_DATA_HOME", xdg.clone()),
        ("HOME", home.clone()),
    ];
    // A directory in VK_LAYER_SETTINGS_PATH.
    assert_eq!(
        settings_file_with(&env(all.clone()), Some(cwd.clone())),
        Some(via_env_dir.join(SETTINGS_FILE_NAME))
    );
    // A file in VK_LAYER_SETTINGS_PATH.
    let mut with_file = all.clone();
    with_file[0].1 = explicit.clone();
    assert_eq!(
        settings_file_with(&env(with_file), Some(cwd.clone())),
        Some(explicit.clone())
    );
    // A VK_LAYER_SETTINGS_PATH that does not exist falls through to the working directory.
    let mut missing = all.clone();
    missing[0].1 = root.join("nowhere");
    assert_eq!(
        settings_file_with(&env(missing.clone()), Some(cwd.clone())),
        Some(cwd.join(SETTINGS_FILE_NAME))
    );
    // Then XDG_DATA_HOME, then ~/.local/share.
    assert_eq!(
        settings_file_with(&env(missing.clone()), Some(root.clone())),
        Some(xdg_file.clone())
    );
    let no_xdg = vec![("HOME", home.clone())];
    assert_eq!(
        settings_file_with(&env(no_xdg), Some(root.clone())),
        Some(home_file.clone())
    );
    let relative_xdg = vec![
        ("XDG_DATA_HOME", PathBuf::from("rel")),
        ("HOME", home.clone()),
    ];
    assert_eq!(
        settings_file_with(&env(relative_xdg), Some(root.clone())),
        Some(home_file)
    );
    assert_eq!(settings_file_with(&env(vec![]), Some(root.clone())), None);
    std::fs::remove_dir_all(root).unwrap();
}

// ---- from_create_info with real C arrays ----

#[test]
fn from_create_info_reads_every_type() {
    let layer = CString::new(LAYER_NAME).unwrap();
    let other_layer = CString::new("VK_LAYER_KHRONOS_validation").unwrap();
    let names: Vec<CString> = [
        "b", "i32", "i64", "u32", "u64", "f32", "f64", "str", "other", "nullvals", "bogus",
    ]
    .iter()
    .map(|n| CString::new(*n).unwrap())
    .collect();
    let bools: [vk::Bool32; 2] = [vk::TRUE, vk::FALSE];
    let i32s: [i32; 2] = [-7, 7];
    let i64s: [i64; 1] = [1 << 40];
    let u32s: [u32; 1] = [u32::MAX];
    let u64s: [u64; 2] = [5, u64::MAX];
    let f32s: [f32; 1] = [0.5];
    let f64s: [f64; 1] = [2.25];
    let strs = [
        CString::new("log,break").unwrap(),
        CString::new("caf\u{e9}").unwrap(),
    ];
    let mut str_ptrs: Vec<*const c_char> = strs.iter().map(|c| c.as_ptr()).collect();
    str_ptrs.push(std::ptr::null());
    let entry = |name: usize, ty: vk::LayerSettingTypeEXT, n: usize, p: *const c_void| {
        vk::LayerSettingEXT {
            p_layer_name: layer.as_ptr(),
            p_setting_name: names[name].as_ptr(),
            ty,
            value_count: n as u32,
            p_values: p,
            ..Default::default()
        }
    };
    use vk::LayerSettingTypeEXT as T;
    let mut settings = vec![
        entry(0, T::BOOL32, 2, bools.as_ptr().cast()),
        entry(1, T::INT32, 2, i32s.as_ptr().cast()),
        entry(2, T::INT64, 1, i64s.as_ptr().cast()),
        entry(3, T::UINT32, 1, u32s.as_ptr().cast()),
        entry(4, T::UINT64, 2, u64s.as_ptr().cast()),
        entry(5, T::FLOAT32, 1, f32s.as_ptr().cast()),
        entry(6, T::FLOAT64, 1, f64s.as_ptr().cast()),
        entry(7, T::STRING, 3, str_ptrs.as_ptr().cast()),
        entry(8, T::INT32, 1, i32s.as_ptr().cast()),
        entry(9, T::INT32, 4, std::ptr::null()),
        entry(10, T::from_raw(99), 1, i32s.as_ptr().cast()),
    ];
    settings[8].p_layer_name = other_layer.as_ptr();
    // Entries with null names are skipped.
    settings.push(vk::LayerSettingEXT {
        p_layer_name: std::ptr::null(),
        ..settings[0]
    });
    settings.push(vk::LayerSettingEXT {
        p_setting_name: std::ptr::null(),
        ..settings[0]
    });
    let ci = vk::LayerSettingsCreateInfoEXT {
        setting_count: settings.len() as u32,
        p_settings: settings.as_ptr(),
        ..Default::default()
    };
    // SAFETY: ci and every array it points to are alive for the call and match their counts.
    let got = unsafe { from_create_info(&ci) };
    let expect = vec![
        api("b", vec![ApiValue::Bool(true), ApiValue::Bool(false)]),
        api("i32", vec![ApiValue::Int(-7), ApiValue::Int(7)]),
        api("i64", vec![ApiValue::Int(1 << 40)]),
        api("u32", vec![ApiValue::Int(u32::MAX.into())]),
        api("u64", vec![ApiValue::Int(5), ApiValue::Int(i64::MAX)]),
        api("f32", vec![ApiValue::Float(0.5)]),
        api("f64", vec![ApiValue::Float(2.25)]),
        api("str", vec![s("log,break"), s("caf\u{e9}")]),
        api("nullvals", vec![]),
    ];
    assert_eq!(got, expect);
}

#[test]
fn from_create_info_tolerates_null_and_empty() {
    // SAFETY: null is explicitly allowed.
    assert!(unsafe { from_create_info(std::ptr::null()) }.is_empty());
    let ci = vk::LayerSettingsCreateInfoEXT::default();
    // SAFETY: zero settings with a null array.
    assert!(unsafe { from_create_info(&ci) }.is_empty());
    let ci = vk::LayerSettingsCreateInfoEXT {
        setting_count: 3,
        ..Default::default()
    };
    // SAFETY: a null pSettings is tolerated whatever the count says.
    assert!(unsafe { from_create_info(&ci) }.is_empty());
}

#[test]
fn from_create_info_feeds_load_with() {
    let layer = CString::new(LAYER_NAME).unwrap();
    let key = CString::new("duplicate_limit").unwrap();
    let peer_key = CString::new("peer").unwrap();
    let peer_val = CString::new("other-api").unwrap();
    let peer_ptrs = [peer_val.as_ptr()];
    let limit: [u32; 1] = [0];
    let settings = [
        vk::LayerSettingEXT {
            p_layer_name: layer.as_ptr(),
            p_setting_name: key.as_ptr(),
            ty: vk::LayerSettingTypeEXT::UINT32,
            value_count: 1,
            p_values: limit.as_ptr().cast(),
            ..Default::default()
        },
        vk::LayerSettingEXT {
            p_layer_name: layer.as_ptr(),
            p_setting_name: peer_key.as_ptr(),
            ty: vk::LayerSettingTypeEXT::STRING,
            value_count: 1,
            p_values: peer_ptrs.as_ptr().cast(),
            ..Default::default()
        },
    ];
    let ci = vk::LayerSettingsCreateInfoEXT::default().settings(&settings);
    // SAFETY: ci borrows live arrays whose counts match.
    let api_settings = unsafe { from_create_info(&ci) };
    let (st, problems) = load_with(&no_env, None, &api_settings);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(st.duplicate_limit, 0);
    assert_eq!(st.peer, Peer::OtherApi);
}

#[test]
fn load_reads_the_process_environment() {
    // Only checks that load() runs with whatever the test environment has; the pure paths
    // are covered above. The API setting proves the create-info source is wired through.
    let (st, _) = load(&[api("best_practices", vec![ApiValue::Bool(true)])]);
    if std::env::var_os("VK_HANDOFF_VALIDATION_BEST_PRACTICES").is_none()
        && settings_file().is_none()
    {
        assert!(st.best_practices);
    }
}
