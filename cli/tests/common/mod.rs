//! Running the built `handoff` binary in the integration tests of `handoff run` / `report`.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `handoff` binary, looked up at run time like the harness finds the libraries
/// (tests/src/harness/paths.rs), so the test binaries also run from a copied folder
/// (`.dev/` on a GPU machine): `$HANDOFF_LIB_DIR`, next to the test executable, its parent
/// directory (`target/<profile>/` for `deps/`), and last the path cargo built it at.
pub fn handoff_bin() -> String {
    let mut dirs = Vec::new();
    if let Some(d) = std::env::var_os("HANDOFF_LIB_DIR") {
        dirs.push(PathBuf::from(d));
    }
    if let Some(exe_dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf))
    {
        dirs.push(exe_dir.clone());
        dirs.extend(exe_dir.parent().map(Path::to_path_buf));
    }
    dirs.into_iter()
        .map(|d| d.join("handoff"))
        .find(|p| p.is_file())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_handoff").to_owned())
}

/// A fresh directory for one test's files, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("handoff-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    pub fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `handoff ARGS` without colour; its output (stdout then stderr in the text) and status.
pub fn handoff(args: &[&str]) -> (Output, String) {
    handoff_env(args, &[])
}

/// [`handoff`] with `env` added to its environment.
pub fn handoff_env(args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> (Output, String) {
    let output = Command::new(handoff_bin())
        .args(args)
        .envs(env.iter().copied())
        .env_remove("VK_INSTANCE_LAYERS")
        .env_remove("VK_LOADER_LAYERS_ENABLE")
        .env("NO_COLOR", "1")
        .output()
        .expect("run handoff");
    let text = format!(
        "{}\n--- stderr ---\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output, text)
}

/// `handoff run OPTIONS -- handoff example NAME EXAMPLE_ARGS` on the mock ICD (`full`).
pub fn run_example(options: &[&str], example: &str, example_args: &[&str]) -> (Output, String) {
    let bin = handoff_bin();
    let mut args = vec!["run", "--driver", "mock", "--mock-profile", "full"];
    args.extend_from_slice(options);
    args.extend_from_slice(&["--", &bin, "example", example]);
    args.extend_from_slice(example_args);
    handoff(&args)
}

/// The JSON records of a JSON Lines file.
pub fn json_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

/// The finding records of a report.
pub fn findings(records: &[serde_json::Value]) -> Vec<&serde_json::Value> {
    records.iter().filter(|r| r["type"] == "finding").collect()
}

/// A parsed JUnit test case: suite name, case name, failure text (if failing).
#[derive(Debug)]
pub struct Case {
    pub suite: String,
    pub name: String,
    pub failure: Option<String>,
}

/// Parses a JUnit file with a real XML parser and checks the suites' counters.
pub fn junit_cases(path: &Path) -> Vec<Case> {
    let text = std::fs::read_to_string(path).unwrap();
    let doc = roxmltree::Document::parse(&text).expect("well-formed JUnit XML");
    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let mut cases = Vec::new();
    for suite in root.children().filter(|n| n.has_tag_name("testsuite")) {
        let mine: Vec<_> = suite
            .children()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        let failing = mine
            .iter()
            .filter(|c| c.children().any(|n| n.has_tag_name("failure")))
            .count();
        assert_eq!(
            suite.attribute("tests"),
            Some(mine.len().to_string().as_str())
        );
        assert_eq!(
            suite.attribute("failures"),
            Some(failing.to_string().as_str())
        );
        for case in mine {
            let failure = case
                .children()
                .find(|n| n.has_tag_name("failure"))
                .map(|f| {
                    format!(
                        "{}\n{}",
                        f.attribute("message").unwrap_or(""),
                        f.text().unwrap_or("")
                    )
                });
            cases.push(Case {
                suite: suite.attribute("name").unwrap_or("").to_owned(),
                name: case.attribute("name").unwrap_or("").to_owned(),
                failure,
            });
        }
    }
    cases
}
