//! JUnit XML for CI systems: one test case per rule that fired (its findings as the failure
//! text) and one per process that ran with the layer, so each rule shows as a failing test.

use crate::summary::{FailOn, Finding, Report, RuleRow};

/// Escapes `text` for XML text and attribute values. Characters XML 1.0 cannot hold at all
/// (most C0 controls) become U+FFFD, so a stray byte in a message cannot break the file.
pub fn escape(text: &str) -> String {
    escape_with(text, false)
}

/// [`escape`] for element text, where line breaks and tabs may stay as they are.
fn escape_text(text: &str) -> String {
    escape_with(text, true)
}

fn escape_with(text: &str, keep_breaks: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' | '\t' if keep_breaks => out.push(c),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Kept literally in attributes they would be normalised to spaces.
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// How the app of `handoff run` ended, for its own test case (absent for `handoff report`).
pub struct AppRun<'a> {
    pub command: &'a str,
    /// `None` when it succeeded, else what went wrong ("exit status 3", "killed by signal 11").
    pub failure: Option<String>,
}

fn finding_line(f: &Finding) -> String {
    let pid = f.pid.map(|p| format!("pid {p}")).unwrap_or_default();
    let mut line = format!(
        "[{}] {} ({} {}): {}",
        f.severity, f.id, f.process, pid, f.message
    );
    if !f.objects.is_empty() {
        line.push_str(&format!("\n  objects: {}", f.objects.join(", ")));
    }
    if !f.spec.is_empty() {
        line.push_str(&format!("\n  spec: {}", f.spec));
    }
    line
}

struct Case {
    classname: &'static str,
    name: String,
    /// (message, type, body) of a failure.
    failure: Option<(String, String, String)>,
    output: Option<String>,
}

fn write_suite(out: &mut String, name: &str, cases: &[Case]) {
    let failures = cases.iter().filter(|c| c.failure.is_some()).count();
    out.push_str(&format!(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\">\n",
        escape(name),
        cases.len()
    ));
    for case in cases {
        out.push_str(&format!(
            "    <testcase classname=\"{}\" name=\"{}\"",
            case.classname,
            escape(&case.name)
        ));
        if case.failure.is_none() && case.output.is_none() {
            out.push_str("/>\n");
            continue;
        }
        out.push_str(">\n");
        if let Some((message, kind, body)) = &case.failure {
            out.push_str(&format!(
                "      <failure message=\"{}\" type=\"{}\">{}</failure>\n",
                escape(message),
                escape(kind),
                escape_text(body)
            ));
        }
        if let Some(output) = &case.output {
            out.push_str(&format!(
                "      <system-out>{}</system-out>\n",
                escape_text(output)
            ));
        }
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n");
}

/// The JUnit document for `report`, its rows (from [`crate::summary::aggregate`]) and the
/// `--fail-on` level: a rule whose severity reaches it is a failure, one below it passes with
/// its findings as output. Without findings the rules suite holds one passing case.
pub fn write(report: &Report, rows: &[RuleRow], fail_on: FailOn, app: Option<&AppRun>) -> String {
    let mut rule_cases: Vec<Case> = rows
        .iter()
        .map(|row| {
            let body: Vec<String> = report
                .findings
                .iter()
                .filter(|f| f.id == row.id)
                .map(finding_line)
                .collect();
            let body = body.join("\n");
            let (failure, output) = if fail_on.fails(&row.severity) {
                let message = format!("{} x{}: {}", row.severity, row.count, row.first_message);
                (Some((message, row.severity.clone(), body)), None)
            } else {
                (None, Some(body))
            };
            Case {
                classname: "handoff.rules",
                name: row.id.clone(),
                failure,
                output,
            }
        })
        .collect();
    if rule_cases.is_empty() {
        rule_cases.push(Case {
            classname: "handoff.rules",
            name: "no rule fired".to_owned(),
            failure: None,
            output: None,
        });
    }

    let mut process_cases: Vec<Case> = report
        .pids()
        .into_iter()
        .map(|pid| {
            let mine: Vec<&Finding> = report
                .findings
                .iter()
                .filter(|f| f.pid == Some(pid))
                .collect();
            let process = mine
                .first()
                .map(|f| f.process.as_str())
                .filter(|p| !p.is_empty())
                .unwrap_or("process");
            let failing = mine.iter().filter(|f| fail_on.fails(&f.severity)).count();
            let body: Vec<String> = mine.iter().map(|f| finding_line(f)).collect();
            let failure = (failing > 0).then(|| {
                (
                    format!("{} finding(s)", mine.len()),
                    "findings".to_owned(),
                    body.join("\n"),
                )
            });
            let output = (failing == 0 && !mine.is_empty()).then(|| body.join("\n"));
            Case {
                classname: "handoff.processes",
                name: format!("{process} (pid {pid})"),
                failure,
                output,
            }
        })
        .collect();
    if let Some(app) = app {
        process_cases.push(Case {
            classname: "handoff.processes",
            name: format!("app: {}", app.command),
            failure: app
                .failure
                .as_ref()
                .map(|why| (why.clone(), "app".to_owned(), why.clone())),
            output: None,
        });
    }

    let mut out =
        String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"handoff\">\n");
    write_suite(&mut out, "handoff.rules", &rule_cases);
    if !process_cases.is_empty() {
        write_suite(&mut out, "handoff.processes", &process_cases);
    }
    out.push_str("</testsuites>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::{aggregate, parse_report};

    #[test]
    fn escapes_markup_quotes_and_controls() {
        assert_eq!(
            escape("a<b>&\"c'\n\u{1}"),
            "a&lt;b&gt;&amp;&quot;c&apos;&#10;\u{FFFD}"
        );
    }

    #[test]
    fn clean_report_gives_a_passing_suite() {
        let report = parse_report(r#"{"type":"summary","pid":3,"counts":{}}"#).unwrap();
        let xml = write(&report, &[], FailOn::Error, None);
        assert!(xml.contains("tests=\"1\" failures=\"0\""), "{xml}");
        assert!(!xml.contains("<failure"));
        assert!(xml.contains("pid 3"));
    }

    #[test]
    fn warnings_pass_below_fail_on() {
        let report = parse_report(
            r#"{"type":"finding","pid":3,"id":"W","severity":"warning","message":"<m>"}"#,
        )
        .unwrap();
        let rows = aggregate(&report.findings);
        let xml = write(&report, &rows, FailOn::Error, None);
        assert!(!xml.contains("<failure"), "{xml}");
        assert!(xml.contains("&lt;m&gt;"));
        let xml = write(&report, &rows, FailOn::Warning, None);
        assert_eq!(xml.matches("<failure").count(), 2, "{xml}");
    }
}
