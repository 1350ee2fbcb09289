//! External semaphores and fences, and submissions that release memory (RULES-TARGET 1.15,
//! 1.16, G15).

#[allow(unused_imports)]
use super::{Area, Rule, Severity};
