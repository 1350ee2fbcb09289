//! A minimal `--key value` / `--flag` parser for the scenario binary.

/// The scenario's arguments (after its name).
pub struct Args {
    items: Vec<String>,
}

impl Args {
    pub fn new(items: Vec<String>) -> Args {
        Args { items }
    }

    /// Whether `--name` is present.
    pub fn flag(&self, name: &str) -> bool {
        self.items.iter().any(|a| a == name)
    }

    /// The value after the last `--name`.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values(name).last().copied()
    }

    /// Every value following a `--name`.
    pub fn values(&self, name: &str) -> Vec<&str> {
        self.items
            .windows(2)
            .filter(|w| w[0] == name)
            .map(|w| w[1].as_str())
            .collect()
    }

    pub fn value_or<'a>(&'a self, name: &str, default: &'a str) -> &'a str {
        self.value(name).unwrap_or(default)
    }

    /// An integer value, or `default`.
    pub fn number(&self, name: &str, default: u64) -> Result<u64, String> {
        match self.value(name) {
            None => Ok(default),
            Some(v) => parse_u64(v).ok_or_else(|| format!("{name}: not a number: {v:?}")),
        }
    }
}

/// Decimal or `0x` hex.
pub fn parse_u64(v: &str) -> Option<u64> {
    match v.strip_prefix("0x") {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => v.parse().ok(),
    }
}
