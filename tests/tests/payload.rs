//! The payload registry: imports checked against their exporter in the same process
//! (01742, 01878/01879, 01746, 00643/00644), dma-buf memory types (00648), fd reuse,
//! re-export from imported memory, and the implicit parameter ids of the fd getters; with
//! the valid flows that must stay silent (round trip, two instances, repeated exports, dup,
//! SCM_RIGHTS within the process).

mod common;
use common::*;

use handoff_rules::catalogue as cat;

const SIZE_TYPE: &str = cat::IMPORT_PAYLOAD_SIZE_TYPE_MISMATCH.id;
const DEDICATED_IMAGE: &str = cat::IMPORT_DEDICATED_IMAGE_MISMATCH.id;
const DEDICATED_BUFFER: &str = cat::IMPORT_DEDICATED_BUFFER_MISMATCH.id;
const UUID: &str = cat::IMPORT_FD_DEVICE_INCOMPATIBLE.id;
const DMA_BUF_TYPE: &str = cat::IMPORT_DMA_BUF_MEMORY_TYPE.id;
const MASK: &str = cat::IMPORT_DEVICE_MASK_MISMATCH.id;
const DEVICE_SET: &str = cat::IMPORT_DEVICE_SET_MISMATCH.id;
const REUSED: &str = cat::IMPORT_FD_REUSED.id;
const REEXPORT: &str = cat::EXPORT_REEXPORT_NOT_ALLOWED.id;
const NULL_PFD: &str = cat::GET_FD_NULL_FD_POINTER.id;
const GET_TYPE_INVALID: &str = cat::GET_FD_HANDLE_TYPE_INVALID.id;
const IMPORT_TYPE_INVALID: &str = cat::IMPORT_FD_HANDLE_TYPE_INVALID.id;
const PROPS_NULL: &str = cat::FD_PROPERTIES_NULL_OUT.id;
const FD_INVALID: &str = cat::IMPORT_FD_INVALID.id;

const FULL: Driver = Driver::Mock("full");
const NVIDIA: Driver = Driver::Mock("nvidia");
const VK_ERROR_OUT_OF_DEVICE_MEMORY: i64 = -2;

/// The VkResult codes of the scenario's imports, in order.
#[track_caller]
fn imports(out: &Outcome) -> Vec<i64> {
    out.results()["imports"]
        .as_array()
        .unwrap_or_else(|| panic!("no imports\n{}", out.context()))
        .iter()
        .map(|r| r["code"].as_i64().unwrap())
        .collect()
}

#[track_caller]
fn code(out: &Outcome, key: &str) -> i64 {
    out.results()[key]["code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no {key}\n{}", out.context()))
}

/// The objects of the first finding with `id`, as hex strings.
#[track_caller]
fn objects_of(out: &Outcome, id: &str) -> Vec<String> {
    let f = out
        .findings
        .iter()
        .find(|f| f.id == id)
        .unwrap_or_else(|| panic!("no {id}\n{}", out.context()));
    f.objects.iter().map(|o| o.handle.clone()).collect()
}

// ---- valid flows: silent ------------------------------------------------------------

on_both_drivers! {
    /// Export and import of one allocation on the same device: silent, imported.
    fn round_trip_is_silent(d: Driver) {
        let out = scenario("payload", d).run();
        out.assert_ids(&[]);
        assert_eq!(imports(&out), [VK_SUCCESS], "{}", out.context());
    }
}

on_both_drivers! {
    /// Exported on a device of one instance, imported on a device of a second instance of
    /// the same process: silent (physical-device handles of two instances never compare).
    fn two_instances_are_silent(d: Driver) {
        let out = scenario("payload", d).arg("--import-instance").run();
        out.assert_ids(&[]);
        assert_eq!(imports(&out), [VK_SUCCESS], "{}", out.context());
    }
}

on_both_drivers! {
    /// Two exports of one allocation (two fds, maybe the same open file) each imported once:
    /// valid, silent.
    fn two_exports_imported_once_each_are_silent(d: Driver) {
        let out = scenario("payload", d).args(["--exports", "2", "--import-all"]).run();
        out.assert_ids(&[]);
        assert_eq!(imports(&out), [VK_SUCCESS, VK_SUCCESS], "{}", out.context());
    }
}

