//! `handoff manifest` and `handoff install`: the JSON manifests that tell the Vulkan loader
//! where the layer and the mock ICD are.
//!
//! The templates in `manifest/` carry `./lib….so` as `library_path`; what we write carries
//! the absolute path of the library found by [`crate::libs::locate`]. Only that string is
//! replaced, so the written files keep the templates' layout.

use crate::libs::{self, LAYER_LIBRARY, MOCK_ICD_LIBRARY};
use crate::{parse, Failure, Outcome};
use std::path::{Path, PathBuf};

/// The layer name, as users enable it.
pub const LAYER_NAME: &str = "VK_LAYER_HANDOFF_validation";

/// One manifest template.
pub struct Template {
    pub file_name: &'static str,
    text: &'static str,
    /// `"layer"` or `"ICD"`: the object that holds `library_path`.
    object: &'static str,
    library: &'static str,
}

pub const EXPLICIT: Template = Template {
    file_name: "VkLayer_handoff.json",
    text: include_str!("../../manifest/VkLayer_handoff.json"),
    object: "layer",
    library: LAYER_LIBRARY,
};

pub const IMPLICIT: Template = Template {
    file_name: "VkLayer_handoff_implicit.json",
    text: include_str!("../../manifest/VkLayer_handoff_implicit.json"),
    object: "layer",
    library: LAYER_LIBRARY,
};

pub const MOCK_ICD: Template = Template {
    file_name: "handoff_mock_icd.json",
    text: include_str!("../../manifest/handoff_mock_icd.json"),
    object: "ICD",
    library: MOCK_ICD_LIBRARY,
};

/// `library_path` of a manifest's `layer` or `ICD` object, if it has one.
fn library_path_of(json: &serde_json::Value, object: &str) -> Option<String> {
    json.get(object)?
        .get("library_path")?
        .as_str()
        .map(str::to_owned)
}

impl Template {
    /// The manifest text with `library_path` set to `library` (absolute).
    pub fn render(&self, library: &Path) -> Result<String, Failure> {
        let library = library.to_str().ok_or_else(|| {
            Failure::runtime(format!(
                "library path {} is not UTF-8, which a manifest cannot hold",
                library.display()
            ))
        })?;
        let placeholder = format!("\"./{}\"", self.library);
        if self.text.matches(&placeholder).count() != 1 {
            return Err(Failure::runtime(format!(
                "template {} does not hold {placeholder} exactly once",
                self.file_name
            )));
        }
        let quoted = serde_json::to_string(library)
            .map_err(|err| Failure::runtime(format!("cannot quote {library}: {err}")))?;
        let text = self.text.replace(&placeholder, &quoted);
        // Check what we wrote parses and says what we meant.
        let json: serde_json::Value = serde_json::from_str(&text).map_err(|err| {
            Failure::runtime(format!("rendered {} is not JSON: {err}", self.file_name))
        })?;
        if library_path_of(&json, self.object).as_deref() != Some(library) {
            return Err(Failure::runtime(format!(
                "rendered {} lacks {}.library_path",
                self.file_name, self.object
            )));
        }
        Ok(text)
    }

    /// Renders the manifest for the library found by [`libs::locate`].
    pub fn render_located(&self) -> Result<(String, PathBuf), Failure> {
        let library = libs::locate(self.library)?;
        Ok((self.render(&library)?, library))
    }
}

/// Writes `text` to `path` through a temporary file and a rename, so a reader (the loader)
/// never sees half a manifest.
fn write_file(path: &Path, text: &str) -> Result<(), Failure> {
    let temp = path.with_extension(format!("json.tmp-{}", std::process::id()));
    std::fs::write(&temp, text)
        .and_then(|()| std::fs::rename(&temp, path))
        .map_err(|err| {
            let _ = std::fs::remove_file(&temp);
            Failure::runtime(format!("cannot write {}: {err}", path.display()))
        })
}

/// Writes `templates` to `dir` (created if missing) and returns the paths written.
pub fn write_manifests(dir: &Path, templates: &[&Template]) -> Result<Vec<PathBuf>, Failure> {
    // Locate every library before writing anything.
    let rendered = templates
        .iter()
        .map(|t| t.render_located().map(|(text, _)| (t.file_name, text)))
        .collect::<Result<Vec<_>, _>>()?;
    std::fs::create_dir_all(dir)
        .map_err(|err| Failure::runtime(format!("cannot create {}: {err}", dir.display())))?;
    let mut written = Vec::new();
    for (name, text) in rendered {
        let path = dir.join(name);
        write_file(&path, &text)?;
        written.push(path);
    }
    Ok(written)
}

