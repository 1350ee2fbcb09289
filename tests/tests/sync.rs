//! External semaphores and fences (RULES-TARGET 1.15, 1.16): export create infos checked
//! against the driver, fd export and import rules, and imports checked against their
//! exporter in the same process (UUIDs, flags, type); with the round trips that must stay
//! silent. lavapipe has no fd semaphores or fences, so everything past creation runs on the
//! mock ICD (`full`: OPAQUE_FD and SYNC_FD, two physical devices with different UUIDs;
//! `nvidia`: OPAQUE_FD only).

mod common;
use common::*;

use handoff_rules::catalogue as cat;

const FULL: Driver = Driver::Mock("full");
const NVIDIA: Driver = Driver::Mock("nvidia");
const VK_ERROR_UNKNOWN: i64 = -13;

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
        .with_id(id)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("no {id}\n{}", out.context()));
    f.objects.iter().map(|o| o.handle.clone()).collect()
}

fn sync(d: Driver, args: &[&str]) -> Outcome {
    scenario("sync", d).args(args).run()
}

// ---- valid round trips: silent ---------------------------------------------------------

/// OPAQUE_FD and SYNC_FD, semaphore and fence, exported and imported on one device (SYNC_FD
/// after a submitted signal, imported TEMPORARY): silent, imported.
#[test]
fn round_trips_are_silent_mock_full() {
    for kind in ["semaphore", "fence"] {
        for (ty, flags) in [("opaque", "0"), ("sync", "1")] {
            let out = sync(
                FULL,
                &["--kind", kind, "--handle-type", ty, "--import-flags", flags],
            );
            out.assert_ids(&[]);
            assert_eq!(code(&out, "export"), VK_SUCCESS, "{}", out.context());
            assert_eq!(code(&out, "import"), VK_SUCCESS, "{}", out.context());
        }
    }
}

/// A timeline semaphore shared as OPAQUE_FD into a timeline semaphore, permanently: silent.
#[test]
fn timeline_round_trip_is_silent_mock_full() {
    let out = sync(FULL, &["--export-timeline", "--import-timeline"]);
    out.assert_ids(&[]);
    assert_eq!(code(&out, "import"), VK_SUCCESS, "{}", out.context());
}

/// OPAQUE_FD round trips on the `nvidia` profile, and into a device of a second instance
/// (same UUIDs): silent.
#[test]
fn opaque_round_trips_are_silent_mock_nvidia() {
    for kind in ["semaphore", "fence"] {
        for extra in [&[][..], &["--import-instance"][..]] {
            let mut args = vec!["--kind", kind];
            args.extend_from_slice(extra);
            let out = sync(NVIDIA, &args);
            out.assert_ids(&[]);
            assert_eq!(code(&out, "import"), VK_SUCCESS, "{}", out.context());
        }
    }
}

/// A SYNC_FD crosses a UUID boundary freely (the compatibility table puts no device rule on
/// sync files): silent.
#[test]
fn sync_fd_across_uuids_is_silent_mock_full() {
    for kind in ["semaphore", "fence"] {
        let out = sync(
            FULL,
            &[
                "--kind",
                kind,
                "--handle-type",
                "sync",
                "--import-flags",
                "1",
                "--import-physical",
                "1",
            ],
        );
        out.assert_ids(&[]);
        assert_eq!(code(&out, "import"), VK_SUCCESS, "{}", out.context());
    }
}

/// A SYNC_FD of -1 (an already signaled sync file) imported TEMPORARY: silent; -5 is no fd
/// at all: 01544 / 01541, stopped.
#[test]
fn sync_fd_minus_one_mock_full() {
    for (kind, id) in [
        ("semaphore", cat::SEM_IMPORT_FD_INCOMPATIBLE.id),
        ("fence", cat::FENCE_IMPORT_FD_INCOMPATIBLE.id),
    ] {
        let args = |source| {
            vec![
                "--kind",
                kind,
                "--handle-type",
                "sync",
                "--import-flags",
                "1",
                "--fd-source",
                source,
            ]
        };
        let out = sync(FULL, &args("minus-one"));
        out.assert_ids(&[]);
        assert_eq!(code(&out, "import"), VK_SUCCESS, "{}", out.context());
        let out = sync(FULL, &args("negative"));
        out.assert_ids(&[id]);
        assert_eq!(
            code(&out, "import"),
            VK_ERROR_INVALID_EXTERNAL_HANDLE,
            "{}",
            out.context()
        );
    }
}

