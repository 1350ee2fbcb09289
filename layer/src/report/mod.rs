//! Reporting (stub; being written).
pub mod jsonl;
