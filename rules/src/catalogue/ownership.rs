//! Ownership and layout of external resources as the queues see them, applied at submit
//! (G6 to G10, 12331/12332, 08922).

#[allow(unused_imports)]
use super::{Area, Rule, Severity};
