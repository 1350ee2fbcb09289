//! Runs one child measurement: the driver and layer configuration are environment variables
//! of a fresh process, so every run starts with the same loader state.

use handoff_tests::harness::{manifest, paths, tempdir::TempDir, LAYER_NAME};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The layer configurations compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Config {
    None,
    Handoff,
    Khronos,
}

impl Config {
    pub fn parse(s: &str) -> Option<Config> {
        match s {
            "none" => Some(Config::None),
            "handoff" => Some(Config::Handoff),
            "khronos" => Some(Config::Khronos),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Config::None => "none",
            Config::Handoff => "handoff",
            Config::Khronos => "khronos",
        }
    }
}

/// The drivers: lavapipe from Mesa, or the bundled mock ICD (profile `lavapipe`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Driver {
    Lavapipe,
    Mock,
}

impl Driver {
    pub fn parse(s: &str) -> Option<Driver> {
        match s {
            "lavapipe" => Some(Driver::Lavapipe),
            "mock" => Some(Driver::Mock),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Driver::Lavapipe => "lavapipe",
            Driver::Mock => "mock",
        }
    }
}

/// Manifests written once per benchmark run.
pub struct Env {
    dir: TempDir,
    mock_icd: PathBuf,
    lavapipe_icd: PathBuf,
    exe: PathBuf,
}

impl Env {
    pub fn new() -> Env {
        // The libraries sit next to the benchmark after `cargo build --release`, or in deps/
        // after a build of this package alone.
        if std::env::var_os("HANDOFF_LIB_DIR").is_none() {
            if let Some(deps) = std::env::current_exe()
                .ok()
                .and_then(|e| e.parent().map(|p| p.join("deps")))
                .filter(|d| d.join(handoff_tests::harness::LAYER_LIB).is_file())
            {
                std::env::set_var("HANDOFF_LIB_DIR", deps);
            }
        }
        let dir = TempDir::new("bench");
        manifest::write(
            dir.path(),
            "VkLayer_handoff.json",
            &manifest::explicit_layer(&paths::layer_library()),
        );
        let mock_icd = manifest::write(
            dir.path(),
            "handoff_mock_icd.json",
            &manifest::mock_icd(&paths::mock_icd_library()),
        );
        Env {
            mock_icd,
            lavapipe_icd: handoff_tests::harness::driver::real_icd_manifest(),
            exe: std::env::current_exe().expect("the benchmark's own path"),
            dir,
        }
    }

    fn command(&self, program: &Path, driver: Driver, config: Config) -> Command {
        let mut c = Command::new(program);
        for v in [
            "VK_INSTANCE_LAYERS",
            "VK_LOADER_LAYERS_ENABLE",
            "HANDOFF_ENABLE",
            "VK_ADD_LAYER_PATH",
            "VK_LAYER_PATH",
        ] {
            c.env_remove(v);
        }
        c.env(
            "XDG_RUNTIME_DIR",
            std::env::var_os("XDG_RUNTIME_DIR").unwrap_or("/tmp".into()),
        );
        match driver {
            Driver::Lavapipe => c.env("VK_DRIVER_FILES", &self.lavapipe_icd),
            Driver::Mock => c
                .env("VK_DRIVER_FILES", &self.mock_icd)
                .env("HANDOFF_MOCK_PROFILE", "lavapipe"),
        };
        match config {
            Config::None => {}
            Config::Handoff => {
                c.env("VK_ADD_LAYER_PATH", self.dir.path())
                    .env("VK_INSTANCE_LAYERS", LAYER_NAME);
            }
            Config::Khronos => {
                c.env("VK_INSTANCE_LAYERS", "VK_LAYER_KHRONOS_validation");
            }
        }
        c
    }

    fn out_file(&self, tag: &str) -> PathBuf {
        self.dir.path().join(format!("{tag}.json"))
    }
}

/// One wall-clock run: the child's own measurement plus its peak RSS.
pub struct Wall {
    pub ops: u64,
    pub elapsed_ns: f64,
    pub intercepted_per_op: u32,
    pub findings: u64,
    pub max_rss_kib: u64,
    pub device: String,
}

