//! The layer's settings: what they are, where they come from, and what went wrong reading them.
//!
//! DESIGN.md fixes the interface (keys, sources, precedence); this module is the only place
//! that knows it, so the README and manifest metadata are generated from [`TABLE`] rather
//! than written twice.
//!
//! Sources, highest first: the environment (`VK_HANDOFF_VALIDATION_<KEY>`), the settings file
//! (`handoff_validation.<key> = value`), then `VkLayerSettingsCreateInfoEXT`. See
//! [`load_with`] for how a bad value in one source interacts with the others.

mod api;
pub(crate) mod parse;
mod sources;
mod table;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;

pub use api::{from_create_info, ApiSetting, ApiValue};
pub use parse::MessageIdFilter;
pub use sources::{load, load_with, settings_file};
pub use table::{SettingSpec, TABLE};

/// The name the loader, the manifests and `VkLayerSettingEXT::pLayerName` use for us.
pub const LAYER_NAME: &str = "VK_LAYER_HANDOFF_validation";

/// Environment variables are this prefix plus the upper-case key; the short forms other
/// layers accept are deliberately not read, they would collide with the Khronos layer's.
pub const ENV_PREFIX: &str = "VK_HANDOFF_VALIDATION_";

/// Settings-file lines for us start with this, then the key.
pub const FILE_PREFIX: &str = "handoff_validation.";

/// The file name looked for in `VK_LAYER_SETTINGS_PATH`, the working directory and
/// `$XDG_DATA_HOME/vulkan/settings.d/`.
pub const SETTINGS_FILE_NAME: &str = "vk_layer_settings.txt";

/// The environment variable that carries `key`, so documentation and messages spell it the
/// same way the reader looks it up.
pub fn env_var(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.to_ascii_uppercase())
}

/// The resolved settings of one layer instance.
#[derive(Clone, Debug, PartialEq)]
pub struct Settings {
    pub report_file: Option<PathBuf>,
    pub log_file: Option<PathBuf>,
    /// Reports per (id, first object) before muting; 0 = unlimited.
    pub duplicate_limit: u32,
    pub message_id_filter: MessageIdFilter,
    pub debug_action: DebugAction,
    pub forward_invalid_calls: bool,
    pub peer: Peer,
    pub best_practices: bool,
    /// Only ever set to a directory that passed the ownership and mode checks, so the
    /// ledger code can trust it without re-checking.
    pub ledger_dir: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            report_file: None,
            log_file: None,
            duplicate_limit: 10,
            message_id_filter: MessageIdFilter::default(),
            debug_action: DebugAction::default(),
            forward_invalid_calls: false,
            peer: Peer::Unknown,
            best_practices: false,
            ledger_dir: None,
        }
    }
}

/// What an ERROR does besides reporting. Flags rather than an enum because any combination
/// is allowed, including none at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DebugAction {
    pub log: bool,
    pub callback: bool,
    /// Raise SIGTRAP so an attached debugger stops at the offending call.
    pub brk: bool,
    /// Flush the report and `abort()`.
    pub abort: bool,
}

impl DebugAction {
    /// No action at all: what an explicitly empty `debug_action` list means.
    pub const NONE: DebugAction = DebugAction {
        log: false,
        callback: false,
        brk: false,
        abort: false,
    };
}

impl Default for DebugAction {
    /// `log,callback`, as DESIGN.md specifies.
    fn default() -> Self {
        DebugAction {
            log: true,
            callback: true,
            ..DebugAction::NONE
        }
    }
}

/// Who consumes what is released to `VK_QUEUE_FAMILY_EXTERNAL`; it decides whether a
/// non-GENERAL layout at the release is an error.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Peer {
    Vulkan,
    OtherApi,
    #[default]
    Unknown,
}

impl Peer {
    /// The spelling the setting accepts.
    pub fn as_str(self) -> &'static str {
        match self {
            Peer::Vulkan => "vulkan",
            Peer::OtherApi => "other-api",
            Peer::Unknown => "unknown",
        }
    }
}

/// Where a setting value came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Environment,
    File,
    CreateInfo,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Environment => "environment",
            Source::File => "settings file",
            Source::CreateInfo => "VkLayerSettingsCreateInfoEXT",
        }
    }
}

/// One thing wrong with the settings; the layer reports each as `HANDOFF-Settings-invalid`.
#[derive(Clone, Debug, PartialEq)]
pub struct Problem {
    /// The key as given (for an unknown key, exactly as spelled by the user).
    pub key: String,
    /// The offending value as given (list values joined with `,`).
    pub value: String,
    pub source: Source,
    /// Self-contained text for the user: key, value, where it came from, what is accepted,
    /// and what is used instead.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
