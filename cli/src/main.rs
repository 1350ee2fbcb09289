//! `handoff`: the command-line companion of `VK_LAYER_HANDOFF_validation`.
//!
//! Writes and installs the layer's manifests, lists the rules, and runs the bundled examples
//! through the layer (`handoff demo`); in CI, runs an app under the layer or reads its reports
//! and exits with a verdict (`handoff run`, `handoff report`). Arguments are parsed by hand;
//! see [`USAGE`].

mod demo;
mod junit;
mod libs;
mod manifest;
mod report_cmd;
mod rules_cmd;
mod run_cmd;
mod summary;

use std::process::ExitCode;

const USAGE: &str = "\
usage: handoff <command> [options]

Handoff validates Vulkan external-memory interop (VK_LAYER_HANDOFF_validation).

commands:
  manifest --out DIR      write the layer and mock-ICD manifests, with absolute paths, to DIR
  install [--implicit] [--user|--system] [--force]
                          install the layer manifest where the Vulkan loader finds it
  rules [--format table|json|markdown]
                          list every rule the layer checks
  demo                    run the bundled examples, correct and with their bug, through the
                          layer on the mock driver, and check what the layer reports
  run [--report FILE] [--junit FILE] [--driver system|lavapipe|mock] [--fail-on LEVEL]
      [--setting KEY=VALUE]... -- APP ARGS...
                          run an app with the layer and exit with a verdict for CI
  report FILE... [--junit OUT] [--fail-on LEVEL]
                          summarise JSON Lines reports, or convert them to JUnit XML
  help [COMMAND]          this text, or a command's

`handoff COMMAND --help` describes a command. The libraries are looked up in $HANDOFF_LIB_DIR,
then next to this executable and in its deps/ directory (where `cargo build --release` puts
them).";

/// Why a command failed: the exit code and what to tell the user.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    /// Exit 1: the command could not do its job.
    pub fn runtime(message: impl Into<String>) -> Self {
        Failure {
            code: 1,
            message: message.into(),
        }
    }

    /// Exit 2: bad usage, or something the user must set up first (a build, the loader).
    pub fn setup(message: impl Into<String>) -> Self {
        Failure {
            code: 2,
            message: message.into(),
        }
    }
}

/// What a command returns: its exit code on success (the demo's verdict can be 1).
pub type Outcome = Result<i32, Failure>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match dispatch(&args) {
        Ok(code) => code,
        Err(failure) => {
            eprintln!("handoff: {}", failure.message);
            failure.code
        }
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

fn dispatch(args: &[String]) -> Outcome {
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        return Ok(2);
    };
    match command.as_str() {
        "manifest" => manifest::manifest_command(rest),
        "install" => manifest::install_command(rest),
        "rules" => rules_cmd::run(rest),
        "demo" => demo::run(rest),
        "run" => run_cmd::run(rest),
        "report" => report_cmd::run(rest),
        // Hidden: `handoff demo` re-executes itself as `handoff example NAME [--bug]`, so the
        // demo needs no binary besides `handoff`.
        "example" => demo::example_command(rest),
        "help" | "-h" | "--help" => match rest.first().map(String::as_str) {
            None => {
                println!("{USAGE}");
                Ok(0)
            }
            Some(topic @ ("manifest" | "install" | "rules" | "demo" | "run" | "report")) => {
                dispatch(&[topic.to_owned(), "--help".to_owned()])
            }
            Some(other) => Err(Failure::setup(format!(
                "no help for `{other}`: not a command\n\n{USAGE}"
            ))),
        },
        "-V" | "--version" => {
            println!("handoff {}", env!("CARGO_PKG_VERSION"));
            Ok(0)
        }
        other => Err(Failure::setup(format!(
            "unknown command `{other}`\n\n{USAGE}"
        ))),
    }
}

/// The arguments of one command, parsed by [`parse`].
#[derive(Debug, Default)]
pub struct Parsed {
    values: Vec<(&'static str, String)>,
    switches: Vec<&'static str>,
    /// `-h` or `--help` was given.
    pub help: bool,
}

impl Parsed {
    /// The value of `--name VALUE` / `--name=VALUE`.
    pub fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether the switch `--name` was given.
    pub fn switch(&self, name: &str) -> bool {
        self.switches.contains(&name)
    }
}

/// Parses `args` for a command that takes the options in `with_value` (`--out DIR` or
/// `--out=DIR`) and the switches in `switches`. Anything else, a missing value or a repeated
/// option is a usage error (exit 2) that quotes `usage`.
pub fn parse(
    args: &[String],
    with_value: &[&'static str],
    switches: &[&'static str],
    usage: &str,
) -> Result<Parsed, Failure> {
    let usage_error = |what: String| Failure::setup(format!("{what}\n\n{usage}"));
    let mut parsed = Parsed::default();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "-h" || arg == "--help" {
            parsed.help = true;
            continue;
        }
        let (name, inline) = match arg.split_once('=') {
            Some((name, value)) if name.starts_with("--") => (name, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        if let Some(&known) = with_value.iter().find(|&&o| o == name) {
            let value = match inline {
                Some(value) => value,
                None => iter
                    .next()
                    .cloned()
                    .ok_or_else(|| usage_error(format!("{known} needs a value")))?,
            };
            if parsed.value(known).is_some() {
                return Err(usage_error(format!("{known} given twice")));
            }
            parsed.values.push((known, value));
        } else if let Some(&known) = switches.iter().find(|&&s| s == arg) {
            if !parsed.switches.contains(&known) {
                parsed.switches.push(known);
            }
        } else {
            return Err(usage_error(format!("unexpected argument `{arg}`")));
        }
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_values_and_switches() {
        let p = parse(
            &strings(&["--out", "x", "--force"]),
            &["--out"],
            &["--force"],
            "",
        )
        .unwrap();
        assert_eq!(p.value("--out"), Some("x"));
        assert!(p.switch("--force"));
        let p = parse(&strings(&["--out=a=b"]), &["--out"], &[], "").unwrap();
        assert_eq!(p.value("--out"), Some("a=b"));
    }

    #[test]
    fn rejects_bad_usage() {
        for args in [
            &["--out"][..],
            &["--bogus"],
            &["--out", "a", "--out", "b"],
            &["--force=1"],
        ] {
            let err = parse(&strings(args), &["--out"], &["--force"], "").unwrap_err();
            assert_eq!(err.code, 2, "{args:?}");
        }
    }

    #[test]
    fn unknown_command_is_usage_error() {
        assert_eq!(dispatch(&strings(&["frobnicate"])).unwrap_err().code, 2);
        assert_eq!(dispatch(&[]).unwrap(), 2);
    }
}
