//! `handoff report FILE... [--junit OUT] [--fail-on LEVEL]`: the summary of JSON Lines
//! reports, as a table and optionally as JUnit XML, with the same exit policy as `handoff run`.

use crate::junit::{self, AppRun};
use crate::summary::{self, FailOn, Report};
use crate::{parse, Failure, Outcome};
use std::path::Path;

const USAGE: &str = "\
usage: handoff report FILE... [--junit OUT] [--fail-on error|warning|never]

Summarises one or more JSON Lines reports written by VK_LAYER_HANDOFF_validation (several
processes, several runs): a table of every id that fired (severity, count, first message,
objects, spec link), the most frequent first. --junit writes JUnit XML to OUT: one test case
per rule that fired (failing when its severity reaches --fail-on; its findings are the failure
text) and one per process. Exits 1 when findings reach --fail-on (default error), else 0;
2 when a report cannot be read.";

/// Prints the table, writes `junit` if asked, and returns 1 when findings reach `fail_on`.
pub fn conclude(
    report: &Report,
    fail_on: FailOn,
    junit_path: Option<&Path>,
    app: Option<&AppRun>,
) -> Result<bool, Failure> {
    let rows = summary::aggregate(&report.findings);
    print!(
        "{}",
        summary::render_table(
            &rows,
            report.pids().len(),
            summary::colour_wanted(),
            summary::terminal_width()
        )
    );
    if let Some(path) = junit_path {
        let xml = junit::write(report, &rows, fail_on, app);
        std::fs::write(path, xml)
            .map_err(|err| Failure::runtime(format!("cannot write {}: {err}", path.display())))?;
    }
    Ok(fail_on.reached(&rows))
}

/// Splits `args` into the options `parse` knows and the positional files.
fn split_files(args: &[String]) -> (Vec<String>, Vec<String>) {
    let mut options = Vec::new();
    let mut files = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "--junit" || arg == "--fail-on" {
            options.push(arg.clone());
            options.extend(iter.next().cloned());
        } else if arg.starts_with('-') && arg != "-" {
            options.push(arg.clone());
        } else {
            files.push(arg.clone());
        }
    }
    (options, files)
}

pub fn run(args: &[String]) -> Outcome {
    let (options, files) = split_files(args);
    let parsed = parse(&options, &["--junit", "--fail-on"], &[], USAGE)?;
    if parsed.help {
        println!("{USAGE}");
        return Ok(0);
    }
    let fail_on = FailOn::parse(parsed.value("--fail-on"))
        .map_err(|err| Failure::setup(format!("{err}\n\n{USAGE}")))?;
    if files.is_empty() {
        return Err(Failure::setup(format!("no report given\n\n{USAGE}")));
    }
    let mut report = Report::default();
    for file in &files {
        report.merge(summary::read_report(Path::new(file)).map_err(Failure::setup)?);
    }
    let failed = conclude(
        &report,
        fail_on,
        parsed.value("--junit").map(Path::new),
        None,
    )?;
    Ok(i32::from(failed))
}