const MANIFEST_USAGE: &str = "\
usage: handoff manifest --out DIR

Writes VkLayer_handoff.json (explicit layer), VkLayer_handoff_implicit.json (implicit layer,
enabled by HANDOFF_ENABLE=1) and handoff_mock_icd.json (Handoff's mock driver) to DIR, each
with the absolute path of its library. Then:

  VK_ADD_LAYER_PATH=DIR VK_INSTANCE_LAYERS=VK_LAYER_HANDOFF_validation PROGRAM

runs PROGRAM with the layer; add VK_DRIVER_FILES=DIR/handoff_mock_icd.json to run it on the
mock driver. Exits 2 when a library is missing (build first: cargo build --release).";

pub fn manifest_command(args: &[String]) -> Outcome {
    let parsed = parse(args, &["--out"], &[], MANIFEST_USAGE)?;
    if parsed.help {
        println!("{MANIFEST_USAGE}");
        return Ok(0);
    }
    let dir = parsed
        .value("--out")
        .ok_or_else(|| Failure::setup(format!("--out DIR is required\n\n{MANIFEST_USAGE}")))?;
    let written = write_manifests(Path::new(dir), &[&EXPLICIT, &IMPLICIT, &MOCK_ICD])?;
    for path in &written {
        println!("wrote {}", path.display());
    }
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| PathBuf::from(dir));
    println!(
        "use: VK_ADD_LAYER_PATH={} VK_INSTANCE_LAYERS={LAYER_NAME} PROGRAM",
        dir.display()
    );
    println!(
        "     add VK_DRIVER_FILES={} to run on the mock driver",
        dir.join(MOCK_ICD.file_name).display()
    );
    Ok(0)
}

const INSTALL_USAGE: &str = "\
usage: handoff install [--implicit] [--user|--system] [--force]

Installs the layer manifest where the Vulkan loader looks for it, pointing at the layer
library of this build (the manifest holds its absolute path: keep the build, or set
HANDOFF_LIB_DIR to where you copied the library before installing).

  --user      $XDG_DATA_HOME/vulkan/explicit_layer.d (default ~/.local/share/...); the default
  --system    /usr/local/share/vulkan/explicit_layer.d (needs root)
  --implicit  the implicit manifest, into implicit_layer.d: the layer is then enabled by
              HANDOFF_ENABLE=1 in the environment (and disabled by HANDOFF_DISABLE=1)
  --force     replace a manifest there that points at another library";

/// Where `install` writes: the data directory (`…/share`) for `--user` or `--system`.
fn data_dir(system: bool) -> Result<PathBuf, Failure> {
    if system {
        return Ok(PathBuf::from("/usr/local/share"));
    }
    // XDG: an unset, empty or relative XDG_DATA_HOME means the default.
    if let Some(dir) = std::env::var_os("XDG_DATA_HOME").map(PathBuf::from) {
        if dir.is_absolute() {
            return Ok(dir);
        }
    }
    match std::env::var_os("HOME").map(PathBuf::from) {
        Some(home) if home.is_absolute() => Ok(home.join(".local/share")),
        _ => Err(Failure::setup(
            "neither XDG_DATA_HOME nor HOME is set to an absolute path; use --system",
        )),
    }
}