on_both_drivers! {
    /// A dup() of the exported fd imported: the same payload, valid, silent.
    fn dup_import_is_silent(d: Driver) {
        let out = scenario("payload", d).args(["--via", "dup"]).run();
        out.assert_ids(&[]);
        assert_eq!(imports(&out), [VK_SUCCESS], "{}", out.context());
    }
}

on_both_drivers! {
    /// The fd passed through a unix socket of this process (SCM_RIGHTS, a new number for
    /// the same open file) and imported with the right parameters: silent.
    fn socket_passed_import_is_silent(d: Driver) {
        let out = scenario("payload", d).args(["--via", "socket"]).run();
        out.assert_ids(&[]);
        assert_eq!(imports(&out), [VK_SUCCESS], "{}", out.context());
    }
}

on_both_drivers! {
    /// ... and the same with a wrong allocationSize: the socket-passed fd is recognised as
    /// the exported payload, so 01742 fires.
    fn socket_passed_import_is_recognised(d: Driver) {
        let out = scenario("payload", d)
            .args(["--via", "socket", "--import-size", "131072"])
            .run();
        out.assert_ids(&[SIZE_TYPE]);
    }
}

// ---- lazy exports --------------------------------------------------------------------
//
// `--rounds 1` exports (and imports) once before the payload under test, so the layer has
// seen the device's driver export memfds and records the next export without its inode
// (lavapipe and the mock both export memfds); the import that follows files it.

on_both_drivers! {
    /// The import rules see a lazily recorded export as they see any other: 01742 names the
    /// exporter's memory, on the same device, on a second instance, and through a socket.
    fn lazy_export_is_checked_at_import(d: Driver) {
        for extra in [&[][..], &["--import-instance"], &["--via", "socket"]] {
            let sc = || scenario("payload", d).args(["--rounds", "1"]).args(extra.iter().copied());
            let out = sc().args(["--import-size", "131072"]).run();
            out.assert_ids(&[SIZE_TYPE]);
            let export_memory = out.result_str("export_memory");
            assert!(objects_of(&out, SIZE_TYPE).contains(&export_memory), "{}", out.context());
            // Twin: the export's own size.
            let out = sc().run();
            out.assert_ids(&[]);
            assert_eq!(imports(&out), [VK_SUCCESS], "{}", out.context());
        }
    }
}

on_both_drivers! {
    /// Twenty imports of fresh dups take the quick path; the layer learns whether the driver
    /// closes their fds and stops asking where it does (lavapipe). Importing the last one's
    /// number again is a reuse where the driver kept it (the mock: the reuse id) and an
    /// invalid fd where it closed it (lavapipe).
    fn reuse_after_quick_imports(d: Driver) {
        let out = scenario("payload", d)
            .args(["--via", "dup", "--dup-imports", "20", "--import-last-dup-again"])
            .run();
        if d.is_mock() {
            out.assert_ids(&[REUSED]);
        } else if d.is_lavapipe() {
            out.assert_ids(&[FD_INVALID]);
        }
        let codes = imports(&out);
        assert_eq!(codes.len(), 22, "{}", out.context());
        assert!(codes[..21].iter().all(|&c| c == VK_SUCCESS), "{}", out.context());
        assert_eq!(codes[21], VK_ERROR_INVALID_EXTERNAL_HANDLE, "{}", out.context());
        // Twin: the same imports without the repeat are silent.
        let out = scenario("payload", d).args(["--via", "dup", "--dup-imports", "20"]).run();
        out.assert_ids(&[]);
    }
}

on_both_drivers! {
    /// A second export of memory whose first was recorded lazily files the payload under
    /// its first id: both fds import silently, and a wrong size on either is 01742.
    fn second_export_of_a_lazy_export(d: Driver) {
        let sc = || scenario("payload", d).args(["--rounds", "1", "--exports", "2", "--import-all"]);
        let out = sc().run();
        out.assert_ids(&[]);
        assert_eq!(imports(&out), [VK_SUCCESS, VK_SUCCESS], "{}", out.context());
        let out = sc().args(["--import-size", "131072"]).run();
        out.assert_ids(&[SIZE_TYPE, SIZE_TYPE]);
    }
}

