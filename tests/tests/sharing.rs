//! OPAQUE_FD sharing through the layer: two devices of one process, and two processes.

mod common;
use common::*;

use handoff_tests::app::share::{REPLY_LEN, SEED_EXPORTER, SEED_IMPORTER};

const SIZE: usize = 4096;

on_both_drivers! {
    /// Export on device A, import on device B (same instance): B reads exactly what A wrote,
    /// A reads exactly what B wrote back.
    fn two_devices_share_bytes(d: Driver) {
        let out = scenario("share-devices", d).args(["--size", &SIZE.to_string()]).run();
        out.assert_ids(&[]);
        assert_eq!(out.results()["export"]["code"], 0, "{}", out.context());
        assert_eq!(out.results()["import"]["code"], 0, "{}", out.context());
        assert_eq!(out.result_str("read"), hex(&pattern(SEED_EXPORTER, SIZE)), "{}", out.context());
        assert_eq!(out.result_str("back"), hex(&pattern(SEED_IMPORTER, REPLY_LEN)), "{}", out.context());
    }
}

on_both_drivers! {
    /// Export here, fork+exec a second scenario process, pass the fd over a socketpair
    /// (SCM_RIGHTS); the child imports it on its own instance and device through the layer
    /// and reads exactly the exporter's bytes; its reply is visible to the parent.
    ///
    /// lavapipe backs exportable memory with a memfd and imports by mmap of the fd, so this
    /// works across processes on lavapipe as well as on the mock ICD.
    fn two_processes_share_bytes(d: Driver) {
        let out = scenario("share-process", d).args(["--size", &SIZE.to_string()]).run();
        out.assert_ids(&[]);
        let r = out.results();
        assert_eq!(r["export"]["code"], 0, "{}", out.context());
        assert_eq!(r["child_status"], 0, "{}", out.context());
        assert_eq!(r["child_done"], true, "{}", out.context());
        let child = &r["child"];
        assert_eq!(child["results"]["import"]["code"], 0, "{}", out.context());
        assert_eq!(child["results"]["read"].as_str(), Some(hex(&pattern(SEED_EXPORTER, SIZE)).as_str()), "{}", out.context());
        assert_eq!(out.result_str("back"), hex(&pattern(SEED_IMPORTER, REPLY_LEN)), "{}", out.context());
        let child_ids: Vec<&str> = child["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|f| f["id"].as_str())
            .filter(|id| id.starts_with("VUID-") || id.starts_with("HANDOFF-"))
            .collect();
        assert_eq!(child_ids, Vec::<&str>::new(), "{}", out.context());
    }
}

on_both_drivers! {
    /// The second process runs under the layer too: exporting the memory it imported (not
    /// allocated for export there) is 00671 in the child, naming the child's memory, and
    /// nothing in the parent.
    fn child_process_runs_under_the_layer(d: Driver) {
        let out = scenario("share-process", d).arg("--child-reexport").run();
        out.assert_ids(&[]);
        let child = &out.results()["child"];
        assert_eq!(child["results"]["import"]["code"], 0, "{}", out.context());
        let child_findings: Vec<&serde_json::Value> = child["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| {
                let id = f["id"].as_str().unwrap();
                id.starts_with("VUID-") || id.starts_with("HANDOFF-")
            })
            .collect();
        assert_eq!(child_findings.len(), 1, "{}", out.context());
        assert_eq!(child_findings[0]["id"], NOT_EXPORTED, "{}", out.context());
        let memory = child["results"]["memory"].as_str().unwrap();
        assert_eq!(child_findings[0]["objects"][0]["handle"], memory, "{}", out.context());
    }
}