pub fn install_command(args: &[String]) -> Outcome {
    let parsed = parse(
        args,
        &[],
        &["--implicit", "--user", "--system", "--force"],
        INSTALL_USAGE,
    )?;
    if parsed.help {
        println!("{INSTALL_USAGE}");
        return Ok(0);
    }
    if parsed.switch("--user") && parsed.switch("--system") {
        return Err(Failure::setup(format!(
            "--user and --system exclude each other\n\n{INSTALL_USAGE}"
        )));
    }
    let implicit = parsed.switch("--implicit");
    let template = if implicit { &IMPLICIT } else { &EXPLICIT };
    let (text, library) = template.render_located()?;
    let dir = data_dir(parsed.switch("--system"))?
        .join("vulkan")
        .join(if implicit {
            "implicit_layer.d"
        } else {
            "explicit_layer.d"
        });
    let path = dir.join(template.file_name);

    // Never silently take over a manifest that loads some other build of the layer.
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let points_at = serde_json::from_str::<serde_json::Value>(&existing)
            .ok()
            .and_then(|json| library_path_of(&json, "layer"));
        let ours = library.to_str();
        if points_at.as_deref() != ours && !parsed.switch("--force") {
            let what = match points_at {
                Some(other) => format!("points at {other}"),
                None => "is not a layer manifest Handoff can read".to_owned(),
            };
            return Err(Failure::runtime(format!(
                "{} already exists and {what}; pass --force to replace it",
                path.display()
            )));
        }
    }
    std::fs::create_dir_all(&dir).map_err(|err| {
        Failure::runtime(format!(
            "cannot create {}: {err}{}",
            dir.display(),
            if parsed.switch("--system") {
                " (--system needs root)"
            } else {
                ""
            }
        ))
    })?;
    write_file(&path, &text)?;
    println!("wrote {} (library {})", path.display(), library.display());
    if implicit {
        println!("the layer is now enabled for any Vulkan program run with HANDOFF_ENABLE=1, e.g.");
        println!("  HANDOFF_ENABLE=1 PROGRAM");
        println!("HANDOFF_DISABLE=1 turns it off again.");
    } else {
        println!("enable it for a program with:");
        println!("  VK_INSTANCE_LAYERS={LAYER_NAME} PROGRAM");
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};
    use VkLayer_handoff::settings::{SettingSpec, ENV_PREFIX, TABLE};

    /// `features.settings` as the code's settings table says it should read, in the shape of
    /// the Khronos layer's manifest (format 1.2.0).
    fn settings_metadata() -> Value {
        let setting = |s: &SettingSpec| {
            let ty = s.manifest_type();
            let default = match ty {
                "BOOL" => json!(s.default == "true"),
                "INT" => json!(s.default.parse::<u64>().expect("int default")),
                "LIST" => json!([]),
                "FLAGS" => json!(s.default.split(',').collect::<Vec<_>>()),
                // No value: the layer's own default (none, or stderr for the log).
                "SAVE_FILE" | "SAVE_FOLDER" => json!(""),
                _ => json!(s.default),
            };
            let mut v = json!({
                "key": s.key,
                "env": format!("{ENV_PREFIX}{}", s.key.to_ascii_uppercase()),
                "label": s.label,
                "description": s.description,
                "type": ty,
                "default": default,
            });
            if ty == "INT" {
                v["range"] = json!({ "min": 0 });
            }
            if !s.values.is_empty() {
                v["flags"] = s
                    .values
                    .iter()
                    .map(|(key, label)| json!({ "key": key, "label": label, "description": label }))
                    .collect();
            }
            v
        };
        TABLE.iter().map(setting).collect()
    }

    #[test]
    fn manifest_settings_match_the_code() {
        let expected = settings_metadata();
        if let Some(out) = std::env::var_os("HANDOFF_BLESS_SETTINGS") {
            std::fs::write(out, serde_json::to_string_pretty(&expected).unwrap()).unwrap();
        }
        for t in [&EXPLICIT, &IMPLICIT] {
            let json: Value = serde_json::from_str(t.text).unwrap();
            assert_eq!(
                json["layer"]["features"]["settings"],
                expected,
                "{}: features.settings differs from the code's settings table; expected\n{}",
                t.file_name,
                serde_json::to_string_pretty(&expected).unwrap()
            );
        }
    }

    #[test]
    fn templates_render_with_absolute_paths() {
        for t in [&EXPLICIT, &IMPLICIT, &MOCK_ICD] {
            let text = t
                .render(Path::new("/opt/h \"q\"/lib.so"))
                .unwrap_or_else(|f| panic!("{}", f.message));
            let json: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(
                library_path_of(&json, t.object).as_deref(),
                Some("/opt/h \"q\"/lib.so")
            );
        }
    }

    #[test]
    fn templates_match_the_design() {
        let explicit: serde_json::Value = serde_json::from_str(EXPLICIT.text).unwrap();
        let implicit: serde_json::Value = serde_json::from_str(IMPLICIT.text).unwrap();
        let icd: serde_json::Value = serde_json::from_str(MOCK_ICD.text).unwrap();
        for layer in [&explicit, &implicit] {
            assert_eq!(layer["file_format_version"], "1.2.0");
            assert_eq!(layer["layer"]["name"], LAYER_NAME);
            assert_eq!(layer["layer"]["type"], "INSTANCE");
            let extensions: Vec<&str> = layer["layer"]["instance_extensions"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["name"].as_str().unwrap())
                .collect();
            assert_eq!(extensions, ["VK_EXT_debug_utils", "VK_EXT_layer_settings"]);
        }
        assert!(explicit["layer"].get("enable_environment").is_none());
        assert_eq!(
            implicit["layer"]["enable_environment"]["HANDOFF_ENABLE"],
            "1"
        );
        assert_eq!(
            implicit["layer"]["disable_environment"]["HANDOFF_DISABLE"],
            "1"
        );
        assert_eq!(icd["ICD"]["library_path"], "./libhandoff_mock_icd.so");
    }
}
