//! Settings (stub; being written).
