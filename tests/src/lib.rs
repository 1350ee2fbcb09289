//! Handoff's integration harness.
//!
//! Two halves live in this crate:
//!
//! * [`harness`]: what an integration test uses. It finds the layer and the mock ICD next to
//!   the test executable (or in `$HANDOFF_LIB_DIR`), writes their manifests into a private
//!   temporary directory, and runs one scenario per child process (the `handoff-scenario`
//!   binary) through the real Vulkan loader, with a clean environment and a timeout.
//! * [`app`]: what that child process runs: small ash programs with a debug-utils messenger
//!   that records every message, printing one JSON line at exit.

pub mod app;
pub mod harness;

pub use harness::driver::Driver;
pub use harness::outcome::{Finding, Outcome};
pub use harness::run::Scenario;
