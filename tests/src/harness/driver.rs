//! Which Vulkan driver a scenario runs on.

use std::path::{Path, PathBuf};

/// The lavapipe manifest, used when `HANDOFF_TEST_ICD` is not set.
pub const DEFAULT_REAL_ICD: &str = "/usr/share/vulkan/icd.d/lvp_icd.x86_64.json";

/// A driver for one scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Driver {
    /// The ICD manifest named by `HANDOFF_TEST_ICD` (default: lavapipe).
    Real,
    /// The bundled mock ICD with this `HANDOFF_MOCK_PROFILE`.
    Mock(&'static str),
}

/// The mock ICD imitating lavapipe.
pub const MOCK: Driver = Driver::Mock("lavapipe");

impl Driver {
    /// A short name for messages.
    pub fn label(&self) -> String {
        match self {
            Driver::Real => format!("real driver ({})", real_icd_manifest().display()),
            Driver::Mock(p) => format!("mock ICD (profile {p})"),
        }
    }

    pub fn is_mock(&self) -> bool {
        matches!(self, Driver::Mock(_))
    }

    /// Whether the real driver is lavapipe (whose quirks some tests document).
    pub fn is_lavapipe(&self) -> bool {
        match self {
            Driver::Real => real_icd_manifest()
                .file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("lvp_")),
            Driver::Mock(_) => false,
        }
    }
}

/// The real driver's ICD manifest; fails loudly when it is missing.
pub fn real_icd_manifest() -> PathBuf {
    let p = std::env::var_os("HANDOFF_TEST_ICD")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(DEFAULT_REAL_ICD));
    if !Path::new(&p).is_file() {
        panic!(
            "the real driver's ICD manifest {} does not exist: install mesa-vulkan-drivers \
             (`apt-get install mesa-vulkan-drivers`) for lavapipe, or point HANDOFF_TEST_ICD \
             at another ICD manifest",
            p.display()
        );
    }
    p
}
