//! Keeps panics inside the layer: every exported entry point runs through [`guarded`].

use crate::report;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Runs `f`; a panic becomes `HANDOFF-Layer-internal-error` and `on_panic` is returned.
///
/// `AssertUnwindSafe` is sound here because state touched by a panicking check is either
/// per-call (dropped) or in `dashmap`s whose shard locks are released during unwinding.
pub fn guarded<R>(command: &'static str, on_panic: R, f: impl FnOnce() -> R) -> R {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            // Reporting itself must not unwind out of here.
            let _ = catch_unwind(AssertUnwindSafe(|| report::internal_error(command, &what)));
            on_panic
        }
    }
}
