//! Stacking: Handoff above and below VK_LAYER_KHRONOS_validation (Debian package
//! vulkan-validationlayers) and with Mesa's implicit VK_LAYER_MESA_device_select (package
//! mesa-vulkan-drivers, on by default unless NODEVICE_SELECT=1) reports the same findings
//! and nothing crashes.
//!
//! The loader (1.3.239) orders the layers of VK_INSTANCE_LAYERS by where it found them, not
//! by the variable's order, so the order is set with a meta layer whose `component_layers`
//! list is app-side first. `VK_LOADER_DEBUG=layer` makes the loader log each layer it
//! inserts, driver-side first, which the tests use to check the order really was what they
//! asked for. Findings are compared by id only: below the Khronos layer Handoff sees the
//! driver's handles, above it the Khronos layer's wrapped ones. The Khronos layer's own
//! messages (`Validation Error: [ VUID-… ]`, which use VUIDs too) are left out, and the
//! report file, which only Handoff writes, must hold the same ids.

mod common;
use common::*;

use std::path::{Path, PathBuf};

use handoff_rules::catalogue as cat;
use handoff_tests::harness::{manifest, paths, LAYER_NAME};
use serde_json::{json, Value};

const KHRONOS: &str = "VK_LAYER_KHRONOS_validation";
const DEVICE_SELECT: &str = "VK_LAYER_MESA_device_select";
const STACK: &str = "VK_LAYER_HANDOFF_test_stack";
const KHRONOS_MANIFEST: &str = "/usr/share/vulkan/explicit_layer.d/VkLayer_khronos_validation.json";
const DEVICE_SELECT_MANIFEST: &str =
    "/usr/share/vulkan/implicit_layer.d/VkLayer_MESA_device_select.json";

/// Where Handoff sits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stack {
    /// Handoff alone, device_select off (NODEVICE_SELECT=1): the reference.
    Alone,
    /// Handoff with the implicit device_select layer.
    DeviceSelect,
    /// Handoff app-side of the Khronos layer.
    AboveKhronos,
    /// Handoff driver-side of the Khronos layer.
    BelowKhronos,
}

const STACKS: [Stack; 4] = [
    Stack::Alone,
    Stack::DeviceSelect,
    Stack::AboveKhronos,
    Stack::BelowKhronos,
];

/// A meta layer listing `components` app-side first, and Handoff's explicit manifest, in
/// `dir`.
fn write_layers(dir: &Path, components: &[&str]) -> PathBuf {
    manifest::write(
        dir,
        "VkLayer_handoff.json",
        &manifest::explicit_layer(&paths::layer_library()),
    );
    manifest::write(
        dir,
        "VkLayer_handoff_test_stack.json",
        &json!({
            "file_format_version": "1.1.2",
            "layer": {
                "name": STACK,
                "type": "GLOBAL",
                "api_version": "1.3.239",
                "implementation_version": "1",
                "description": "Handoff's tests: a fixed order of layers",
                "component_layers": components,
            }
        }),
    );
    dir.to_path_buf()
}

fn require_layers() {
    for (m, pkg) in [
        (KHRONOS_MANIFEST, "vulkan-validationlayers"),
        (DEVICE_SELECT_MANIFEST, "mesa-vulkan-drivers"),
    ] {
        assert!(
            Path::new(m).is_file(),
            "{m} is missing: install it with `apt-get install {pkg}`"
        );
    }
}

