//! `handoff demo`: every bundled example, run correct and with `--bug`, through the layer on
//! the mock driver, with a verdict on what the layer reported.
//!
//! Each run is a child process: this very executable, re-executed as the hidden
//! `handoff example NAME [--bug]`, which calls the example from the `handoff-examples`
//! library. So `cargo run --release --bin handoff -- demo` needs no other binary.

use crate::manifest::{write_manifests, EXPLICIT, LAYER_NAME, MOCK_ICD};
use crate::summary::{self, Finding as ReportedFinding};
use crate::{parse, Failure, Outcome};
use handoff_examples::common::LOADER_MISSING;
use handoff_examples::{Example, EXAMPLES};
use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::fs::DirBuilderExt;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant, SystemTime};

const USAGE: &str = "\
usage: handoff demo

Runs each bundled example twice as a child process, first correct and then with --bug,
through VK_LAYER_HANDOFF_validation on Handoff's mock driver (HANDOFF_MOCK_PROFILE, default
lavapipe), and shows the command, its exit status and the layer's findings (read from the
layer's JSON Lines report). Verdict: the correct run has no finding, the --bug run has the
example's expected one. Exits 0 when every verdict holds, 1 otherwise, 2 when the Vulkan
loader or a library is missing.";

/// How long one example may run before it is killed.
const RUN_TIMEOUT: Duration = Duration::from_secs(120);

/// `handoff example NAME [ARGS…]` (hidden): runs one bundled example in this process.
pub fn example_command(args: &[String]) -> Outcome {
    let names: Vec<&str> = EXAMPLES.iter().map(|e| e.name).collect();
    let Some((name, rest)) = args.split_first() else {
        return Err(Failure::setup(format!(
            "usage: handoff example NAME [--bug]; examples: {}",
            names.join(", ")
        )));
    };
    match handoff_examples::find(name) {
        Some(example) => Ok((example.run)(rest)),
        None => Err(Failure::setup(format!(
            "unknown example `{name}`; examples: {}",
            names.join(", ")
        ))),
    }
}

/// Whether `libvulkan.so.1` can be loaded.
pub(crate) fn loader_available() -> bool {
    // SAFETY: dlopen with a valid NUL-terminated name; the handle, if any, is closed at once
    // and nothing from the library is used. Loading runs the loader's initialisers, which the
    // examples run anyway.
    unsafe {
        let handle = libc::dlopen(
            c"libvulkan.so.1".as_ptr(),
            libc::RTLD_NOW | libc::RTLD_LOCAL,
        );
        if handle.is_null() {
            false
        } else {
            libc::dlclose(handle);
            true
        }
    }
}

/// A private directory (mode 0700, fresh name), removed with everything in it on drop.
pub(crate) struct TempDir(PathBuf);

impl TempDir {
    pub(crate) fn path(&self) -> &Path {
        &self.0
    }

    pub(crate) fn new() -> Result<Self, Failure> {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        let path = std::env::temp_dir().join(format!("handoff-{}-{nanos}", std::process::id()));
        // `create` (not `create_all`) fails if the name exists: we never reuse someone
        // else's directory.
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .map_err(|err| Failure::runtime(format!("cannot create {}: {err}", path.display())))?;
        Ok(TempDir(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The findings in a JSON Lines report, and how many records it held in all.
fn read_report(path: &Path) -> Result<(Vec<ReportedFinding>, usize), String> {
    let report = summary::read_report(path)?;
    Ok((report.findings, report.records))
}

/// How a run ended.
enum Ended {
    Exited(ExitStatus),
    TimedOut,
}

fn describe(ended: &Ended) -> String {
    match ended {
        Ended::Exited(status) => match (status.code(), status.signal()) {
            (Some(code), _) => format!("exit status {code}"),
            (None, Some(signal)) => format!("killed by signal {signal}"),
            (None, None) => format!("{status}"),
        },
        Ended::TimedOut => format!("killed after {} s", RUN_TIMEOUT.as_secs()),
    }
}

/// Copies a child's stream to our stdout, each line indented.
fn forward(stream: impl Read + Send + 'static) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        for line in BufReader::new(stream).split(b'\n') {
            let Ok(line) = line else { break };
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "  | {}", String::from_utf8_lossy(&line));
        }
    })
}