// ---- 01124 / 01446: export types the driver supports ----------------------------------

on_both_drivers! {
    /// An export create info naming a type the driver cannot export is 01124 / 01446 (the
    /// scenario asks the driver which: lavapipe and the mock imitating it export nothing,
    /// so OPAQUE_FD; NVIDIA 580 exports OPAQUE_FD but not SYNC_FD); without one, silent.
    fn unsupported_export_types_fire(d: Driver) {
        let unsupported = ["--export-types", "unsupported", "--no-export"];
        let out = sync(d, &unsupported);
        out.assert_ids(&[cat::SEM_EXPORT_TYPES_UNSUPPORTED.id]);
        let out = sync(d, &[&["--kind", "fence"][..], &unsupported].concat());
        out.assert_ids(&[cat::FENCE_EXPORT_TYPES_UNSUPPORTED.id]);
        if lavapipe_like(d) {
            assert_eq!(out.results()["export_types"], 1, "{}", out.context());
        }
        for kind in ["semaphore", "fence"] {
            let out = sync(d, &["--kind", kind, "--export-types", "0", "--no-export"]);
            out.assert_ids(&[]);
            assert_eq!(code(&out, "create"), VK_SUCCESS, "{}", out.context());
        }
    }
}

/// `full`: OPAQUE_FD and SYNC_FD are each exportable, but not compatible with each other
/// (01124 / 01446); SYNC_FD is not exportable from a timeline semaphore (01124); each alone
/// is silent.
#[test]
fn incompatible_export_types_mock_full() {
    let out = sync(FULL, &["--export-types", "0x11", "--no-export"]);
    out.assert_ids(&[cat::SEM_EXPORT_TYPES_UNSUPPORTED.id]);
    let out = sync(
        FULL,
        &["--kind", "fence", "--export-types", "0x9", "--no-export"],
    );
    out.assert_ids(&[cat::FENCE_EXPORT_TYPES_UNSUPPORTED.id]);
    let out = sync(
        FULL,
        &["--handle-type", "sync", "--export-timeline", "--no-export"],
    );
    out.assert_ids(&[cat::SEM_EXPORT_TYPES_UNSUPPORTED.id]);
    let out = sync(FULL, &["--export-timeline", "--no-export"]);
    out.assert_ids(&[]);
    for kind in ["semaphore", "fence"] {
        let out = sync(
            FULL,
            &["--kind", kind, "--handle-type", "sync", "--no-export"],
        );
        out.assert_ids(&[]);
    }
}

/// `nvidia` has no SYNC_FD: 01124 / 01446.
#[test]
fn sync_fd_export_unsupported_mock_nvidia() {
    let out = sync(NVIDIA, &["--handle-type", "sync", "--no-export"]);
    out.assert_ids(&[cat::SEM_EXPORT_TYPES_UNSUPPORTED.id]);
    let out = sync(
        NVIDIA,
        &["--kind", "fence", "--handle-type", "sync", "--no-export"],
    );
    out.assert_ids(&[cat::FENCE_EXPORT_TYPES_UNSUPPORTED.id]);
}

/// Undefined handle-type bits: the implicit -parameter id (the driver is not asked about
/// them).
#[test]
fn undefined_export_bits_mock_full() {
    let out = sync(FULL, &["--export-types", "0x101", "--no-export"]);
    out.assert_ids(&[cat::SEM_EXPORT_TYPES_INVALID.id]);
    let out = sync(
        FULL,
        &["--kind", "fence", "--export-types", "0x101", "--no-export"],
    );
    out.assert_ids(&[cat::FENCE_EXPORT_TYPES_INVALID.id]);
}

// ---- vkGet{Semaphore,Fence}FdKHR ------------------------------------------------------

/// A type not requested at creation: 01132 / 01453 (the mock refuses too).
#[test]
fn export_of_unrequested_type_mock_full() {
    let out = sync(FULL, &["--get-type", "sync"]);
    out.assert_ids(&[cat::SEM_GET_FD_NOT_EXPORTED.id]);
    let out = sync(FULL, &["--kind", "fence", "--get-type", "sync"]);
    out.assert_ids(&[cat::FENCE_GET_FD_NOT_EXPORTED.id]);
}

