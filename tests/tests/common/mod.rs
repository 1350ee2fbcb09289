//! Shared by the integration tests: the scenario constructor, the ids, and a macro that runs
//! one test body on both drivers.

#![allow(dead_code, unused_imports)]

pub use handoff_tests::app::{hex, pattern};
pub use handoff_tests::harness::driver::{Driver, MOCK};
pub use handoff_tests::harness::run::{Layer, Scenario};
pub use handoff_tests::Outcome;

use handoff_rules::catalogue as cat;

pub const NOT_EXPORTED: &str = cat::GET_FD_HANDLE_TYPE_NOT_EXPORTED.id;
pub const NOT_FD_TYPE: &str = cat::GET_FD_HANDLE_TYPE_NOT_FD.id;
pub const MEMORY_UNKNOWN: &str = cat::GET_FD_MEMORY_UNKNOWN.id;
pub const LEAK: &str = cat::LEAK_LIVE_OBJECTS.id;
pub const SETTINGS_INVALID: &str = cat::SETTINGS_INVALID.id;

/// `VK_SUCCESS` and `VK_ERROR_VALIDATION_FAILED_EXT` as the scenario reports them.
pub const VK_SUCCESS: i64 = 0;
pub const VK_ERROR_VALIDATION_FAILED_EXT: i64 = -1000011001;
pub const VK_ERROR_INVALID_EXTERNAL_HANDLE: i64 = -1000072003;

/// A scenario on `driver`, with the layer enabled explicitly.
pub fn scenario(name: &str, driver: Driver) -> Scenario {
    Scenario::new(name, driver).fallback_bin(env!("CARGO_BIN_EXE_handoff-scenario"))
}

/// Chains a `VkLayerSettingsCreateInfoEXT` holding `settings` (`NAME=TYPE:VALUE`) on the
/// instance create info and enables `VK_EXT_layer_settings`.
///
/// The system loader (1.3.239) predates VK_EXT_layer_settings: it checks enabled instance
/// extensions against its own list of known ones and rejects the extension with
/// VK_ERROR_EXTENSION_NOT_PRESENT ("not found in list of known instance extensions") even
/// though the enabled layer's manifest offers it. VK_LOADER_DISABLE_INST_EXT_FILTER=1 is the
/// loader's switch for exactly this; newer loaders know the extension and ignore it.
pub fn with_create_info_settings(mut s: Scenario, settings: &[&str]) -> Scenario {
    for setting in settings {
        s = s.args(["--setting", setting]);
    }
    s.env("VK_LOADER_DISABLE_INST_EXT_FILTER", "1")
}

/// lavapipe, or the mock ICD imitating it: driver answers RULES-TARGET §3.1 records.
pub fn lavapipe_like(d: Driver) -> bool {
    d == MOCK || d.is_lavapipe()
}

/// `n` copies of `id`.
pub fn times(id: &'static str, n: usize) -> Vec<&'static str> {
    vec![id; n]
}

/// The first vkGetMemoryFdKHR result of a `get-fd` scenario.
#[track_caller]
pub fn first_result(out: &Outcome) -> i64 {
    out.results()["result"]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no result\n{}", out.context()))
}

/// Whether the first vkGetMemoryFdKHR call wrote `*pFd`.
#[track_caller]
pub fn first_fd_written(out: &Outcome) -> bool {
    out.results()["result"]["fd_written"]
        .as_bool()
        .unwrap_or_else(|| panic!("no fd_written\n{}", out.context()))
}

/// Runs a test body on the real driver (lavapipe unless `HANDOFF_TEST_ICD` says otherwise)
/// and on the mock ICD (profile lavapipe), as two tests `NAME::real_driver` and
/// `NAME::mock_icd`.
#[macro_export]
macro_rules! on_both_drivers {
    ($(#[$m:meta])* fn $name:ident($d:ident: Driver) $body:block) => {
        $(#[$m])*
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            fn body($d: Driver) $body
            #[test]
            fn real_driver() {
                body(Driver::Real)
            }
            #[test]
            fn mock_icd() {
                body(MOCK)
            }
        }
    };
}
