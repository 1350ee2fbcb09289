//! Command pools and command buffers: the record-time ownership-transfer rules that need the
//! pool's queue family or the synchronization2 feature (RULES-TARGET 1.18).

#[allow(unused_imports)]
use super::{Area, Rule, Severity};