/// A lazily recorded OPAQUE_FD export followed by a DMA_BUF export of the same memory (mock
/// `full`: lavapipe has no dma-buf export): the payload is filed at the DMA_BUF export with
/// both, the OPAQUE_FD one first, so an OPAQUE_FD import of the first fd is still compared
/// with its exporter (01742); its twin with the right size is silent.
#[test]
fn lazy_export_then_another_type_mock_full() {
    let sc = || scenario("payload", FULL).args(["--rounds", "1", "--then-export", "dmabuf"]);
    let out = sc().args(["--import-size", "131072"]).run();
    assert_eq!(code(&out, "then_export"), VK_SUCCESS, "{}", out.context());
    out.assert_ids(&[SIZE_TYPE]);
    let out = sc().run();
    out.assert_ids(&[]);
    assert_eq!(imports(&out), [VK_SUCCESS], "{}", out.context());
}

on_both_drivers! {
    /// A dedicated export is never lazy (its resource's identity is taken at the export):
    /// after a warm round, a dedicated import of another image is still 01878.
    fn dedicated_export_after_a_round_is_01878(d: Driver) {
        let out = scenario("payload", d)
            .args(["--rounds", "1", "--dedicated-export", "image", "--dedicated-import", "image"])
            .args(["--import-width", "32"])
            .run();
        out.assert_ids(&[DEDICATED_IMAGE]);
    }
}

// ---- 01742 ---------------------------------------------------------------------------

on_both_drivers! {
    /// Importing with a larger allocationSize than the export: 01742, naming the importing
    /// device and the exporter's memory. The call still goes down (the driver judges):
    /// lavapipe fails it with VK_ERROR_OUT_OF_DEVICE_MEMORY, the mock with
    /// VK_ERROR_INVALID_EXTERNAL_HANDLE (the memfd is too small).
    fn wrong_allocation_size_is_01742(d: Driver) {
        let out = scenario("payload", d).args(["--import-size", "131072"]).run();
        out.assert_ids(&[SIZE_TYPE]);
        let expected = if d.is_lavapipe() {
            VK_ERROR_OUT_OF_DEVICE_MEMORY
        } else if d.is_mock() {
            VK_ERROR_INVALID_EXTERNAL_HANDLE
        } else {
            imports(&out)[0]
        };
        assert_eq!(imports(&out), [expected], "{}", out.context());
        let export_memory = out.result_str("export_memory");
        assert!(objects_of(&out, SIZE_TYPE).contains(&export_memory), "{}", out.context());
    }
}

/// A memoryTypeIndex other than the exporter's (mock `full`, three memory types; lavapipe
/// has one): 01742, imported anyway by the mock.
#[test]
fn wrong_memory_type_is_01742_mock_full() {
    let out = scenario("payload", FULL)
        .args(["--type-index", "1", "--import-type-index", "2"])
        .run();
    out.assert_ids(&[SIZE_TYPE]);
    assert_eq!(imports(&out), [VK_SUCCESS], "{}", out.context());
}

/// The same on the `nvidia` profile (five memory types, 2 and 3 both host visible).
#[test]
fn wrong_memory_type_is_01742_mock_nvidia() {
    let out = scenario("payload", NVIDIA)
        .args(["--type-index", "2", "--import-type-index", "3"])
        .run();
    out.assert_ids(&[SIZE_TYPE]);
    let twin = scenario("payload", NVIDIA)
        .args(["--type-index", "3", "--import-type-index", "3"])
        .run();
    twin.assert_ids(&[]);
}

// ---- 01878 / 01879 -------------------------------------------------------------------

on_both_drivers! {
    /// Dedicated to identical images on both sides: silent.
    fn dedicated_identical_image_is_silent(d: Driver) {
        let out = scenario("payload", d)
            .args(["--dedicated-export", "image", "--dedicated-import", "image"])
            .run();
        out.assert_ids(&[]);
        assert_eq!(imports(&out), [VK_SUCCESS], "{}", out.context());
    }
}

on_both_drivers! {
    /// Dedicated to an image of another width than the exporter's: 01878.
    fn dedicated_other_image_is_01878(d: Driver) {
        let out = scenario("payload", d)
            .args(["--dedicated-export", "image", "--dedicated-import", "image", "--import-width", "32"])
            .run();
        out.assert_ids(&[DEDICATED_IMAGE]);
    }
}

