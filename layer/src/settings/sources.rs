//! Gathering values from the three sources and resolving them into [`Settings`].

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use super::parse::{parse, Raw, Value};
use super::table::{known_keys, spec, SettingSpec, TABLE};
use super::{
    env_var, ApiSetting, ApiValue, Problem, Settings, Source, ENV_PREFIX, FILE_PREFIX,
    SETTINGS_FILE_NAME,
};

/// Reads the real environment and settings file, and resolves them with `api`.
///
/// Besides what [`load_with`] does, every `VK_HANDOFF_VALIDATION_*` variable that names no
/// key is reported, since a typo there would otherwise silently do nothing.
pub fn load(api: &[ApiSetting]) -> (Settings, Vec<Problem>) {
    let env = |name: &str| std::env::var_os(name).map(|v| v.to_string_lossy().into_owned());
    let env_names: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .filter(|k| k.starts_with(ENV_PREFIX))
        .collect();
    let mut problems = Vec::new();
    let file = settings_file().and_then(|path| match std::fs::read(&path) {
        Ok(bytes) => Some((path, String::from_utf8_lossy(&bytes).into_owned())),
        Err(e) => {
            problems.push(Problem {
                key: String::new(),
                value: String::new(),
                source: Source::File,
                message: format!(
                    "the settings file {} cannot be read ({e}); its settings are not used",
                    path.display()
                ),
            });
            None
        }
    });
    let (settings, more) = resolve(
        &env,
        &env_names,
        file.as_ref().map(|(p, t)| (p.as_path(), t.as_str())),
        api,
    );
    problems.extend(more);
    (settings, problems)
}

/// Resolves settings from an environment lookup, an optional settings file `(path, text)`
/// and create-info settings, touching nothing else (for tests).
///
/// Per key, the highest source that gives a *valid* value wins: environment, then file,
/// then `VkLayerSettingsCreateInfoEXT`, then the default. An invalid value does not block
/// the sources below it: a typo in an environment variable should not throw away a good
/// value the application configured, and DESIGN.md asks for "the default is used" only
/// when nothing valid is left. Every invalid value is reported as a [`Problem`] — also one
/// shadowed by a higher valid value, so a broken configuration does not lie in wait — and
/// its message says which value is used instead. Within the file or the create info, the
/// last entry for a key is that source's value. Values are trimmed of surrounding
/// whitespace in every source.
///
/// Unknown environment variables cannot be found through a lookup function; [`load`]
/// enumerates the real environment for them.
pub fn load_with(
    env: &dyn Fn(&str) -> Option<String>,
    file: Option<(&Path, &str)>,
    api: &[ApiSetting],
) -> (Settings, Vec<Problem>) {
    resolve(env, &[], file, api)
}

/// One value offered by one source.
struct Candidate<'a> {
    source: Source,
    /// Where exactly: variable name, `path:line`, or the struct name.
    location: String,
    raw: Raw<'a>,
}

pub(crate) fn resolve(
    env: &dyn Fn(&str) -> Option<String>,
    env_names: &[String],
    file: Option<(&Path, &str)>,
    api: &[ApiSetting],
) -> (Settings, Vec<Problem>) {
    let mut problems = Vec::new();

    for name in env_names {
        let suffix = name.strip_prefix(ENV_PREFIX).unwrap_or(name);
        if !TABLE.iter().any(|s| env_var(s.key) == *name) {
            problems.push(unknown_key(
                suffix,
                &env(name).unwrap_or_default(),
                Source::Environment,
                &format!("environment variable {name}"),
            ));
        }
    }

    let env_values: Vec<Option<String>> = TABLE.iter().map(|s| env(&env_var(s.key))).collect();

    let mut file_values: HashMap<&str, (usize, &str)> = HashMap::new();
    if let Some((path, text)) = file {
        for (i, line) in text.lines().enumerate() {
            let lineno = i + 1;
            let t = line.trim();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let location = format!("{}:{lineno}", path.display());
            let Some((lhs, rhs)) = t.split_once('=') else {
                if let Some(key) = t.strip_prefix(FILE_PREFIX) {
                    problems.push(Problem {
                        key: key.trim().to_owned(),
                        value: String::new(),
                        source: Source::File,
                        message: format!(
                            "line {t:?} at {location} has no '='; expected \
                             {FILE_PREFIX}<key> = <value>; the line is ignored"
                        ),
                    });
                }
                continue;
            };
            let Some(key) = lhs.trim().strip_prefix(FILE_PREFIX) else {
                continue; // another layer's setting
            };
            let key = key.trim();
            if spec(key).is_some() {
                file_values.insert(key, (lineno, rhs.trim()));
            } else {
                problems.push(unknown_key(key, rhs.trim(), Source::File, &location));
            }
        }
    }

    let mut api_values: HashMap<&str, &[ApiValue]> = HashMap::new();
    for s in api {
        if spec(&s.key).is_some() {
            api_values.insert(s.key.as_str(), &s.values);
        } else {
            let value = Raw::Api(&s.values).display();
            problems.push(unknown_key(
                &s.key,
                &value,
                Source::CreateInfo,
                Source::CreateInfo.as_str(),
            ));
        }
    }

    let mut settings = Settings::default();
    for (spec, env_value) in TABLE.iter().zip(&env_values) {
        let mut candidates = Vec::new();
        if let Some(v) = env_value {
            candidates.push(Candidate {
                source: Source::Environment,
                location: format!("environment variable {}", env_var(spec.key)),
                raw: Raw::Text(v),
            });
        }
        if let (Some((path, _)), Some((lineno, v))) = (file, file_values.get(spec.key)) {
            candidates.push(Candidate {
                source: Source::File,
                location: format!("{}:{lineno}", path.display()),
                raw: Raw::Text(v),
            });
        }
        if let Some(v) = api_values.get(spec.key) {
            candidates.push(Candidate {
                source: Source::CreateInfo,
                location: Source::CreateInfo.as_str().to_owned(),
                raw: Raw::Api(v),
            });
        }
        let parsed: Vec<Result<Value, String>> =
            candidates.iter().map(|c| parse(spec.key, c.raw)).collect();
        let winner = parsed.iter().position(Result::is_ok);
        for (i, (c, r)) in candidates.iter().zip(&parsed).enumerate() {
            if let Err(reason) = r {
                let instead = match winner {
                    Some(w) if w < i => format!(
                        "ignored; the value from {} takes precedence",
                        candidates[w].location
                    ),
                    Some(w) => format!("using the value from {}", candidates[w].location),
                    None => format!("using the default ({})", spec.default),
                };
                problems.push(invalid_value(spec, c, reason, &instead));
            }
        }
        if let Some(Ok(v)) = winner.map(|w| &parsed[w]) {
            apply(&mut settings, spec.key, v.clone());
        }
    }
    (settings, problems)
}

