//! JSON Lines report file (stub; being written).