on_both_drivers! {
    /// Import dedicated to an image of a payload that was no dedicated allocation: 01878.
    fn dedicated_import_of_plain_export_is_01878(d: Driver) {
        let out = scenario("payload", d).args(["--dedicated-import", "image"]).run();
        out.assert_ids(&[DEDICATED_IMAGE]);
    }
}

on_both_drivers! {
    /// Dedicated to identical buffers: silent; to a buffer of another size: 01879.
    fn dedicated_buffer_identity_is_01879(d: Driver) {
        let ok = scenario("payload", d)
            .args(["--dedicated-export", "buffer", "--dedicated-import", "buffer"])
            .run();
        ok.assert_ids(&[]);
        let out = scenario("payload", d)
            .args(["--dedicated-export", "buffer", "--dedicated-import", "buffer", "--import-width", "32"])
            .run();
        out.assert_ids(&[DEDICATED_BUFFER]);
    }
}

on_both_drivers! {
    /// The "dup for every import" pattern: the first fd dup()ed and imported three more
    /// times. Where the driver closes imported fds (lavapipe) each dup gets the number the
    /// previous import consumed: a fresh descriptor the app owns, valid, silent.
    fn dup_for_every_import_is_silent(d: Driver) {
        let out = scenario("payload", d).args(["--via", "dup", "--dup-imports", "3"]).run();
        out.assert_ids(&[]);
        assert_eq!(imports(&out), [VK_SUCCESS; 4], "{}", out.context());
        if d.is_lavapipe() {
            let fds = out.results()["dup_fds"].as_array().unwrap();
            assert!(fds.windows(2).all(|w| w[0] == w[1]), "numbers reused: {}", out.context());
        }
    }
}

// ---- fd reuse --------------------------------------------------------------------------

on_both_drivers! {
    /// Importing the same fd number twice. lavapipe closes the fd on import, so the second
    /// import names a closed fd: 00670 (already the layer's answer). The mock keeps the fd
    /// as its backing, so the number is still the same payload: HANDOFF-Import-fd-reused,
    /// refused with VK_ERROR_INVALID_EXTERNAL_HANDLE.
    fn importing_a_consumed_fd_again(d: Driver) {
        let out = scenario("payload", d).arg("--import-again").run();
        if d.is_mock() {
            out.assert_ids(&[REUSED]);
        } else if d.is_lavapipe() {
            out.assert_ids(&[FD_INVALID]);
        }
        assert_eq!(imports(&out), [VK_SUCCESS, VK_ERROR_INVALID_EXTERNAL_HANDLE], "{}", out.context());
    }
}

// ---- 01746 (UUIDs) ------------------------------------------------------------------

/// Exported on the `full` profile's first physical device, imported on its second (other
/// deviceUUID and driverUUID): 01746 only.
#[test]
fn other_uuid_is_01746_mock_full() {
    let out = scenario("payload", FULL)
        .args(["--import-physical", "1"])
        .run();
    out.assert_ids(&[UUID]);
}

/// Two drivers in one process (the loader lists lavapipe and the mock `nvidia`, whose
/// UUIDs are NVIDIA's): exported on one, imported on the other: 01746 only. A DMA_BUF has
/// no UUID rule (not expressible on lavapipe, which has no dma-buf).
#[test]
fn cross_driver_import_is_01746() {
    if !Driver::Real.is_lavapipe() {
        return;
    }
    let lvp = handoff_tests::harness::driver::real_icd_manifest();
    // The probe writes the mock's manifest into its own directory, alive until the end.
    let probe = scenario("payload", NVIDIA).run();
    let icd = probe.dir().join("icd").join("handoff_mock_icd.json");
    assert!(icd.is_file(), "{}", icd.display());
    let files = format!("{}:{}", icd.display(), lvp.display());
    let out = scenario("payload", NVIDIA)
        .args(["--import-physical", "1"])
        .env("VK_DRIVER_FILES", &files)
        .env("VK_ICD_FILENAMES", &files)
        .run();
    let names = out.results()["physical_devices"].as_array().unwrap();
    assert_eq!(names.len(), 2, "{}", out.context());
    let lavapipe_at = names
        .iter()
        .position(|n| n.as_str().unwrap_or_default().contains("llvmpipe"));
    assert!(lavapipe_at.is_some(), "{}", out.context());
    out.assert_ids(&[UUID]);
}

