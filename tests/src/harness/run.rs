//! One scenario, one child process: the environment, the timeout, the JSON line.

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::driver::{real_icd_manifest, Driver};
use super::outcome::{Finding, Outcome};
use super::tempdir::TempDir;
use super::{manifest, paths, LAYER_NAME};

/// How the layer is made available to the child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    /// `VK_ADD_LAYER_PATH` at the explicit manifest and `VK_INSTANCE_LAYERS` naming it.
    Enabled,
    /// `VK_ADD_LAYER_PATH` only: the loader lists the layer, nothing enables it.
    Listed,
    /// The implicit manifest in `$XDG_DATA_HOME/vulkan/implicit_layer.d`.
    Implicit,
    /// No manifest anywhere the loader looks.
    Off,
}

/// Default time a scenario may take before it is killed.
pub const TIMEOUT: Duration = Duration::from_secs(60);

/// A scenario about to run.
pub struct Scenario {
    name: String,
    driver: Driver,
    args: Vec<OsString>,
    env: Vec<(OsString, OsString)>,
    layer: Layer,
    fallback_bin: Option<String>,
    timeout: Duration,
    dir: TempDir,
}

impl Scenario {
    pub fn new(name: &str, driver: Driver) -> Scenario {
        Scenario {
            name: name.to_owned(),
            driver,
            args: Vec::new(),
            env: Vec::new(),
            layer: Layer::Enabled,
            fallback_bin: None,
            timeout: TIMEOUT,
            dir: TempDir::new(name),
        }
    }

    /// Where `handoff-scenario` is when it is not next to the test (cargo's
    /// `CARGO_BIN_EXE_handoff-scenario`).
    pub fn fallback_bin(mut self, path: &str) -> Self {
        self.fallback_bin = Some(path.to_owned());
        self
    }

