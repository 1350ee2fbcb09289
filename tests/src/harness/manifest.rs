//! Layer and ICD manifests with absolute library paths, written where a test wants them.
//!
//! Their shape follows `manifest/` (DESIGN.md "manifests").

use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use super::LAYER_NAME;

/// The explicit layer manifest.
pub fn explicit_layer(library: &Path) -> Value {
    json!({
        "file_format_version": "1.2.0",
        "layer": layer_body(library),
    })
}

/// The implicit layer manifest: on with `HANDOFF_ENABLE=1`, off with `HANDOFF_DISABLE=1`.
pub fn implicit_layer(library: &Path) -> Value {
    let mut body = layer_body(library);
    body["enable_environment"] = json!({ "HANDOFF_ENABLE": "1" });
    body["disable_environment"] = json!({ "HANDOFF_DISABLE": "1" });
    json!({
        "file_format_version": "1.2.0",
        "layer": body,
    })
}

fn layer_body(library: &Path) -> Value {
    json!({
        "name": LAYER_NAME,
        "type": "INSTANCE",
        "library_path": path_str(library),
        "api_version": "1.3.239",
        "implementation_version": "1",
        "description": "Handoff: validates Vulkan external-memory interop (export, import, ownership and layout handoff)",
        "instance_extensions": [
            { "name": "VK_EXT_debug_utils", "spec_version": "2" },
            { "name": "VK_EXT_layer_settings", "spec_version": "2" }
        ]
    })
}

/// The mock ICD manifest.
pub fn mock_icd(library: &Path) -> Value {
    json!({
        "file_format_version": "1.0.0",
        "ICD": { "library_path": path_str(library), "api_version": "1.3.239" }
    })
}

fn path_str(p: &Path) -> String {
    assert!(
        p.is_absolute(),
        "manifest library paths must be absolute: {}",
        p.display()
    );
    p.to_str()
        .unwrap_or_else(|| panic!("non-UTF-8 library path {}", p.display()))
        .to_owned()
}

/// Writes `value` as `dir/file_name` (creating `dir`) and returns the file's path.
pub fn write(dir: &Path, file_name: &str, value: &Value) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    let path = dir.join(file_name);
    let text = serde_json::to_string_pretty(value).expect("manifest serializes");
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    path
}