/// A Win32 type through the fd getter: 01136 / 01456; several bits: -parameter instead.
#[test]
fn export_of_non_fd_types_mock_full() {
    let out = sync(FULL, &["--get-type", "0x2"]);
    out.assert_ids(&[cat::SEM_GET_FD_NOT_FD.id]);
    let out = sync(FULL, &["--kind", "fence", "--get-type", "0x2"]);
    out.assert_ids(&[cat::FENCE_GET_FD_NOT_FD.id]);
    let out = sync(FULL, &["--get-type", "0x3"]);
    out.assert_ids(&[cat::SEM_GET_FD_TYPE_INVALID.id]);
    let out = sync(FULL, &["--kind", "fence", "--get-type", "0x9"]);
    out.assert_ids(&[cat::FENCE_GET_FD_TYPE_INVALID.id]);
}

/// pFd = NULL: the -pFd-parameter id, and the call is stopped.
#[test]
fn null_fd_pointer_mock_full() {
    for (kind, id) in [
        ("semaphore", cat::SEM_GET_FD_NULL_FD.id),
        ("fence", cat::FENCE_GET_FD_NULL_FD.id),
    ] {
        let out = sync(FULL, &["--kind", kind, "--null-fd"]);
        out.assert_ids(&[id]);
        assert_eq!(
            code(&out, "export"),
            VK_ERROR_VALIDATION_FAILED_EXT,
            "{}",
            out.context()
        );
    }
}

/// With `forward_invalid_calls` the layer still reports a NULL pFd but lets the driver
/// answer (the mock: VK_ERROR_UNKNOWN).
#[test]
fn null_fd_pointer_forwarded_on_request_mock_full() {
    let out = scenario("sync", FULL)
        .args(["--kind", "fence", "--null-fd"])
        .env("VK_HANDOFF_VALIDATION_FORWARD_INVALID_CALLS", "true")
        .run();
    out.assert_ids(&[cat::FENCE_GET_FD_NULL_FD.id]);
    assert_eq!(code(&out, "export"), VK_ERROR_UNKNOWN, "{}", out.context());
}

/// A destroyed semaphore or fence: the -parameter id, and the call is stopped.
#[test]
fn export_from_destroyed_object_mock_full() {
    for (kind, id) in [
        ("semaphore", cat::SEM_GET_FD_UNKNOWN.id),
        ("fence", cat::FENCE_GET_FD_UNKNOWN.id),
    ] {
        let out = sync(FULL, &["--kind", kind, "--unknown-export"]);
        out.assert_ids(&[id]);
        assert_eq!(
            code(&out, "export"),
            VK_ERROR_VALIDATION_FAILED_EXT,
            "{}",
            out.context()
        );
    }
}

/// SYNC_FD from a timeline semaphore: 03253 (after 01124 at creation: `full` offers
/// SYNC_FD for binary semaphores only).
#[test]
fn sync_fd_from_timeline_mock_full() {
    let out = sync(
        FULL,
        &["--handle-type", "sync", "--export-timeline", "--no-signal"],
    );
    out.assert_ids(&[
        cat::SEM_EXPORT_TYPES_UNSUPPORTED.id,
        cat::SEM_GET_FD_SYNC_TIMELINE.id,
    ]);
}

