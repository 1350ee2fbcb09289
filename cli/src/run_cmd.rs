//! `handoff run [options] -- APP ARGS...`: runs an app with the layer enabled through the
//! environment, then summarises what every process of the run reported and exits with a
//! verdict for CI.

use crate::demo::{loader_available, TempDir};
use crate::junit::AppRun;
use crate::manifest::{write_manifests, EXPLICIT, LAYER_NAME, MOCK_ICD};
use crate::report_cmd::conclude;
use crate::summary::{self, FailOn, Report};
use crate::{parse, Failure, Outcome};
use handoff_examples::common::LOADER_MISSING;
use std::ffi::OsString;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus};

const USAGE: &str = "\
usage: handoff run [--report FILE] [--junit FILE] [--driver system|lavapipe|mock]
                   [--mock-profile NAME|FILE] [--fail-on error|warning|never]
                   [--setting KEY=VALUE]... -- APP ARGS...

Runs APP with VK_LAYER_HANDOFF_validation enabled through the environment (a manifest in a
private temporary directory; processes the app starts inherit it), then prints a summary of
the findings of every process: id, severity, count, first message, objects, spec link.

  --report FILE       also write the run's JSON Lines report to FILE
  --junit FILE        write JUnit XML: a test case per rule that fired, one per process
  --driver D          system (default): the loader's own driver search; lavapipe: the
                      system's lavapipe ICD; mock: Handoff's mock ICD
  --mock-profile P    the mock ICD's profile (lavapipe, nvidia, full, or a JSON file)
  --fail-on LEVEL     findings from which the run fails: error (default), warning, never
  --setting KEY=VAL   a layer setting (VK_HANDOFF_VALIDATION_<KEY>), e.g. best_practices=true

Exit status: the app's own when it failed (128+N when killed by signal N); otherwise 1 when
findings reach --fail-on; otherwise 0. 2 for bad usage or a missing loader or library.";

/// Where the lavapipe ICD manifest of the system lives.
const ICD_DIR: &str = "/usr/share/vulkan/icd.d";

/// The run's options.
struct Options {
    report: Option<PathBuf>,
    junit: Option<PathBuf>,
    driver: String,
    mock_profile: Option<String>,
    fail_on: FailOn,
    settings: Vec<(String, String)>,
    app: Vec<String>,
}

fn usage_error(what: impl std::fmt::Display) -> Failure {
    Failure::setup(format!("{what}\n\n{USAGE}"))
}

/// Parses the options before `--` (the repeatable `--setting` by hand, the rest by
/// [`parse`]); the app and its arguments follow `--`.
fn parse_options(args: &[String]) -> Result<Option<Options>, Failure> {
    let (ours, app) = match args.iter().position(|a| a == "--") {
        Some(split) => (&args[..split], &args[split + 1..]),
        None => (args, &[][..]),
    };
    let mut rest = Vec::new();
    let mut raw_settings = Vec::new();
    let mut iter = ours.iter();
    while let Some(arg) = iter.next() {
        if arg == "--setting" {
            raw_settings.push(
                iter.next()
                    .cloned()
                    .ok_or_else(|| usage_error("--setting needs KEY=VALUE"))?,
            );
        } else if let Some(value) = arg.strip_prefix("--setting=") {
            raw_settings.push(value.to_owned());
        } else {
            rest.push(arg.clone());
        }
    }
    let parsed = parse(
        &rest,
        &[
            "--report",
            "--junit",
            "--driver",
            "--mock-profile",
            "--fail-on",
        ],
        &[],
        USAGE,
    )?;
    if parsed.help {
        println!("{USAGE}");
        return Ok(None);
    }
    let mut settings = Vec::new();
    for raw in raw_settings {
        let Some((key, value)) = raw.split_once('=') else {
            return Err(usage_error(format!("--setting {raw}: expected KEY=VALUE")));
        };
        let key = key.trim().to_ascii_lowercase();
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(usage_error(format!("--setting {raw}: bad key `{key}`")));
        }
        if key == "report_file" {
            return Err(usage_error(
                "--setting report_file: the run owns the report; use --report FILE",
            ));
        }
        settings.push((key, value.to_owned()));
    }
    let driver = parsed.value("--driver").unwrap_or("system").to_owned();
    if !["system", "lavapipe", "mock"].contains(&driver.as_str()) {
        return Err(usage_error(format!(
            "--driver {driver}: expected system, lavapipe or mock"
        )));
    }
    let mock_profile = parsed.value("--mock-profile").map(str::to_owned);
    if mock_profile.is_some() && driver != "mock" {
        return Err(usage_error("--mock-profile needs --driver mock"));
    }
    let fail_on = FailOn::parse(parsed.value("--fail-on")).map_err(usage_error)?;
    if app.is_empty() {
        return Err(usage_error(
            "no app given: handoff run [options] -- APP ARGS...",
        ));
    }
    Ok(Some(Options {
        report: parsed.value("--report").map(PathBuf::from),
        junit: parsed.value("--junit").map(PathBuf::from),
        driver,
        mock_profile,
        fail_on,
        settings,
        app: app.to_vec(),
    }))
}

