//! Queues, submissions and pending work: correct flows stay silent (lavapipe and the mock's
//! `full` profile), the mock's `vkHandoffMockHoldQueueEXT` reaches the driver through the
//! loader and the layer, `HANDOFF-Sync-release-without-signal` (best_practices), and the
//! semaphore and fence fd rules that need pending work: 01142, 01463, 01134, 01135, 03254
//! and 01454, each with its valid twin.

mod common;
use common::*;
use handoff_rules::catalogue as cat;

/// The synthetic mock profile: 3 queue families, external semaphores and fences with
/// OPAQUE_FD and SYNC_FD, timeline semaphores, async queues with the hold command.
const FULL: Driver = Driver::Mock("full");

fn queues(d: Driver, case: &str) -> Scenario {
    scenario("queues", d).args(["--case", case])
}

/// The checked call succeeded: findings never block these calls.
#[track_caller]
fn call_succeeded(out: &Outcome) {
    assert_eq!(
        out.results()["call"]["code"].as_i64(),
        Some(VK_SUCCESS),
        "{}",
        out.context()
    );
}

/// The one finding of `id` names each of `objects` (result keys).
#[track_caller]
fn names(out: &Outcome, id: &str, objects: &[&str]) {
    let found = out.with_id(id);
    assert_eq!(found.len(), 1, "{}", out.context());
    for o in objects {
        assert!(
            found[0].names(&out.result_str(o)),
            "{id} lacks {o}\n{}",
            out.context()
        );
    }
}

#[test]
fn correct_flow_is_silent_on_the_real_driver() {
    let out = queues(Driver::Real, "flow").run();
    out.assert_ids(&[]);
    assert_eq!(
        out.results()["status_after_idle"],
        true,
        "{}",
        out.context()
    );
    assert_eq!(
        out.results()["hold_found"],
        false,
        "a real driver has no hold command"
    );
}

#[test]
fn correct_flow_with_submit2_is_silent() {
    for d in [Driver::Real, FULL] {
        let out = queues(d, "flow").args(["--sync2"]).run();
        out.assert_ids(&[]);
        assert_eq!(
            out.results()["status_after_idle"],
            true,
            "{}",
            out.context()
        );
    }
}

#[test]
fn submit2_work_is_tracked_as_pending() {
    let id = cat::SEM_IMPORT_PENDING.id;
    let out = queues(FULL, "import-semaphore").args(["--sync2"]).run();
    out.assert_ids(&[id]);
    names(&out, id, &["semaphore", "queue"]);
    let out = queues(FULL, "export-waiting")
        .args(["--sync2", "--valid"])
        .run();
    out.assert_ids(&[]);
}

#[test]
fn correct_flow_is_silent_on_the_mock_full_profile() {
    let out = queues(FULL, "flow").run();
    out.assert_ids(&[]);
    assert_eq!(
        out.results()["counter"].as_u64(),
        Some(1),
        "{}",
        out.context()
    );
    call_succeeded(&out);
}

#[test]
fn hold_reaches_the_mock_through_the_loader_and_the_layer() {
    let out = queues(FULL, "flow").args(["--hold"]).run();
    out.assert_ids(&[]);
    assert_eq!(out.results()["hold_found"], true, "{}", out.context());
    assert_eq!(
        out.results()["held_status"]["name"].as_str(),
        Some("NOT_READY"),
        "{}",
        out.context()
    );
    assert_eq!(
        out.results()["held_wait"]["name"].as_str(),
        Some("TIMEOUT"),
        "{}",
        out.context()
    );
    assert_eq!(out.results()["status_after_idle"], true);
}

#[test]
fn hold_command_without_the_layer() {
    let out = queues(FULL, "flow")
        .args(["--hold"])
        .layer(Layer::Off)
        .run();
    assert_eq!(out.results()["hold_found"], true, "{}", out.context());
    assert_eq!(
        out.results()["held_status"]["name"].as_str(),
        Some("NOT_READY")
    );
}

fn best_practices(s: Scenario) -> Scenario {
    s.env("VK_HANDOFF_VALIDATION_BEST_PRACTICES", "true")
}