/// A DMA_BUF crosses the same UUID boundary freely (the compatibility table puts no
/// restriction on it): silent.
#[test]
fn dma_buf_across_uuids_is_silent_mock_full() {
    let out = scenario("payload", FULL)
        .args([
            "--handle-type",
            "dmabuf",
            "--type-index",
            "1",
            "--import-physical",
            "1",
        ])
        .run();
    out.assert_ids(&[]);
    assert_eq!(imports(&out), [VK_SUCCESS], "{}", out.context());
}

// ---- 00643 / 00644 -------------------------------------------------------------------

/// The `full` profile's group of two: a payload of a device made of both physical devices,
/// imported on a device of the first alone: 00644.
#[test]
fn other_device_set_is_00644_mock_full() {
    let out = scenario("payload", FULL)
        .args(["--export-group", "--import-physical", "0"])
        .run();
    assert_eq!(out.results()["group_size"], 2, "{}", out.context());
    out.assert_ids(&[DEVICE_SET]);
    let twin = scenario("payload", FULL)
        .args(["--export-group", "--import-group"])
        .run();
    twin.assert_ids(&[]);
}

on_both_drivers! {
    /// A plain device and a device created with VkDeviceGroupDeviceCreateInfo listing just
    /// that physical device are built from the same set: silent (the layer compares the
    /// handles the loader gives it on both paths).
    fn group_of_one_is_the_plain_device(d: Driver) {
        let out = scenario("payload", d).args(["--import-group-size", "1"]).run();
        out.assert_ids(&[]);
        let out = scenario("payload", d).args(["--export-group-size", "1", "--import-physical", "0"]).run();
        out.assert_ids(&[]);
    }
}

/// Both devices of the group, exported with device mask 0x1, imported with 0x3: 00643;
/// with 0x1 on both: silent.
#[test]
fn other_device_mask_is_00643_mock_full() {
    let out = scenario("payload", FULL)
        .args([
            "--export-group",
            "--import-group",
            "--export-mask",
            "1",
            "--import-mask",
            "3",
        ])
        .run();
    out.assert_ids(&[MASK]);
    let twin = scenario("payload", FULL)
        .args([
            "--export-group",
            "--import-group",
            "--export-mask",
            "1",
            "--import-mask",
            "1",
        ])
        .run();
    twin.assert_ids(&[]);
}

// ---- 00648 ---------------------------------------------------------------------------

/// A dma-buf made outside Vulkan (a memfd, for the mock), imported with memory type 2,
/// which vkGetMemoryFdPropertiesKHR does not list (0x3): 00648; with type 1: silent.
#[test]
fn dma_buf_memory_type_is_00648_mock_full() {
    let base = ["--handle-type", "dmabuf", "--fd", "memfd"];
    let out = scenario("payload", FULL)
        .args(base)
        .args(["--import-type-index", "2"])
        .run();
    out.assert_ids(&[DMA_BUF_TYPE]);
    let twin = scenario("payload", FULL)
        .args(base)
        .args(["--import-type-index", "1"])
        .run();
    twin.assert_ids(&[]);
    assert_eq!(imports(&twin), [VK_SUCCESS], "{}", twin.context());
}

/// A DMA_BUF exported by Vulkan in this process is no "fd created outside Vulkan": no
/// 00648, whatever the type (and no UUID rule).
#[test]
fn vulkan_dma_buf_is_no_00648_mock_full() {
    let out = scenario("payload", FULL)
        .args([
            "--handle-type",
            "dmabuf",
            "--type-index",
            "1",
            "--import-type-index",
            "1",
        ])
        .run();
    out.assert_ids(&[]);
}

// ---- re-export ------------------------------------------------------------------------

/// Memory imported from a dma-buf, exported again as OPAQUE_FD: the `full` profile reports
/// exportFromImportedHandleTypes = DMA_BUF for DMA_BUF imports: a warning; re-exported as
/// DMA_BUF: silent.
#[test]
fn reexport_outside_export_from_imported_warns_mock_full() {
    let base = [
        "--handle-type",
        "dmabuf",
        "--fd",
        "memfd",
        "--import-type-index",
        "1",
    ];
    let out = scenario("payload", FULL)
        .args(base)
        .args(["--reexport", "opaque"])
        .run();
    out.assert_ids(&[REEXPORT]);
    assert_eq!(
        out.findings
            .iter()
            .find(|f| f.id == REEXPORT)
            .unwrap()
            .severity,
        "warning"
    );
    let memory = out.result_str("import_memory");
    assert_eq!(objects_of(&out, REEXPORT)[0], memory, "{}", out.context());
    let twin = scenario("payload", FULL)
        .args(base)
        .args(["--reexport", "dmabuf"])
        .run();
    twin.assert_ids(&[]);
}