    pub fn arg(mut self, a: impl AsRef<OsStr>) -> Self {
        self.args.push(a.as_ref().to_owned());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_owned()));
        self
    }

    /// Sets a variable in the child (after the harness's own, so it wins).
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.env
            .push((key.as_ref().to_owned(), value.as_ref().to_owned()));
        self
    }

    pub fn layer(mut self, layer: Layer) -> Self {
        self.layer = layer;
        self
    }

    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = t;
        self
    }

    /// The scenario's private directory; files a test puts here live as long as the outcome.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Runs the child and requires exit status 0 and a JSON line.
    #[track_caller]
    pub fn run(self) -> Outcome {
        let out = self.run_any();
        if !out.status.success() || out.json.is_null() {
            panic!("the scenario failed\n{}", out.context());
        }
        out
    }

    /// Runs the child whatever its exit status.
    #[track_caller]
    pub fn run_any(self) -> Outcome {
        paths::require_vulkan_loader();
        let bin = paths::scenario_binary(self.fallback_bin.as_deref());
        let wrapper = wrapper();
        let mut cmd = match wrapper.split_first() {
            Some((prog, rest)) => {
                let mut c = Command::new(prog);
                c.args(rest).arg(&bin);
                c
            }
            None => Command::new(&bin),
        };
        cmd.arg(&self.name).args(&self.args);
        // A wrapper such as valgrind runs the child many times slower.
        let timeout = if wrapper.is_empty() {
            self.timeout
        } else {
            self.timeout * wrapper_timeout_scale()
        };
        self.prepare_env(&mut cmd);
        let cwd = self.dir.subdir("cwd");
        cmd.current_dir(&cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Its own process group, so a timeout also ends the scenario's own children.
            .process_group(0);

        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let pid = child.id();
        let mut so = child.stdout.take().expect("piped stdout");
        let mut se = child.stderr.take().expect("piped stderr");
        let t_out = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = so.read_to_end(&mut v);
            v
        });
        let t_err = std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = se.read_to_end(&mut v);
            v
        });

        let start = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if start.elapsed() > timeout => {
                    let pgid = child.id() as libc::pid_t;
                    // Where it hung, taken before the kill.
                    let stacks = thread_stacks(pgid);
                    // SAFETY: kill() with the process group we created for this child; no
                    // memory is involved.
                    unsafe {
                        libc::kill(-pgid, libc::SIGKILL);
                    }
                    let _ = child.wait();
                    let stderr =
                        String::from_utf8_lossy(&t_err.join().unwrap_or_default()).into_owned();
                    let stdout =
                        String::from_utf8_lossy(&t_out.join().unwrap_or_default()).into_owned();
                    panic!(
                        "scenario {} on {} timed out after {:?} and was killed\n--- stdout ---\n{}\n--- stderr ---\n{}\n--- thread stacks (gdb) ---\n{}",
                        self.name,
                        self.driver.label(),
                        timeout,
                        stdout,
                        stderr,
                        stacks
                    );
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                Err(e) => panic!("waiting for scenario {}: {e}", self.name),
            }
        };
        let stdout = String::from_utf8_lossy(&t_out.join().unwrap_or_default()).into_owned();
        let stderr = String::from_utf8_lossy(&t_err.join().unwrap_or_default()).into_owned();
        let json = stdout
            .lines()
            .rev()
            .find(|l| l.trim_start().starts_with('{'))
            .and_then(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .unwrap_or(serde_json::Value::Null);
        let findings: Vec<Finding> = match json.get("findings") {
            Some(f) => serde_json::from_value(f.clone())
                .unwrap_or_else(|e| panic!("bad findings in {stdout}: {e}")),
            None => Vec::new(),
        };
        Outcome {
            scenario: self.name,
            driver: self.driver,
            status,
            pid,
            stdout,
            stderr,
            json,
            findings,
            dir: self.dir,
        }
    }

    fn prepare_env(&self, cmd: &mut Command) {
        // The wrapper's own variables (valgrind reads VALGRIND_OPTS) pass through untouched:
        // only the Vulkan- and Handoff-related ones are cleared below.
        // Nothing Vulkan- or Handoff-related leaks in from the test runner's environment.
        for (k, _) in std::env::vars_os() {
            let Some(key) = k.to_str() else { continue };
            if key.starts_with("VK_")
                || key.starts_with("HANDOFF_")
                || key == "RUST_LOG"
                || key == "HOME"
                || key.starts_with("XDG_DATA")
                || key.starts_with("XDG_CONFIG")
            {
                cmd.env_remove(&k);
            }
        }
        if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
            cmd.env("XDG_RUNTIME_DIR", "/tmp");
        }
        // Never the real home: the loader would read layers and settings from it.
        let home = self.dir.subdir("home");
        let data = self.dir.subdir("data");
        let config = self.dir.subdir("config");
        cmd.env("HOME", &home)
            .env("XDG_DATA_HOME", &data)
            .env("XDG_CONFIG_HOME", &config);

        let icd = match self.driver {
            Driver::Real => real_icd_manifest(),
            Driver::Mock(profile) => {
                cmd.env("HANDOFF_MOCK_PROFILE", profile);
                manifest::write(
                    &self.dir.subdir("icd"),
                    "handoff_mock_icd.json",
                    &manifest::mock_icd(&paths::mock_icd_library()),
                )
            }
        };
        cmd.env("VK_DRIVER_FILES", &icd)
            .env("VK_ICD_FILENAMES", &icd);

        match self.layer {
            Layer::Enabled | Layer::Listed => {
                let dir = self.explicit_manifest_dir();
                cmd.env("VK_ADD_LAYER_PATH", &dir);
                if self.layer == Layer::Enabled {
                    cmd.env("VK_INSTANCE_LAYERS", LAYER_NAME);
                }
            }
            Layer::Implicit => {
                let dir = data.join("vulkan").join("implicit_layer.d");
                manifest::write(
                    &dir,
                    "VkLayer_handoff_implicit.json",
                    &manifest::implicit_layer(&paths::layer_library()),
                );
            }
            Layer::Off => {}
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
    }

    fn explicit_manifest_dir(&self) -> PathBuf {
        let dir = self.dir.subdir("explicit_layer.d");
        manifest::write(
            &dir,
            "VkLayer_handoff.json",
            &manifest::explicit_layer(&paths::layer_library()),
        );
        dir
    }
}

/// `HANDOFF_TEST_WRAPPER`: a command (split on whitespace) every scenario child runs under,
/// e.g. `valgrind --tool=memcheck --error-exitcode=99 …` (`.ci/memcheck.sh`). Empty when unset.
fn wrapper() -> Vec<String> {
    std::env::var("HANDOFF_TEST_WRAPPER")
        .map(|w| w.split_whitespace().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// `HANDOFF_TEST_TIMEOUT_SCALE` (default 30): how much longer a wrapped child may take.
fn wrapper_timeout_scale() -> u32 {
    std::env::var("HANDOFF_TEST_TIMEOUT_SCALE")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|&n: &u32| n > 0)
        .unwrap_or(30)
}

/// Every thread's stack of process `pid`, from `gdb -batch` (at most a minute), for a test
/// that has to say where a child hung.
pub fn thread_stacks(pid: libc::pid_t) -> String {
    let out = Command::new("timeout")
        .args([
            "60",
            "gdb",
            "-p",
            &pid.to_string(),
            "-batch",
            "-ex",
            "thread apply all bt",
        ])
        .stdin(Stdio::null())
        .output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        Ok(o) => format!(
            "gdb failed ({}); is it installed (`apt-get install gdb`)?\n{}{}",
            o.status,
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => format!("cannot run gdb under timeout: {e}"),
    }
}
