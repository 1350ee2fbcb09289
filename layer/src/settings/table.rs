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
    /// One plain-text sentence for the manifest's `features.settings` (Vulkan Configurator
    /// shows it as a tooltip, so no Markdown).
    pub description: &'static str,
    /// The accepted words of an `enum` or `enum list` (key, label); empty otherwise.
    pub values: &'static [(&'static str, &'static str)],
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
        description: "Appends every finding and a summary, as JSON Lines, to this file (created with mode 0600, never through a symlink).",
        values: &[],
    },
    SettingSpec {
        key: "log_file",
        label: "Log file",
        kind: "path",
        default: "stderr",
        accepted: "a non-empty file path",
        meaning: "where `tracing` output goes",
        description: "Writes the layer's log to this file instead of stderr.",
        values: &[],
    },
    SettingSpec {
        key: "duplicate_limit",
        label: "Duplicate limit",
        kind: "int",
        default: "10",
        accepted: "a non-negative decimal integer up to 4294967295 (0 = unlimited)",
        meaning: "reports per (id, first object) before muting; 0 = unlimited",
        description: "How many times one id is reported for one object before further reports are muted; 0 reports every one.",
        values: &[],
    },
    SettingSpec {
        key: "message_id_filter",
        label: "Message id filter",
        kind: "list",
        default: "empty",
        accepted: "a comma-separated list of ids (VUID-... or HANDOFF-... strings, aliases, \
                   or numbers: decimal, negative decimal, or 0x hex)",
        meaning: "ids (strings, aliases or numbers) never reported",
        description: "Ids never reported: VUID or HANDOFF strings, their aliases, or their numbers.",
        values: &[],
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
        description: "What an error does besides reporting: log it, call the app's callbacks, raise SIGTRAP for a debugger, or flush the report and abort.",
        values: &[("log", "Log"), ("callback", "Callback"), ("break", "Break (SIGTRAP)"), ("abort", "Abort")],
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
        description: "Pass calls the layer proves undefined to the driver; off, they return an error without reaching it.",
        values: &[],
    },
    SettingSpec {
        key: "peer",
        label: "Peer",
        kind: "enum",
        default: "unknown",
        accepted: "vulkan, other-api, unknown",
        meaning: "who consumes what is released to `VK_QUEUE_FAMILY_EXTERNAL`; a release to \
                  `FOREIGN` always means `other-api`",
        description: "Who consumes what is released to VK_QUEUE_FAMILY_EXTERNAL: another Vulkan user, another API, or unknown (a release to FOREIGN always means another API).",
        values: &[("vulkan", "Vulkan"), ("other-api", "Another API"), ("unknown", "Unknown")],
    },
    SettingSpec {
        key: "best_practices",
        label: "Best practices",
        kind: "bool",
        default: "false",
        accepted: "true, false, 1, 0",
        meaning: "also report hazards the spec allows but that usually mean a bug \
                  (`HANDOFF-Sync-release-without-signal`)",
        description: "Also report hazards the spec allows but that usually mean a bug.",
        values: &[],
    },
    SettingSpec {
        key: "ledger_dir",
        label: "Ledger directory",
        kind: "path",
        default: "none",
        accepted: "an existing directory owned by the current user, mode exactly 0700, \
                   not a symlink",
        meaning: "cross-process ledger: a directory owned by the user, mode 0700, not a symlink",
        description: "Directory shared by the processes of one user (mode 0700, not a symlink) through which exports and imports are checked across processes.",
        values: &[],
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

impl SettingSpec {
    /// The setting `type` of layer manifest format 1.2.0, as Vulkan Configurator reads it.
    pub fn manifest_type(&self) -> &'static str {
        match (self.kind, self.key) {
            ("path", "ledger_dir") => "SAVE_FOLDER",
            ("path", _) => "SAVE_FILE",
            ("int", _) => "INT",
            ("list", _) => "LIST",
            ("enum list", _) => "FLAGS",
            ("enum", _) => "ENUM",
            ("bool", _) => "BOOL",
            _ => "STRING",
        }
    }
}

/// Escapes `|` so a cell cannot split a Markdown table row.
fn cell(s: &str) -> String {
    s.replace('|', "\\|")
}

impl SettingSpec {
    /// The settings table as README.md shows it (a test keeps README in sync with this).
    pub fn markdown_table() -> String {
        let mut out =
            String::from("| key | type | default | meaning |\n| --- | --- | --- | --- |\n");
        for s in TABLE {
            let words = || {
                s.values
                    .iter()
                    .map(|(v, _)| format!("`{v}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let kind = match s.kind {
                "enum" => words(),
                "enum list" => format!("list of {}", words()),
                other => other.to_owned(),
            };
            let default = match s.default {
                "none" | "empty" | "stderr" => s.default.to_owned(),
                d => format!("`{d}`"),
            };
            out.push_str(&format!(
                "| `{}` | {} | {} | {} |\n",
                s.key,
                cell(&kind),
                cell(&default),
                cell(s.meaning)
            ));
        }
        out
    }
}

#[cfg(test)]
mod metadata_tests {
    use super::*;

    #[test]
    fn enums_list_their_words_and_descriptions_are_plain() {
        for s in TABLE {
            let is_enum = matches!(s.kind, "enum" | "enum list");
            assert_eq!(is_enum, !s.values.is_empty(), "{}", s.key);
            for (word, _) in s.values {
                assert!(
                    s.accepted.contains(word),
                    "{}: {word} not in {}",
                    s.key,
                    s.accepted
                );
            }
            assert!(
                !s.description.is_empty() && !s.description.contains('`'),
                "{}: vkconfig shows descriptions as plain text",
                s.key
            );
            assert_ne!(s.manifest_type(), "STRING", "{}", s.key);
        }
    }

    #[test]
    fn markdown_has_one_row_per_key() {
        let md = SettingSpec::markdown_table();
        assert_eq!(md.lines().count(), TABLE.len() + 2);
        for s in TABLE {
            assert!(md.contains(&format!("| `{}` |", s.key)), "{}", s.key);
        }
    }
}