/// The system's lavapipe ICD manifest.
fn lavapipe_manifest() -> Result<PathBuf, Failure> {
    let entries = std::fs::read_dir(ICD_DIR).map_err(|err| {
        Failure::setup(format!("--driver lavapipe: cannot read {ICD_DIR}: {err}"))
    })?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("lvp_icd.") && n.ends_with(".json"))
        })
        .collect();
    found.sort();
    found.into_iter().next().ok_or_else(|| {
        Failure::setup(format!(
            "--driver lavapipe: no lvp_icd.*.json in {ICD_DIR} (install mesa-vulkan-drivers)"
        ))
    })
}

/// The environment that enables the layer (and picks the driver) for the app.
fn environment(
    options: &Options,
    temp: &TempDir,
    report: &Path,
) -> Result<Vec<(String, OsString)>, Failure> {
    // The layer manifest gets a directory of its own: the loader reads every .json in
    // VK_ADD_LAYER_PATH as a layer manifest.
    let layer_dir = temp.path().join("layers");
    write_manifests(&layer_dir, &[&EXPLICIT])?;
    let layers = match std::env::var("VK_INSTANCE_LAYERS") {
        Ok(theirs) if !theirs.is_empty() && !theirs.split(':').any(|l| l == LAYER_NAME) => {
            format!("{LAYER_NAME}:{theirs}")
        }
        Ok(theirs) if !theirs.is_empty() => theirs,
        _ => LAYER_NAME.to_owned(),
    };
    let mut add_path = layer_dir.into_os_string();
    if let Some(theirs) = std::env::var_os("VK_ADD_LAYER_PATH").filter(|p| !p.is_empty()) {
        add_path.push(":");
        add_path.push(theirs);
    }
    let mut env: Vec<(String, OsString)> = vec![
        ("VK_ADD_LAYER_PATH".into(), add_path),
        ("VK_INSTANCE_LAYERS".into(), layers.into()),
        (
            "VK_HANDOFF_VALIDATION_REPORT_FILE".into(),
            report.as_os_str().to_owned(),
        ),
        // `handoff run` prints the summary itself: the layer keeps its own table quiet.
        ("HANDOFF_RUN".into(), "1".into()),
    ];
    let icd = match options.driver.as_str() {
        "mock" => {
            let profile = options.mock_profile.clone().unwrap_or_else(|| {
                std::env::var("HANDOFF_MOCK_PROFILE").unwrap_or_else(|_| "lavapipe".into())
            });
            // A profile file relative to here must still be found from the app's directory.
            let profile = if Path::new(&profile).is_file() {
                std::fs::canonicalize(&profile)
                    .map(PathBuf::into_os_string)
                    .unwrap_or_else(|_| profile.into())
            } else {
                profile.into()
            };
            env.push(("HANDOFF_MOCK_PROFILE".into(), profile));
            Some(write_manifests(temp.path(), &[&MOCK_ICD])?.remove(0))
        }
        "lavapipe" => Some(lavapipe_manifest()?),
        _ => None,
    };
    if let Some(icd) = icd {
        env.push(("VK_DRIVER_FILES".into(), icd.clone().into_os_string()));
        env.push(("VK_ICD_FILENAMES".into(), icd.into_os_string()));
    }
    if std::env::var_os("XDG_RUNTIME_DIR").is_none() {
        env.push(("XDG_RUNTIME_DIR".into(), "/tmp".into()));
    }
    for (key, value) in &options.settings {
        env.push((
            format!("VK_HANDOFF_VALIDATION_{}", key.to_ascii_uppercase()),
            value.into(),
        ));
    }
    Ok(env)
}

fn signal_name(signal: i32) -> String {
    // SAFETY: strsignal returns a pointer to a NUL-terminated string (static or thread-local)
    // or null; it is copied at once.
    let text = unsafe { libc::strsignal(signal) };
    if text.is_null() {
        return format!("signal {signal}");
    }
    // SAFETY: non-null, NUL-terminated, valid until the next strsignal on this thread.
    let text = unsafe { std::ffi::CStr::from_ptr(text) };
    format!("signal {signal} ({})", text.to_string_lossy())
}

/// SIGINT and SIGQUIT ignored while it lives; the previous dispositions restored on drop.
struct IgnoreInterrupts(Vec<(libc::c_int, libc::sighandler_t)>);

