//! Handoff's rule catalogue and checks.
//!
//! Everything here is pure: a check takes a snapshot of a Vulkan call (plain Rust values
//! copied out of the C structs by the layer) plus the tracked state it needs, and returns
//! findings. No `unsafe`, no FFI, so every rule is unit-tested without a driver.

#![forbid(unsafe_code)]

pub mod catalogue;
pub mod checks;
pub mod finding;
pub mod hash;
pub mod render;
pub mod unchecked;

pub use catalogue::{lookup, Area, Rule, Severity, CATALOGUE};
pub use finding::{Finding, Object};
pub use hash::{id_number, xxh32};