/// Export from an object whose current payload is a temporary SYNC_FD import:
/// exportFromImportedHandleTypes of SYNC_FD is SYNC_FD only on `full`, so an OPAQUE_FD
/// export is 01133 / 01455. A permanent OPAQUE_FD import re-exported as OPAQUE_FD is
/// allowed, silent; a fence reset or a semaphore wait ends the temporary import, silent too.
#[test]
fn export_from_imported_payload_mock_full() {
    let common = [
        "--handle-type",
        "sync",
        "--import-flags",
        "1",
        "--import-export-types",
        "1",
        "--then-export",
        "opaque",
    ];
    let mut args = vec!["--kind", "semaphore"];
    args.extend_from_slice(&common);
    let out = sync(FULL, &args);
    out.assert_ids(&[cat::SEM_GET_FD_FROM_IMPORTED.id]);
    assert_eq!(
        objects_of(&out, cat::SEM_GET_FD_FROM_IMPORTED.id)[0],
        out.result_str("importer"),
        "{}",
        out.context()
    );
    let mut args = vec!["--kind", "fence"];
    args.extend_from_slice(&common);
    let out = sync(FULL, &args);
    out.assert_ids(&[cat::FENCE_GET_FD_FROM_IMPORTED.id]);
    args.push("--reset-first");
    let out = sync(FULL, &args);
    out.assert_ids(&[]);
    assert_eq!(code(&out, "reexport"), VK_SUCCESS, "{}", out.context());
    let mut args = vec!["--kind", "semaphore", "--wait-first"];
    args.extend_from_slice(&common);
    let out = sync(FULL, &args);
    out.assert_ids(&[]);
    assert_eq!(code(&out, "reexport"), VK_SUCCESS, "{}", out.context());
    for kind in ["semaphore", "fence"] {
        let out = sync(
            FULL,
            &[
                "--kind",
                kind,
                "--import-export-types",
                "1",
                "--then-export",
                "opaque",
            ],
        );
        out.assert_ids(&[]);
        assert_eq!(code(&out, "reexport"), VK_SUCCESS, "{}", out.context());
    }
}

// ---- vkImport{Semaphore,Fence}FdKHR: parameters ---------------------------------------

/// SYNC_FD imported permanently: 07307 / 07306.
#[test]
fn sync_fd_import_must_be_temporary_mock_full() {
    let out = sync(FULL, &["--handle-type", "sync"]);
    out.assert_ids(&[cat::SEM_IMPORT_SYNC_FD_PERMANENT.id]);
    let out = sync(FULL, &["--kind", "fence", "--handle-type", "sync"]);
    out.assert_ids(&[cat::FENCE_IMPORT_SYNC_FD_PERMANENT.id]);
}

/// A Win32 handle type through the fd import: 01143 / 01464; several bits and undefined
/// flags: the -parameter ids.
#[test]
fn import_parameters_mock_full() {
    let out = sync(FULL, &["--import-type", "0x2"]);
    out.assert_ids(&[cat::SEM_IMPORT_TYPE_NOT_FD.id]);
    let out = sync(FULL, &["--kind", "fence", "--import-type", "0x4"]);
    out.assert_ids(&[cat::FENCE_IMPORT_TYPE_NOT_FD.id]);
    let out = sync(FULL, &["--import-type", "0x3"]);
    out.assert_ids(&[cat::SEM_IMPORT_TYPE_INVALID.id]);
    let out = sync(FULL, &["--kind", "fence", "--import-flags", "0x2"]);
    out.assert_ids(&[cat::FENCE_IMPORT_FLAGS_INVALID.id]);
    let out = sync(FULL, &["--import-flags", "0x2"]);
    out.assert_ids(&[cat::SEM_IMPORT_FLAGS_INVALID.id]);
    let out = sync(FULL, &["--kind", "fence", "--import-type", "0x3"]);
    out.assert_ids(&[cat::FENCE_IMPORT_TYPE_INVALID.id]);
}

/// Import into a destroyed object: the -parameter id, stopped with
/// VK_ERROR_INVALID_EXTERNAL_HANDLE.
#[test]
fn import_into_destroyed_object_mock_full() {
    for (kind, id) in [
        ("semaphore", cat::SEM_IMPORT_UNKNOWN.id),
        ("fence", cat::FENCE_IMPORT_UNKNOWN.id),
    ] {
        let out = sync(FULL, &["--kind", kind, "--unknown-import"]);
        out.assert_ids(&[id]);
        assert_eq!(
            code(&out, "import"),
            VK_ERROR_INVALID_EXTERNAL_HANDLE,
            "{}",
            out.context()
        );
    }
}

// ---- 01544 / 01541: what the fd is ------------------------------------------------------

/// Not open, a pipe, a directory, a memory payload, the other kind's payload: 01544 /
/// 01541, stopped with VK_ERROR_INVALID_EXTERNAL_HANDLE.
#[test]
fn fd_that_is_no_payload_mock_full() {
    for (kind, id) in [
        ("semaphore", cat::SEM_IMPORT_FD_INCOMPATIBLE.id),
        ("fence", cat::FENCE_IMPORT_FD_INCOMPATIBLE.id),
    ] {
        for source in ["closed", "pipe", "directory", "memory", "other-kind"] {
            let out = sync(FULL, &["--kind", kind, "--fd-source", source]);
            out.assert_ids(&[id]);
            assert_eq!(
                code(&out, "import"),
                VK_ERROR_INVALID_EXTERNAL_HANDLE,
                "{source}: {}",
                out.context()
            );
        }
    }
}

