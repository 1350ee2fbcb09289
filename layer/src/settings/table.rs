//! The settings table of DESIGN.md as data.
//!
//! Kept as one static so the README, the manifest `features.settings` metadata and the
//! problem messages all quote the same words; the parser checks it handles every row.

/// One row of DESIGN.md's settings table.
#[derive(Debug, PartialEq, Eq)]
pub struct SettingSpec {
    /// The key as written in the settings file and `VkLayerSettingEXT::pSettingName`.
    pub key: &'static str,
    /// A short human title, for generated UIs (vkconfig) and README headings.
    pub label: &'static str,
    /// One of `path`, `int`, `list`, `enum list`, `bool`, `enum`.
    pub kind: &'static str,
    /// The default, as DESIGN.md writes it.
    pub default: &'static str,
    /// What the parser accepts, in words; quoted by problem messages.
    pub accepted: &'static str,
    /// DESIGN.md's meaning column, verbatim (Markdown).
    pub meaning: &'static str,
}

/// Every key, in DESIGN.md's order.
pub static TABLE: &[SettingSpec] = &[
    SettingSpec {
        key: "report_file",
        label: "Report file",
        kind: "path",
        default: "none",
        accepted: "a non-empty file path (not a symlink)",
        meaning: "JSON Lines report, appended; created 0600, never through a symlink",
    },
    SettingSpec {
        key: "log_file",
        label: "Log file",
        kind: "path",
        default: "stderr",
        accepted: "a non-empty file path",
        meaning: "where `tracing` output goes",
    },
    SettingSpec {
        key: "duplicate_limit",
        label: "Duplicate limit",
        kind: "int",
        default: "10",
        accepted: "a non-negative decimal integer up to 4294967295 (0 = unlimited)",
        meaning: "reports per (id, first object) before muting; 0 = unlimited",
    },
    SettingSpec {
        key: "message_id_filter",
        label: "Message id filter",
        kind: "list",
        default: "empty",
        accepted: "a comma-separated list of ids (VUID-... or HANDOFF-... strings, aliases, \
                   or numbers: decimal, negative decimal, or 0x hex)",
        meaning: "ids (strings, aliases or numbers) never reported",
    },
    SettingSpec {
        key: "debug_action",
        label: "Debug action",
        kind: "enum list",
        default: "log,callback",
        accepted: "a comma-separated combination of log, callback, break, abort \
                   (empty for none)",
        meaning: "what an ERROR does besides reporting: `break` raises SIGTRAP for a \
                  debugger, `abort` flushes the report and calls `abort()`",
    },
    SettingSpec {
        key: "forward_invalid_calls",
        label: "Forward invalid calls",
        kind: "bool",
        default: "false",
        accepted: "true, false, 1, 0",
        meaning: "forward calls the layer proves undefined (freed or unknown handle, an fd \
                  that is not open); otherwise they return `VK_ERROR_VALIDATION_FAILED_EXT` \
                  (`VK_ERROR_INVALID_EXTERNAL_HANDLE` for imports) without reaching the driver",
    },
    SettingSpec {
        key: "peer",
        label: "Peer",
        kind: "enum",
        default: "unknown",
        accepted: "vulkan, other-api, unknown",
        meaning: "who consumes what is released to `VK_QUEUE_FAMILY_EXTERNAL`; a release to \
                  `FOREIGN` always means `other-api`",
    },
    SettingSpec {
        key: "best_practices",
        label: "Best practices",
        kind: "bool",
        default: "false",
        accepted: "true, false, 1, 0",
        meaning: "also report hazards the spec allows but that usually mean a bug \
                  (`HANDOFF-Sync-release-without-signal`)",
    },
    SettingSpec {
        key: "ledger_dir",
        label: "Ledger directory",
        kind: "path",
        default: "none",
        accepted: "an existing directory owned by the current user, mode exactly 0700, \
                   not a symlink",
        meaning: "cross-process ledger: a directory owned by the user, mode 0700, not a symlink",
    },
];

/// The row for `key`, if it is one of ours.
pub(crate) fn spec(key: &str) -> Option<&'static SettingSpec> {
    TABLE.iter().find(|s| s.key == key)
}

/// The known keys, for "unknown key" messages.
pub(crate) fn known_keys() -> String {
    TABLE.iter().map(|s| s.key).collect::<Vec<_>>().join(", ")
}
