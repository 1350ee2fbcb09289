//! The test side: libraries, manifests, drivers, and one child process per scenario.

pub mod driver;
pub mod manifest;
pub mod outcome;
pub mod paths;
pub mod run;
pub mod tempdir;

/// The layer's name, as the manifests and the loader know it.
pub const LAYER_NAME: &str = "VK_LAYER_HANDOFF_validation";
/// The layer library's file name.
pub const LAYER_LIB: &str = "libVkLayer_handoff.so";
/// The mock ICD library's file name.
pub const MOCK_ICD_LIB: &str = "libhandoff_mock_icd.so";
/// The scenario helper binary's file name.
pub const SCENARIO_BIN: &str = "handoff-scenario";