impl Wall {
    pub fn ns_per_op(&self) -> f64 {
        self.elapsed_ns / self.ops.max(1) as f64
    }
}

/// Runs `workload` at size `n` in a fresh child and waits for it.
pub fn wall(
    env: &Env,
    driver: Driver,
    config: Config,
    workload: &str,
    n: u64,
) -> Result<Wall, String> {
    let out = env.out_file("wall");
    let _ = std::fs::remove_file(&out);
    let mut c = env.command(&env.exe, driver, config);
    c.args(["child", workload, &n.to_string()]).arg(&out);
    let (status, rss) = run_with_rusage(&mut c)?;
    if !status.success() {
        return Err(format!(
            "{workload} on {} with {}: child {status}",
            driver.name(),
            config.name()
        ));
    }
    let v = read_json(&out)?;
    Ok(Wall {
        ops: v["ops"].as_u64().unwrap_or(0),
        elapsed_ns: v["elapsed_ns"].as_f64().unwrap_or(0.0),
        intercepted_per_op: v["intercepted_per_op"].as_u64().unwrap_or(0) as u32,
        findings: v["findings"].as_u64().unwrap_or(0),
        max_rss_kib: rss,
        device: v["device"].as_str().unwrap_or("").to_owned(),
    })
}

/// What callgrind counted in a child's operation loops.
pub struct Counted {
    pub ops: u64,
    /// Every instruction.
    pub total: u64,
    /// Those executed in Handoff's own library (its functions' self cost).
    pub in_layer: u64,
}

/// The file name of Handoff's library, as callgrind names the object.
const LAYER_OBJECT: &str = "libVkLayer_handoff.so";

/// Instructions the child executed inside its operation loops (every thread that runs one;
/// see `workloads::handoff_bench_loop`), counted by callgrind. Callers difference two sizes
/// to cancel what the first operations pay once.
pub fn instructions(
    env: &Env,
    driver: Driver,
    config: Config,
    workload: &str,
    n: u64,
) -> Result<Counted, String> {
    let out = env.out_file("cg-child");
    let cg = env.dir.path().join("callgrind.out");
    let _ = std::fs::remove_file(&cg);
    let mut c = env.command(Path::new("valgrind"), driver, config);
    c.arg("--tool=callgrind")
        .arg("--toggle-collect=handoff_bench_loop")
        .arg(format!("--callgrind-out-file={}", cg.display()))
        .arg("--quiet")
        .arg(&env.exe)
        .args(["child", workload, &n.to_string()])
        .arg(&out);
    let status = c
        .status()
        .map_err(|e| format!("valgrind: {e} (apt-get install valgrind)"))?;
    if !status.success() {
        return Err(format!(
            "callgrind {workload} on {} with {}: {status}",
            driver.name(),
            config.name()
        ));
    }
    let ops = read_json(&out)?["ops"].as_u64().unwrap_or(n);
    let text = std::fs::read_to_string(&cg).map_err(|e| format!("{}: {e}", cg.display()))?;
    let total = text
        .lines()
        .find_map(|l| {
            l.strip_prefix("summary: ")
                .or_else(|| l.strip_prefix("totals: "))
        })
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .ok_or_else(|| format!("no instruction total in {}", cg.display()))?;
    Ok(Counted {
        ops,
        total,
        in_layer: object_instructions(&text, LAYER_OBJECT),
    })
}