on_both_drivers! {
    /// OPAQUE_FD imported and exported again as OPAQUE_FD (declared): the driver lists
    /// OPAQUE_FD in exportFromImportedHandleTypes: silent.
    fn reexport_as_allowed_is_silent(d: Driver) {
        let out = scenario("payload", d).args(["--reexport", "opaque"]).run();
        out.assert_ids(&[]);
        assert_eq!(code(&out, "reexport"), VK_SUCCESS, "{}", out.context());
    }
}

// ---- implicit parameter ids ---------------------------------------------------------

on_both_drivers! {
    /// vkGetMemoryFdKHR with pFd = NULL: refused with VK_ERROR_VALIDATION_FAILED_EXT.
    fn null_pfd_is_refused(d: Driver) {
        let out = scenario("payload-params", d).args(["--case", "null-pfd"]).run();
        out.assert_ids(&[NULL_PFD]);
        assert_eq!(code(&out, "result"), VK_ERROR_VALIDATION_FAILED_EXT, "{}", out.context());
        let ok = scenario("payload-params", d).args(["--case", "valid"]).run();
        ok.assert_ids(&[]);
        assert_eq!(code(&ok, "result"), VK_SUCCESS, "{}", ok.context());
    }
}

on_both_drivers! {
    /// VkMemoryGetFdInfoKHR::handleType with an undefined bit: the parameter id alone (it
    /// replaces 00672 for this value).
    fn undefined_export_type_is_parameter_id(d: Driver) {
        let out = scenario("payload-params", d)
            .args(["--case", "get-type", "--raw", "0x40000000"])
            .run();
        out.assert_ids(&[GET_TYPE_INVALID]);
    }
}

on_both_drivers! {
    /// VkImportMemoryFdInfoKHR::handleType with an undefined bit: the parameter id alone
    /// (it replaces 00669 for this value).
    fn undefined_import_type_is_parameter_id(d: Driver) {
        let out = scenario("payload-params", d)
            .args(["--case", "import-type", "--raw", "0x40000000"])
            .run();
        out.assert_ids(&[IMPORT_TYPE_INVALID]);
    }
}

on_both_drivers! {
    /// vkGetMemoryFdPropertiesKHR with pMemoryFdProperties = NULL: refused with
    /// VK_ERROR_VALIDATION_FAILED_EXT (lavapipe also gets 00674? no: DMA_BUF is asked).
    fn null_fd_properties_is_refused(d: Driver) {
        let out = scenario("payload-params", d).args(["--case", "props-null"]).run();
        out.assert_ids(&[PROPS_NULL]);
        assert_eq!(code(&out, "result"), VK_ERROR_VALIDATION_FAILED_EXT, "{}", out.context());
    }
}

// ---- registry bookkeeping ------------------------------------------------------------

fn state_bytes_after_rounds(d: Driver, rounds: u32) -> u64 {
    let s = scenario("payload", d).args(["--rounds", &rounds.to_string()]);
    let path = s.dir().join("report.jsonl");
    let out = s.env("VK_HANDOFF_VALIDATION_REPORT_FILE", &path).run();
    out.assert_ids(&[]);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}\n{}", path.display(), out.context()));
    let summary: serde_json::Value = text
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|l| l["type"] == "summary")
        .unwrap_or_else(|| panic!("no summary in {text}"));
    summary["state_bytes"].as_u64().unwrap()
}

on_both_drivers! {
    /// The registry forgets what is freed: 300 export → import → free rounds (the mock
    /// keeps every imported fd, so each round also records a consumed fd) leave as many
    /// state bytes as one round.
    fn registry_does_not_grow_with_freed_payloads(d: Driver) {
        let one = state_bytes_after_rounds(d, 1);
        let many = state_bytes_after_rounds(d, 300);
        // Positive: the counter is clamped at 0, so a drift below it would hide.
        assert!(one > 0, "state_bytes {one}");
        assert_eq!(one, many, "state_bytes after 1 round: {one}, after 300: {many}");
    }
}