fn apply(s: &mut Settings, key: &str, v: Value) {
    match (key, v) {
        ("report_file", Value::Path(p)) => s.report_file = Some(p),
        ("log_file", Value::Path(p)) => s.log_file = Some(p),
        ("ledger_dir", Value::Path(p)) => s.ledger_dir = Some(p),
        ("duplicate_limit", Value::Int(n)) => s.duplicate_limit = n,
        ("message_id_filter", Value::Filter(f)) => s.message_id_filter = f,
        ("debug_action", Value::Action(a)) => s.debug_action = a,
        ("forward_invalid_calls", Value::Bool(b)) => s.forward_invalid_calls = b,
        ("best_practices", Value::Bool(b)) => s.best_practices = b,
        ("peer", Value::Peer(p)) => s.peer = p,
        // parse() returns the shape each key expects; a mismatch is a bug caught by tests.
        (key, v) => debug_assert!(false, "{key} parsed as {v:?}"),
    }
}

fn invalid_value(spec: &SettingSpec, c: &Candidate<'_>, reason: &str, instead: &str) -> Problem {
    let value = c.raw.display();
    Problem {
        key: spec.key.to_owned(),
        message: format!(
            "invalid value {value:?} for setting {key} from {location}: {reason}; \
             accepted: {accepted}; {instead}",
            key = spec.key,
            location = c.location,
            accepted = spec.accepted,
        ),
        value,
        source: c.source,
    }
}

fn unknown_key(key: &str, value: &str, source: Source, location: &str) -> Problem {
    Problem {
        key: key.to_owned(),
        value: value.to_owned(),
        source,
        message: format!(
            "unknown setting {key:?} (value {value:?}) from {location}; it is ignored; \
             known keys: {}",
            known_keys()
        ),
    }
}

/// The settings file to read, if any exists: `VK_LAYER_SETTINGS_PATH` (the file itself, or
/// a directory holding `vk_layer_settings.txt`), else `./vk_layer_settings.txt`, else
/// `$XDG_DATA_HOME/vulkan/settings.d/vk_layer_settings.txt` (default `~/.local/share`).
pub fn settings_file() -> Option<PathBuf> {
    settings_file_with(&|k| std::env::var_os(k), std::env::current_dir().ok())
}

/// [`settings_file`] with the environment and working directory passed in (for tests).
pub(crate) fn settings_file_with(
    env: &dyn Fn(&str) -> Option<OsString>,
    cwd: Option<PathBuf>,
) -> Option<PathBuf> {
    let non_empty = |k: &str| env(k).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(p) = non_empty("VK_LAYER_SETTINGS_PATH") {
        let candidate = if p.is_dir() {
            p.join(SETTINGS_FILE_NAME)
        } else {
            p
        };
        if candidate.is_file() {
            return Some(candidate);
        }
    }
    if let Some(f) = cwd
        .map(|d| d.join(SETTINGS_FILE_NAME))
        .filter(|f| f.is_file())
    {
        return Some(f);
    }
    // The XDG spec says a relative XDG_DATA_HOME is invalid and must be ignored.
    let data_home = non_empty("XDG_DATA_HOME")
        .filter(|p| p.is_absolute())
        .or_else(|| non_empty("HOME").map(|h| h.join(".local/share")))?;
    Some(data_home.join("vulkan/settings.d").join(SETTINGS_FILE_NAME)).filter(|f| f.is_file())
}