/// The self cost of every function in objects whose path ends with `object`, from a
/// callgrind output file: cost lines count for the object of the last `ob=` line; the line
/// after `calls=` is the call's inclusive cost and belongs to the callee, so it is skipped.
fn object_instructions(text: &str, object: &str) -> u64 {
    let mut names: std::collections::HashMap<String, bool> = Default::default();
    let mut positions = 1;
    let mut inside = false;
    let mut skip = false;
    let mut total = 0;
    for l in text.lines() {
        if std::mem::take(&mut skip) {
            continue;
        }
        if let Some(p) = l.strip_prefix("positions:") {
            positions = p.split_whitespace().count();
        } else if let Some((v, callee)) = l
            .strip_prefix("ob=")
            .map(|v| (v, false))
            .or_else(|| l.strip_prefix("cob=").map(|v| (v, true)))
        {
            // "(id) name" the first time, "(id)" after that (one compression table for `ob=`
            // and `cob=`), or a plain "name".
            let (id, name) = match v.strip_prefix('(').and_then(|r| r.split_once(')')) {
                Some((id, name)) => (id.to_owned(), name.trim()),
                None => (v.to_owned(), v),
            };
            let mine = if name.is_empty() {
                names.get(&id).copied().unwrap_or(false)
            } else {
                let mine = name.ends_with(object);
                names.insert(id, mine);
                mine
            };
            if !callee {
                inside = mine;
            }
        } else if l.starts_with("calls=") {
            skip = true;
        } else if inside && l.starts_with(|c: char| c.is_ascii_digit() || "+-*".contains(c)) {
            if let Some(ir) = l.split_whitespace().nth(positions) {
                total += ir.parse::<u64>().unwrap_or(0);
            }
        }
    }
    total
}

/// The layer's summary record (`state_bytes`, `live_objects`) after the child ran `mode`
/// (`hold` or `cycle-exit`) at size `n` and exited with its objects alive.
pub fn state(env: &Env, driver: Driver, mode: &str, n: u64) -> Result<(u64, u64), String> {
    let out = env.out_file("state-child");
    let report = env.dir.path().join("state-report.jsonl");
    let _ = std::fs::remove_file(&report);
    let mut c = env.command(&env.exe, driver, Config::Handoff);
    c.env("VK_HANDOFF_VALIDATION_REPORT_FILE", &report)
        .args(["child", mode, &n.to_string()])
        .arg(&out);
    let status = c.status().map_err(|e| e.to_string())?;
    if !status.success() {
        return Err(format!("state probe {mode} {n}: {status}"));
    }
    let text =
        std::fs::read_to_string(&report).map_err(|e| format!("{}: {e}", report.display()))?;
    let summary: Value = text
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .rfind(|v| v["type"] == "summary")
        .ok_or("no summary record in the report")?;
    let live: u64 = summary["live_objects"]
        .as_object()
        .map(|o| o.values().filter_map(Value::as_u64).sum())
        .unwrap_or(0);
    Ok((summary["state_bytes"].as_u64().unwrap_or(0), live))
}

fn read_json(p: &Path) -> Result<Value, String> {
    let s = std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()))?;
    serde_json::from_str(&s).map_err(|e| format!("{}: {e}", p.display()))
}

/// Spawns `c` and reaps it with `wait4`, for its peak resident set (KiB).
fn run_with_rusage(c: &mut Command) -> Result<(std::process::ExitStatus, u64), String> {
    use std::os::unix::process::ExitStatusExt;
    let child = c.spawn().map_err(|e| e.to_string())?;
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: zeroed rusage is a valid out value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our child, not yet reaped; both out pointers are valid.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    if r != pid {
        return Err(format!("wait4: {}", std::io::Error::last_os_error()));
    }
    // The child is reaped; forget the handle so that its drop does not wait again.
    std::mem::forget(child);
    Ok((
        std::process::ExitStatus::from_raw(status),
        usage.ru_maxrss as u64,
    ))
}

#[cfg(test)]
mod tests {
    use super::object_instructions;

    #[test]
    fn self_costs_of_one_object() {
        let text = "positions: line\nevents: Ir\n\
                    ob=(1) /lib/libVkLayer_handoff.so\nfl=(1) a.rs\nfn=(1) f\n3 10\n+1 5\n\
                    cob=(2) /lib/libc.so.6\ncfn=(2) g\ncalls=1 0\n4 100\n\
                    ob=(2)\nfn=(2)\n7 100\n\
                    ob=(1)\nfn=(3) h\n9 2\n";
        assert_eq!(object_instructions(text, "libVkLayer_handoff.so"), 17);
        assert_eq!(object_instructions(text, "libc.so.6"), 100);
    }
}