/// A pipe for a child's stdout and stderr together (one pipe keeps their order): our read
/// end, and the write end to hand to the child.
fn output_pipe() -> std::io::Result<(std::fs::File, OwnedFd)> {
    let mut fds: [libc::c_int; 2] = [-1; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes on success; O_CLOEXEC
    // keeps them out of any other child (the child gets the write end through dup2).
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: both descriptors were just created by pipe2 and nothing else owns them.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    Ok((std::fs::File::from(read), write))
}

/// Runs `exe ARGS` with `env` added, forwarding its output (stdout and stderr, in order),
/// and kills it after [`RUN_TIMEOUT`].
fn run_child(exe: &Path, args: &[&str], env: &[(&str, OsString)]) -> Result<Ended, Failure> {
    let io_failure =
        |err: std::io::Error| Failure::runtime(format!("cannot start {}: {err}", exe.display()));
    let (read, write) = output_pipe().map_err(io_failure)?;
    let write_too = write.try_clone().map_err(io_failure)?;
    // The Command (holding our copies of the write end) is dropped right after spawning,
    // so the forwarder sees end-of-file when the child exits.
    let mut child = Command::new(exe)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::from(write))
        .stderr(Stdio::from(write_too))
        .spawn()
        .map_err(io_failure)?;
    let forwarder = forward(read);
    let started = Instant::now();
    let ended = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Ended::Exited(status),
            Ok(None) if started.elapsed() > RUN_TIMEOUT => {
                let _ = child.kill();
                let _ = child.wait();
                break Ended::TimedOut;
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(err) => return Err(Failure::runtime(format!("waiting for the example: {err}"))),
        }
    };
    let _ = forwarder.join();
    Ok(ended)
}

/// Whether a run's outcome is the one its example promises; `Ok` and `Err` both explain.
fn verdict(
    example: &Example,
    bug: bool,
    ended: &Ended,
    report: &Result<(Vec<ReportedFinding>, usize), String>,
) -> Result<String, String> {
    if !matches!(ended, Ended::Exited(status) if status.success()) {
        return Err(format!(
            "the example did not run to the end ({})",
            describe(ended)
        ));
    }
    let findings = match report {
        Ok((findings, _)) => findings,
        Err(why) => return Err(why.clone()),
    };
    if !bug {
        return if findings.is_empty() {
            Ok("the correct program ran clean: no findings".to_owned())
        } else {
            Err(format!(
                "the correct program should have no findings, the layer reported {}",
                findings.len()
            ))
        };
    }
    if findings.iter().any(|f| f.id == example.bug_finding) {
        Ok(format!("the layer caught the bug: {}", example.bug_finding))
    } else {
        Err(format!("the layer did not report {}", example.bug_finding))
    }
}