/// A semaphore or fence OPAQUE_FD imported as memory: 00670 (the memory import's id for
/// an fd that is no memory handle).
#[test]
fn sync_payload_imported_as_memory_mock_full() {
    for kind in ["semaphore", "fence"] {
        let out = sync(FULL, &["--kind", kind, "--import-as-memory"]);
        out.assert_ids(&[cat::IMPORT_FD_INVALID.id]);
        assert_eq!(
            code(&out, "memory_import"),
            VK_ERROR_INVALID_EXTERNAL_HANDLE,
            "{}",
            out.context()
        );
    }
}

/// OPAQUE_FD exported on the `full` profile's first physical device and imported on its
/// second (other deviceUUID and driverUUID): 01544 / 01541, naming both objects.
#[test]
fn opaque_fd_across_uuids_mock_full() {
    for (kind, id) in [
        ("semaphore", cat::SEM_IMPORT_FD_INCOMPATIBLE.id),
        ("fence", cat::FENCE_IMPORT_FD_INCOMPATIBLE.id),
    ] {
        let out = sync(FULL, &["--kind", kind, "--import-physical", "1"]);
        out.assert_ids(&[id]);
        let objects = objects_of(&out, id);
        assert_eq!(objects.len(), 4, "{}", out.context());
        assert_eq!(objects[0], out.result_str("importer"), "{}", out.context());
        assert_eq!(objects[2], out.result_str("exporter"), "{}", out.context());
        assert_eq!(
            code(&out, "import"),
            VK_ERROR_INVALID_EXTERNAL_HANDLE,
            "{}",
            out.context()
        );
    }
}

/// A dup of the exported fd is the same payload: recognised across the UUID boundary
/// (01544), and silent on the exporting device.
#[test]
fn dup_of_export_is_recognised_mock_full() {
    let out = sync(FULL, &["--dup", "--import-physical", "1"]);
    out.assert_ids(&[cat::SEM_IMPORT_FD_INCOMPATIBLE.id]);
    let out = sync(FULL, &["--kind", "fence", "--dup"]);
    out.assert_ids(&[]);
    assert_eq!(code(&out, "import"), VK_SUCCESS, "{}", out.context());
}

// ---- 03263 / 03264 / 03323: the exporter's flags and type ------------------------------

/// OPAQUE_FD into a semaphore created with other flags: 03263, naming the importing
/// semaphore, its device and the exporting semaphore.
#[test]
fn opaque_import_flags_differ_mock_full() {
    let out = sync(FULL, &["--import-create-flags", "1"]);
    out.assert_ids(&[cat::SEM_IMPORT_FLAGS_DIFFER.id]);
    let objects = objects_of(&out, cat::SEM_IMPORT_FLAGS_DIFFER.id);
    assert_eq!(objects.len(), 3, "{}", out.context());
    assert_eq!(objects[0], out.result_str("importer"), "{}", out.context());
    assert_eq!(objects[2], out.result_str("exporter"), "{}", out.context());
}

/// OPAQUE_FD of a binary semaphore into a timeline one, and the reverse: 03264.
#[test]
fn opaque_import_type_differs_mock_full() {
    let out = sync(FULL, &["--import-timeline"]);
    out.assert_ids(&[cat::SEM_IMPORT_TYPE_DIFFERS.id]);
    let out = sync(FULL, &["--export-timeline"]);
    out.assert_ids(&[cat::SEM_IMPORT_TYPE_DIFFERS.id]);
}

/// A timeline payload imported TEMPORARY: 03323; the same import permanent is silent
/// (timeline_round_trip_is_silent).
#[test]
fn temporary_timeline_import_mock_full() {
    let out = sync(
        FULL,
        &[
            "--export-timeline",
            "--import-timeline",
            "--import-flags",
            "1",
        ],
    );
    out.assert_ids(&[cat::SEM_IMPORT_TEMPORARY_TIMELINE.id]);
}