impl IgnoreInterrupts {
    fn new() -> Self {
        let saved = [libc::SIGINT, libc::SIGQUIT]
            .into_iter()
            // SAFETY: installing SIG_IGN for a catchable signal; no handler code runs.
            .map(|signal| (signal, unsafe { libc::signal(signal, libc::SIG_IGN) }))
            .filter(|&(_, previous)| previous != libc::SIG_ERR)
            .collect();
        IgnoreInterrupts(saved)
    }
}

impl Drop for IgnoreInterrupts {
    fn drop(&mut self) {
        for &(signal, previous) in &self.0 {
            // SAFETY: restores the disposition libc::signal returned for this very signal.
            unsafe { libc::signal(signal, previous) };
        }
    }
}

/// The exit code `handoff run` passes on for a failed app, and how it failed.
fn app_failure(status: ExitStatus) -> Option<(i32, String)> {
    match (status.code(), status.signal()) {
        (Some(0), _) => None,
        (Some(code), _) => Some((code, format!("exit status {code}"))),
        (None, Some(signal)) => Some((128 + signal, format!("killed by {}", signal_name(signal)))),
        (None, None) => Some((1, format!("{status}"))),
    }
}

pub fn run(args: &[String]) -> Outcome {
    let Some(options) = parse_options(args)? else {
        return Ok(0);
    };
    if !loader_available() {
        eprintln!("{LOADER_MISSING}");
        return Ok(2);
    }
    let temp = TempDir::new()?;
    let report_path = temp.path().join("report.jsonl");
    let env = environment(&options, &temp, &report_path)?;

    let command_line = options.app.join(" ");
    let mut child = Command::new(&options.app[0])
        .args(&options.app[1..])
        .envs(env.iter().map(|(k, v)| (k, v)))
        .spawn()
        .map_err(|err| Failure::setup(format!("cannot start {}: {err}", options.app[0])))?;
    // Like system(3): a Ctrl-C at the terminal reaches the app, and we live on to report
    // what it found and that it was interrupted. Set after spawning so the app keeps the
    // default dispositions.
    let ignored = IgnoreInterrupts::new();
    let status = child
        .wait()
        .map_err(|err| Failure::runtime(format!("waiting for {}: {err}", options.app[0])))?;
    drop(ignored);

    // No report: the app never created a Vulkan instance (or died before the layer wrote).
    let report = if report_path.exists() {
        summary::read_report(&report_path).map_err(Failure::runtime)?
    } else {
        eprintln!("handoff: the layer wrote no report (did the app create a Vulkan instance?)");
        Report::default()
    };
    if let Some(copy) = &options.report {
        let copied = if report_path.exists() {
            std::fs::copy(&report_path, copy).map(drop)
        } else {
            std::fs::write(copy, "")
        };
        copied
            .map_err(|err| Failure::runtime(format!("cannot write {}: {err}", copy.display())))?;
    }

    let failure = app_failure(status);
    let app = AppRun {
        command: &command_line,
        failure: failure.as_ref().map(|(_, why)| why.clone()),
    };
    let reached = conclude(
        &report,
        options.fail_on,
        options.junit.as_deref(),
        Some(&app),
    )?;
    if let Some((code, why)) = failure {
        println!("handoff: the app failed: {why}");
        return Ok(code);
    }
    if reached {
        return Ok(1);
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn options_and_settings() {
        let o = parse_options(&strings(&[
            "--setting",
            "best_practices=true",
            "--setting=message_id_filter=A,B",
            "--driver",
            "mock",
            "--mock-profile=full",
            "--",
            "app",
            "--setting",
        ]))
        .unwrap()
        .unwrap();
        assert_eq!(o.settings[1], ("message_id_filter".into(), "A,B".into()));
        assert_eq!(o.app, ["app", "--setting"]);
        assert_eq!(o.driver, "mock");
    }

    #[test]
    fn bad_usage() {
        for args in [
            &["--"][..],
            &["app"],
            &["--setting", "x", "--", "a"],
            &["--setting", "report_file=x", "--", "a"],
            &["--driver", "gpu", "--", "a"],
            &["--mock-profile", "full", "--", "a"],
            &["--fail-on", "info", "--", "a"],
        ] {
            assert_eq!(
                parse_options(&strings(args)).err().map(|e| e.code),
                Some(2),
                "{args:?}"
            );
        }
    }

    #[test]
    fn exit_codes_of_a_failed_app() {
        assert_eq!(app_failure(ExitStatus::from_raw(0)), None);
        assert_eq!(app_failure(ExitStatus::from_raw(3 << 8)).unwrap().0, 3);
        let (code, why) = app_failure(ExitStatus::from_raw(libc::SIGSEGV)).unwrap();
        assert_eq!(code, 128 + libc::SIGSEGV);
        assert!(why.contains("signal 11"), "{why}");
    }
}