#[test]
fn release_without_signal_fires_with_best_practices() {
    let id = cat::SYNC_RELEASE_WITHOUT_SIGNAL.id;
    let out = best_practices(queues(FULL, "release")).run();
    out.assert_ids(&[id]);
    names(&out, id, &["queue", "command_buffer"]);
    assert_eq!(out.with_id(id)[0].severity, "warning");
    call_succeeded(&out);
}

#[test]
fn release_with_a_semaphore_or_a_fence_is_silent() {
    for signal in ["semaphore", "fence"] {
        let out = best_practices(queues(FULL, "release").args(["--signal", signal])).run();
        out.assert_ids(&[]);
        call_succeeded(&out);
    }
}

#[test]
fn release_without_signal_needs_best_practices() {
    let out = queues(FULL, "release").run();
    out.assert_ids(&[]);
}

/// The warning needs a device that could export a semaphore or fence fd: lavapipe has
/// neither VK_KHR_external_semaphore_fd nor VK_KHR_external_fence_fd (silent), NVIDIA has
/// both (fires); the scenario says which the real driver is.
#[test]
fn release_without_signal_needs_a_device_that_could_export_one() {
    let id = cat::SYNC_RELEASE_WITHOUT_SIGNAL.id;
    let out = best_practices(queues(Driver::Real, "release")).run();
    let could = out.results()["sync_fd_extensions"]
        .as_bool()
        .unwrap_or_else(|| panic!("no sync_fd_extensions\n{}", out.context()));
    if could {
        out.assert_ids(&[id]);
        names(&out, id, &["queue", "command_buffer"]);
        let out = best_practices(queues(Driver::Real, "release").args(["--signal", "fence"])).run();
        out.assert_ids(&[]);
        call_succeeded(&out);
    } else {
        out.assert_ids(&[]);
    }
    call_succeeded(&out);
    if Driver::Real.is_lavapipe() {
        assert!(
            !could,
            "lavapipe offers no sync fd extension\n{}",
            out.context()
        );
    }
}

/// `(case, id, objects)`: each fires on the mock `full` profile and its `--valid` twin is
/// silent.
const PENDING_CASES: &[(&str, &str, &[&str])] = &[
    (
        "import-semaphore",
        "VUID-vkImportSemaphoreFdKHR-semaphore-01142",
        &["semaphore", "queue"],
    ),
    (
        "import-fence",
        "VUID-vkImportFenceFdKHR-fence-01463",
        &["fence", "queue"],
    ),
    (
        "export-waiting",
        "VUID-VkSemaphoreGetFdInfoKHR-handleType-01134",
        &["semaphore", "queue"],
    ),
    (
        "export-unsignaled",
        "VUID-VkSemaphoreGetFdInfoKHR-handleType-01135",
        &["semaphore"],
    ),
    (
        "export-unsubmitted",
        "VUID-VkSemaphoreGetFdInfoKHR-handleType-03254",
        &["semaphore", "timeline"],
    ),
    (
        "export-fence",
        "VUID-VkFenceGetFdInfoKHR-handleType-01454",
        &["fence"],
    ),
];

fn pending_case(case: &str) {
    let (_, id, objects) = PENDING_CASES
        .iter()
        .find(|(c, _, _)| *c == case)
        .expect("known case");
    let out = queues(FULL, case).run();
    out.assert_ids(&[id]);
    names(&out, id, objects);
    assert_eq!(out.with_id(id)[0].severity, "error");
    call_succeeded(&out);
    let out = queues(FULL, case).args(["--valid"]).run();
    out.assert_ids(&[]);
    call_succeeded(&out);
}

#[test]
fn import_into_pending_semaphore_fires_01142() {
    pending_case("import-semaphore");
}

#[test]
fn import_into_pending_fence_fires_01463() {
    pending_case("import-fence");
}

#[test]
fn sync_fd_export_while_a_queue_waits_fires_01134() {
    pending_case("export-waiting");
}

#[test]
fn sync_fd_export_of_unsignaled_semaphore_fires_01135() {
    pending_case("export-unsignaled");
}

#[test]
fn sync_fd_export_with_unsubmitted_dependency_fires_03254() {
    pending_case("export-unsubmitted");
}

#[test]
fn sync_fd_export_of_reset_fence_fires_01454() {
    pending_case("export-fence");
}
