//! Choosing and reading a profile: `HANDOFF_MOCK_PROFILE` names a built-in profile or a
//! JSON file; a file's values are laid over its `base` (default `lavapipe`).

use super::{full, lavapipe, nvidia, Profile};
use serde_json::Value;

/// The environment variable that selects the profile.
pub const ENV_VAR: &str = "HANDOFF_MOCK_PROFILE";

/// Why no profile could be loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileError {
    /// Not a built-in name.
    UnknownName(String),
    /// The file could not be read.
    Unreadable { path: String, reason: String },
    /// The file is not a valid profile.
    Invalid { source: String, reason: String },
}

impl std::fmt::Display for ProfileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::UnknownName(n) => write!(
                f,
                "{ENV_VAR}={n:?} is not a built-in profile (known: {}) and not a JSON file path",
                builtin_names().join(", ")
            ),
            Self::Unreadable { path, reason } => {
                write!(f, "{ENV_VAR}: cannot read {path}: {reason}")
            }
            Self::Invalid { source, reason } => {
                write!(f, "{ENV_VAR}: invalid profile {source}: {reason}")
            }
        }
    }
}

impl std::error::Error for ProfileError {}

/// The names of the built-in profiles.
pub fn builtin_names() -> &'static [&'static str] {
    &["lavapipe", "nvidia", "full"]
}

/// A built-in profile by name.
pub fn builtin(name: &str) -> Option<Profile> {
    match name {
        "lavapipe" => Some(lavapipe::profile()),
        "nvidia" => Some(nvidia::profile()),
        "full" => Some(full::profile()),
        _ => None,
    }
}

/// Whether a `HANDOFF_MOCK_PROFILE` value names a file.
fn is_path(value: &str) -> bool {
    value.contains('/') || value.ends_with(".json")
}

/// The profile a `HANDOFF_MOCK_PROFILE` value selects (`None` or empty: `lavapipe`).
pub fn select(value: Option<&str>) -> Result<Profile, ProfileError> {
    let value = value.map(str::trim).unwrap_or("");
    if value.is_empty() {
        return Ok(lavapipe::profile());
    }
    if is_path(value) {
        let text = std::fs::read_to_string(value).map_err(|e| ProfileError::Unreadable {
            path: value.to_owned(),
            reason: e.to_string(),
        })?;
        return from_json_str(&text).map_err(|reason| ProfileError::Invalid {
            source: value.to_owned(),
            reason,
        });
    }
    builtin(value).ok_or_else(|| ProfileError::UnknownName(value.to_owned()))
}

/// The profile the environment selects.
pub fn from_env() -> Result<Profile, ProfileError> {
    match std::env::var(ENV_VAR) {
        Ok(v) => select(Some(&v)),
        Err(std::env::VarError::NotPresent) => select(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(ProfileError::UnknownName("<not UTF-8>".into()))
        }
    }
}

/// Reads a JSON profile: its values are laid over the built-in profile named by `base`
/// (default `lavapipe`); objects merge key by key, everything else is replaced.
pub fn from_json_str(text: &str) -> Result<Profile, String> {
    let file: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let Value::Object(map) = &file else {
        return Err("the top level must be a JSON object".into());
    };
    let base_name = match map.get("base") {
        None | Some(Value::Null) => "lavapipe".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err("\"base\" must be a string".into()),
    };
    let base = builtin(&base_name).ok_or_else(|| {
        format!(
            "\"base\": {base_name:?} is not a built-in profile (known: {})",
            builtin_names().join(", ")
        )
    })?;
    let mut merged = serde_json::to_value(&base).map_err(|e| e.to_string())?;
    merge(&mut merged, file);
    let mut profile: Profile = serde_json::from_value(merged).map_err(|e| e.to_string())?;
    profile.base = Some(base_name);
    check(&profile)?;
    Ok(profile)
}

/// Lays `over` onto `base`: objects merge recursively, other values replace.
pub(super) fn merge(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

/// Consistency checks the mock relies on.
pub(super) fn check(p: &Profile) -> Result<(), String> {
    let long = |what: &str, s: &str| -> Result<(), String> {
        if s.len() >= 256 {
            Err(format!("{what} {s:?} is longer than 255 bytes"))
        } else {
            Ok(())
        }
    };
    long("deviceName", &p.device_name)?;
    long("driverName", &p.driver_name)?;
    long("driverInfo", &p.driver_info)?;
    for e in p.instance_extensions.iter().chain(&p.device_extensions) {
        long("extension name", &e.name)?;
    }
    if p.queue_families.is_empty() {
        return Err("queueFamilies is empty".into());
    }
    if let Some(i) = p.queue_families.iter().position(|q| q.queue_count == 0) {
        return Err(format!("queueFamilies[{i}].queueCount is 0"));
    }
    if p.memory_heaps.is_empty() || p.memory_heaps.len() > 16 {
        return Err(format!(
            "memoryHeaps has {} entries (1 to 16 allowed)",
            p.memory_heaps.len()
        ));
    }
    if p.memory_types.is_empty() || p.memory_types.len() > 32 {
        return Err(format!(
            "memoryTypes has {} entries (1 to 32 allowed)",
            p.memory_types.len()
        ));
    }
    let heaps = p.memory_heaps.len();
    if let Some(i) = p
        .memory_types
        .iter()
        .position(|t| t.heap_index as usize >= heaps)
    {
        return Err(format!("memoryTypes[{i}].heapIndex is not below {heaps}"));
    }
    let single_bit = |what: &str, v: u32| -> Result<(), String> {
        if v.count_ones() == 1 {
            Ok(())
        } else {
            Err(format!("{what} handleType {v:#x} is not a single bit"))
        }
    };
    for e in p
        .external_memory
        .buffer
        .iter()
        .chain(&p.external_memory.image)
        .chain(&p.nv_external_memory)
    {
        single_bit("external memory", e.handle_type)?;
    }
    for e in &p.external_memory.image_overrides {
        single_bit("imageOverrides", e.handle_type)?;
    }
    for e in p.external_semaphore.iter().chain(&p.external_fence) {
        single_bit("semaphore/fence", e.handle_type)?;
    }
    p.physical_devices()?;
    p.resolved_device_groups()?;
    Ok(())
}