pub fn run(args: &[String]) -> Outcome {
    let parsed = parse(args, &[], &[], USAGE)?;
    if parsed.help {
        println!("{USAGE}");
        return Ok(0);
    }
    if !loader_available() {
        eprintln!("{LOADER_MISSING}");
        return Ok(2);
    }
    let exe = std::env::current_exe()
        .map_err(|err| Failure::runtime(format!("cannot find the handoff executable: {err}")))?;
    let temp = TempDir::new()?;
    // The layer manifest gets a directory of its own: the loader reads every .json in
    // VK_ADD_LAYER_PATH as a layer manifest and warns about the ICD manifest.
    let layer_dir = temp.0.join("layers");
    let layer_manifest = write_manifests(&layer_dir, &[&EXPLICIT])?;
    let icd_manifest = write_manifests(&temp.0, &[&MOCK_ICD])?;
    let icd_manifest: OsString = icd_manifest[0].clone().into_os_string();
    let report = temp.0.join("report.jsonl");

    let mut env: Vec<(&str, OsString)> = vec![
        ("VK_ADD_LAYER_PATH", layer_dir.clone().into_os_string()),
        ("VK_INSTANCE_LAYERS", LAYER_NAME.into()),
        ("VK_DRIVER_FILES", icd_manifest.clone()),
        ("VK_ICD_FILENAMES", icd_manifest),
    ];
    if std::env::var_os("HANDOFF_MOCK_PROFILE").is_none() {
        env.push(("HANDOFF_MOCK_PROFILE", "lavapipe".into()));
    }
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        env.push(("XDG_RUNTIME_DIR", "/tmp".into()));
    }
    env.push((
        "VK_HANDOFF_VALIDATION_REPORT_FILE",
        report.clone().into_os_string(),
    ));

    println!("handoff demo: each example runs correct, then with its bug, through {LAYER_NAME}");
    println!(
        "on Handoff's mock driver. Layer manifest: {}",
        layer_manifest[0].display()
    );
    println!("Environment of every run:");
    for (key, value) in &env {
        println!("  {key}={}", value.to_string_lossy());
    }
    if let Some(profile) = std::env::var_os("HANDOFF_MOCK_PROFILE") {
        println!(
            "  HANDOFF_MOCK_PROFILE={} (yours)",
            profile.to_string_lossy()
        );
    }

    let mut held = 0;
    let mut total = 0;
    for example in EXAMPLES {
        for bug in [false, true] {
            total += 1;
            let mut args = vec!["example", example.name];
            if bug {
                args.push("--bug");
            }
            println!();
            println!(
                "== {} ({}): {} ==",
                example.name,
                if bug { "with its bug" } else { "correct" },
                example.summary
            );
            println!("$ handoff {}", args.join(" "));
            let _ = std::io::stdout().flush();
            match std::fs::remove_file(&report) {
                Ok(()) => {}
                Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
                Err(err) => {
                    return Err(Failure::runtime(format!(
                        "cannot clear {}: {err}",
                        report.display()
                    )))
                }
            }
            let ended = run_child(&exe, &args, &env)?;
            println!("{}", describe(&ended));
            let findings = read_report(&report);
            match &findings {
                Ok((list, _)) if list.is_empty() => println!("findings: none"),
                Ok((list, _)) => {
                    println!("findings: {}", list.len());
                    for f in list {
                        println!("  {} {}: {}", f.severity, f.id, f.message);
                    }
                }
                Err(why) => println!("findings: unknown ({why})"),
            }
            match verdict(example, bug, &ended, &findings) {
                Ok(why) => {
                    held += 1;
                    println!("verdict: ok, {why}");
                }
                Err(why) => println!("verdict: FAILED, {why}"),
            }
        }
    }
    println!();
    if held == total {
        println!("demo: all {total} verdicts hold");
        Ok(0)
    } else {
        println!("demo: {} of {total} verdicts failed", total - held);
        Ok(1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts() {
        let example = &EXAMPLES[0];
        let ok = Ended::Exited(ExitStatus::from_raw(0));
        let failed = Ended::Exited(ExitStatus::from_raw(1 << 8));
        let none = Ok((vec![], 1));
        let caught = Ok((
            vec![ReportedFinding {
                id: example.bug_finding.into(),
                severity: "error".into(),
                ..ReportedFinding::default()
            }],
            1,
        ));
        assert!(verdict(example, false, &ok, &none).is_ok());
        assert!(verdict(example, false, &ok, &caught).is_err());
        assert!(verdict(example, true, &ok, &caught).is_ok());
        assert!(verdict(example, true, &ok, &none).is_err());
        assert!(verdict(example, true, &failed, &caught).is_err());
        assert!(verdict(example, false, &ok, &Err("no report".into())).is_err());
    }

    #[test]
    fn temp_dir_is_private_and_removed() {
        use std::os::unix::fs::PermissionsExt;
        let dir = TempDir::new().unwrap();
        let path = dir.0.clone();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0);
        std::fs::write(path.join("f"), "x").unwrap();
        drop(dir);
        assert!(!path.exists());
    }
}
