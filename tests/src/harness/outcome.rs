//! What a scenario child process left behind: exit status, its JSON line, stderr.

use std::path::{Path, PathBuf};
use std::process::ExitStatus;

use serde::Deserialize;
use serde_json::Value;

use super::driver::Driver;
use super::tempdir::TempDir;

/// One object of a message, as the callback saw it.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Object {
    /// The raw `VkObjectType`.
    #[serde(rename = "type")]
    pub ty: i32,
    /// `0x…`, lower-case hex.
    pub handle: String,
}

/// One debug-utils message the scenario's messengers received.
#[derive(Clone, Debug, Deserialize)]
pub struct Finding {
    /// `pMessageIdName` (empty when null).
    pub id: String,
    /// `messageIdNumber`.
    pub number: i32,
    /// `error`, `warning`, `info` or `verbose`.
    pub severity: String,
    pub objects: Vec<Object>,
    pub message: String,
    /// Which messenger got it: `messenger` (created with vkCreateDebugUtilsMessengerEXT) or
    /// `create_info` (chained on VkInstanceCreateInfo).
    pub via: String,
}

impl Finding {
    /// Whether the id is one of Handoff's: a VUID or a `HANDOFF-` id. Mesa's and the loader's
    /// own messages carry source locations or "Loader Message" and are left out.
    pub fn is_handoff(&self) -> bool {
        self.id.starts_with("VUID-") || self.id.starts_with("HANDOFF-")
    }

    /// Whether `handle` (`0x…`) is among the objects.
    pub fn names(&self, handle: &str) -> bool {
        self.objects.iter().any(|o| o.handle == handle)
    }
}

/// The finished child.
pub struct Outcome {
    pub scenario: String,
    pub driver: Driver,
    pub status: ExitStatus,
    /// The child's process id.
    pub pid: u32,
    pub stdout: String,
    pub stderr: String,
    /// The JSON line (`Value::Null` when the child printed none).
    pub json: Value,
    pub findings: Vec<Finding>,
    pub(crate) dir: TempDir,
}

impl Outcome {
    /// Handoff's finding ids, sorted, with repetitions.
    pub fn handoff_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .findings
            .iter()
            .filter(|f| f.is_handoff())
            .map(|f| f.id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// Handoff's findings as received by one kind of messenger (`messenger`/`create_info`).
    pub fn handoff_ids_via(&self, via: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .findings
            .iter()
            .filter(|f| f.is_handoff() && f.via == via)
            .map(|f| f.id.clone())
            .collect();
        ids.sort();
        ids
    }

    /// The findings with this id.
    pub fn with_id(&self, id: &str) -> Vec<&Finding> {
        self.findings.iter().filter(|f| f.id == id).collect()
    }

    /// `results` of the JSON line.
    pub fn results(&self) -> &Value {
        &self.json["results"]
    }

    /// A string result; panics with context when absent.
    pub fn result_str(&self, key: &str) -> String {
        self.results()[key]
            .as_str()
            .unwrap_or_else(|| panic!("result {key:?} missing or not a string\n{}", self.context()))
            .to_owned()
    }

    /// An integer result; panics with context when absent.
    pub fn result_i64(&self, key: &str) -> i64 {
        self.results()[key].as_i64().unwrap_or_else(|| {
            panic!(
                "result {key:?} missing or not an integer\n{}",
                self.context()
            )
        })
    }

    /// The scenario's private directory (its working directory's parent).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// Everything a failing assertion should print.
    pub fn context(&self) -> String {
        format!(
            "scenario {} on {}: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
            self.scenario,
            self.driver.label(),
            self.status,
            self.stdout.trim_end(),
            self.stderr.trim_end()
        )
    }

    /// Asserts Handoff's ids are exactly `expected` (as a multiset).
    #[track_caller]
    pub fn assert_ids(&self, expected: &[&str]) {
        let mut want: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(
            self.handoff_ids(),
            want,
            "Handoff ids differ\n{}",
            self.context()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::process::ExitStatusExt;

    fn finding(id: &str) -> Finding {
        Finding {
            id: id.to_owned(),
            number: 0,
            severity: "error".to_owned(),
            objects: Vec::new(),
            message: String::new(),
            via: "messenger".to_owned(),
        }
    }

    #[test]
    fn handoff_ids_keep_ours_sorted_with_repeats() {
        let out = Outcome {
            scenario: "x".to_owned(),
            driver: Driver::Mock("lavapipe"),
            status: ExitStatus::from_raw(0),
            pid: 1,
            stdout: String::new(),
            stderr: String::new(),
            json: Value::Null,
            findings: vec![
                finding("VUID-b"),
                finding("Loader Message"),
                finding("../src/gallium/frontends/lavapipe/lvp_device.c:1799"),
                finding("HANDOFF-Leak-live-objects"),
                finding("VUID-b"),
                finding(""),
            ],
            dir: TempDir::new("unit"),
        };
        assert_eq!(
            out.handoff_ids(),
            ["HANDOFF-Leak-live-objects", "VUID-b", "VUID-b"]
        );
    }
}