/// The layers the loader inserted into the first instance's chain, app-side first.
fn instance_chain(stderr: &str) -> Vec<String> {
    let mut chain: Vec<String> = stderr
        .lines()
        .take_while(|l| !l.contains("vkCreateInstance layer callstack setup"))
        .filter_map(|l| l.split("Insert instance layer \"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_owned)
        .collect();
    chain.reverse();
    chain
}

/// Runs `name args` with Handoff placed as `stack` and a report file.
fn run(name: &str, args: &[&str], d: Driver, stack: Stack) -> (Outcome, Vec<String>) {
    require_layers();
    let mut s = scenario(name, d).args(args).env("VK_LOADER_DEBUG", "layer");
    let components: &[&str] = match stack {
        Stack::Alone | Stack::DeviceSelect => &[LAYER_NAME],
        Stack::AboveKhronos => &[LAYER_NAME, KHRONOS],
        Stack::BelowKhronos => &[KHRONOS, LAYER_NAME],
    };
    let dir = write_layers(&s.dir().join("stack_layer.d"), components);
    s = s
        .env("VK_ADD_LAYER_PATH", &dir)
        .env("VK_INSTANCE_LAYERS", STACK);
    if stack == Stack::Alone {
        s = s.env("NODEVICE_SELECT", "1");
    }
    if args.contains(&"--setting") {
        // See common::with_create_info_settings: the 1.3.239 loader filters the extension.
        s = s.env("VK_LOADER_DISABLE_INST_EXT_FILTER", "1");
    }
    let path = s.dir().join("report.jsonl");
    let out = s.env("VK_HANDOFF_VALIDATION_REPORT_FILE", &path).run();

    let mut want: Vec<&str> = components.to_vec();
    if stack != Stack::Alone {
        // Implicit layers go app-side of the explicit ones.
        want.insert(0, DEVICE_SELECT);
    }
    assert_eq!(
        instance_chain(&out.stderr),
        want,
        "layer order for {stack:?}\n{}",
        out.context()
    );

    let text = std::fs::read_to_string(&path).unwrap_or_default();
    let mut reported: Vec<String> = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        // The records of muted duplicates (written with the summary) carry `suppressed`.
        .filter(|l| l["type"] == "finding" && l["suppressed"] == 0)
        .filter_map(|l| l["id"].as_str().map(str::to_owned))
        .collect();
    reported.sort();
    (out, reported)
}

/// Handoff's ids as the app's messenger got them, without the Khronos layer's messages.
fn handoff_ids(out: &Outcome) -> Vec<String> {
    let mut ids: Vec<String> = out
        .findings
        .iter()
        .filter(|f| f.is_handoff() && !f.message.starts_with("Validation "))
        .map(|f| f.id.clone())
        .collect();
    ids.sort();
    ids
}

/// The scenario gives exactly `expected` Handoff ids in every stack, in the messenger and
/// in the report file.
#[track_caller]
fn same_everywhere(d: Driver, name: &str, args: &[&str], expected: &[&str]) {
    let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    want.sort();
    for stack in STACKS {
        let (out, reported) = run(name, args, d, stack);
        assert_eq!(
            handoff_ids(&out),
            want,
            "{name} {args:?} {stack:?}\n{}",
            out.context()
        );
        assert_eq!(
            reported,
            want,
            "report file, {name} {args:?} {stack:?}\n{}",
            out.context()
        );
    }
}

const USE_WHILE_RELEASED: &str = cat::OWNERSHIP_USE_WHILE_RELEASED.id;
const BOTH_SPECIAL: &str = "VUID-VkBufferMemoryBarrier-srcQueueFamilyIndex-04087";
const FOREIGN_WITHOUT_EXT: &str = "VUID-VkBufferMemoryBarrier-dstQueueFamilyIndex-09100";

on_both_drivers! {
    /// vkGetMemoryFdKHR on memory allocated without export, and its valid twin.
    fn export_findings_same_in_every_stack(d: Driver) {
        same_everywhere(d, "get-fd", &[], &[NOT_EXPORTED]);
        same_everywhere(d, "get-fd", &["--export", "opaque"], &[]);
        // VkLayerSettingsCreateInfoEXT chained: the Khronos layer 1.3.239 calls it an unknown
        // structure (its message, not ours); Handoff reads it and reports the same.
        same_everywhere(d, "get-fd", &["--repeat", "3", "--setting", "duplicate_limit=int:2"], &[NOT_EXPORTED, NOT_EXPORTED]);
    }
}

on_both_drivers! {
    /// A use of a buffer released to EXTERNAL, submitted, and the twin that acquires it
    /// back first.
    fn ownership_findings_same_in_every_stack(d: Driver) {
        same_everywhere(d, "ownership", &["--steps", "a:use,a:release:general,a:use"], &[USE_WHILE_RELEASED]);
        same_everywhere(
            d,
            "ownership",
            &["--second", "device", "--steps", "a:release:general,b:acquire:general,b:release:general,a:acquire:general"],
            &[],
        );
    }
}

on_both_drivers! {
    /// A barrier from EXTERNAL to FOREIGN without VK_EXT_queue_family_foreign, and a valid
    /// release.
    fn barrier_findings_same_in_every_stack(d: Driver) {
        same_everywhere(d, "barrier", &["--src", "external", "--dst", "foreign"], &[BOTH_SPECIAL, FOREIGN_WITHOUT_EXT]);
        same_everywhere(d, "barrier", &["--src", "0", "--dst", "external"], &[]);
    }
}

on_both_drivers! {
    /// Many threads on two devices with the Khronos layer on either side: no crash, no
    /// Handoff finding, same as alone.
    fn stress_same_in_every_stack(d: Driver) {
        same_everywhere(d, "stress", &["--ops", "500"], &[]);
    }
}
