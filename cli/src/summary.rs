//! Reading the layer's JSON Lines reports and summarising them: findings grouped per id, the
//! `--fail-on` policy, and the terminal table.
//!
//! Shared by `handoff run`, `handoff report` (which also hand the rows to [`crate::junit`])
//! and `handoff demo`.

use std::io::IsTerminal;
use std::path::Path;

/// One `{"type":"finding",…}` record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Finding {
    pub id: String,
    pub severity: String,
    pub message: String,
    /// `VkType 0xhandle`, in the record's order.
    pub objects: Vec<String>,
    pub spec: String,
    pub pid: Option<u64>,
    pub process: String,
}

/// One `{"type":"summary",…}` record: a process that ran with the layer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SummaryRecord {
    pub pid: Option<u64>,
    /// Total of the record's `counts`.
    pub total: u64,
}

/// Everything read from one or more reports.
#[derive(Debug, Default)]
pub struct Report {
    pub findings: Vec<Finding>,
    pub summaries: Vec<SummaryRecord>,
    /// Records of any type.
    pub records: usize,
}

impl Report {
    /// Appends another report's records (several files, several runs).
    pub fn merge(&mut self, other: Report) {
        self.findings.extend(other.findings);
        self.summaries.extend(other.summaries);
        self.records += other.records;
    }

    /// Every process seen, in order of first appearance: pids from findings and summaries.
    pub fn pids(&self) -> Vec<u64> {
        let mut seen = Vec::new();
        let from_findings = self.findings.iter().map(|f| f.pid);
        let from_summaries = self.summaries.iter().map(|s| s.pid);
        for pid in from_findings.chain(from_summaries).flatten() {
            if !seen.contains(&pid) {
                seen.push(pid);
            }
        }
        seen
    }
}

/// Parses a JSON Lines report; blank lines are skipped, anything else must be JSON.
pub fn parse_report(text: &str) -> Result<Report, String> {
    let mut report = Report::default();
    for (number, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let record: serde_json::Value = serde_json::from_str(line)
            .map_err(|err| format!("report line {} is not JSON: {err}", number + 1))?;
        report.records += 1;
        let text = |name: &str| record[name].as_str().unwrap_or("?").to_owned();
        match record["type"].as_str() {
            Some("finding") => {
                let objects = record["objects"]
                    .as_array()
                    .map(|list| {
                        list.iter()
                            .map(|o| {
                                format!(
                                    "{} {}",
                                    o["type"].as_str().unwrap_or("?"),
                                    o["handle"].as_str().unwrap_or("?")
                                )
                            })
                            .collect()
                    })
                    .unwrap_or_default();
                report.findings.push(Finding {
                    id: text("id"),
                    severity: text("severity"),
                    message: text("message"),
                    objects,
                    spec: record["spec"].as_str().unwrap_or("").to_owned(),
                    pid: record["pid"].as_u64(),
                    process: record["process"].as_str().unwrap_or("").to_owned(),
                });
            }
            Some("summary") => {
                let total = record["counts"]
                    .as_object()
                    .map(|counts| counts.values().filter_map(|n| n.as_u64()).sum())
                    .unwrap_or(0);
                report.summaries.push(SummaryRecord {
                    pid: record["pid"].as_u64(),
                    total,
                });
            }
            _ => {}
        }
    }
    Ok(report)
}

/// Reads and parses the report at `path`; a missing file means the layer never wrote one.
pub fn read_report(path: &Path) -> Result<Report, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_report(&text).map_err(|err| format!("{}: {err}", path.display())),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Err(format!(
            "{}: no report (was the layer loaded?)",
            path.display()
        )),
        Err(err) => Err(format!("cannot read {}: {err}", path.display())),
    }
}

/// The findings of one id, across every process.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleRow {
    pub id: String,
    /// The worst severity reported for the id.
    pub severity: String,
    pub count: usize,
    pub first_message: String,
    /// Distinct objects, in order of first appearance.
    pub objects: Vec<String>,
    pub spec: String,
    /// Distinct pids, in order of first appearance.
    pub pids: Vec<u64>,
}

fn severity_rank(severity: &str) -> u8 {
    match severity {
        "error" => 2,
        "warning" => 1,
        _ => 0,
    }
}

/// Groups findings per id, the most frequent first (ties: errors first, then by id).
pub fn aggregate(findings: &[Finding]) -> Vec<RuleRow> {
    let mut rows: Vec<RuleRow> = Vec::new();
    for finding in findings {
        let row = match rows.iter_mut().position(|r| r.id == finding.id) {
            Some(index) => &mut rows[index],
            None => {
                rows.push(RuleRow {
                    id: finding.id.clone(),
                    severity: finding.severity.clone(),
                    count: 0,
                    first_message: finding.message.clone(),
                    objects: Vec::new(),
                    spec: finding.spec.clone(),
                    pids: Vec::new(),
                });
                rows.last_mut().expect("just pushed")
            }
        };
        row.count += 1;
        if severity_rank(&finding.severity) > severity_rank(&row.severity) {
            row.severity = finding.severity.clone();
        }
        if row.spec.is_empty() {
            row.spec = finding.spec.clone();
        }
        for object in &finding.objects {
            if !row.objects.contains(object) {
                row.objects.push(object.clone());
            }
        }
        if let Some(pid) = finding.pid {
            if !row.pids.contains(&pid) {
                row.pids.push(pid);
            }
        }
    }
    rows.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(severity_rank(&b.severity).cmp(&severity_rank(&a.severity)))
            .then(a.id.cmp(&b.id))
    });
    rows
}

/// `--fail-on`: the severity from which findings fail the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOn {
    Error,
    Warning,
    Never,
}

impl FailOn {
    pub fn parse(value: Option<&str>) -> Result<Self, String> {
        match value {
            None | Some("error") => Ok(FailOn::Error),
            Some("warning") => Ok(FailOn::Warning),
            Some("never") => Ok(FailOn::Never),
            Some(other) => Err(format!(
                "--fail-on {other}: expected error, warning or never"
            )),
        }
    }

    /// Whether a finding of `severity` fails the run.
    pub fn fails(self, severity: &str) -> bool {
        match self {
            FailOn::Error => severity_rank(severity) >= 2,
            FailOn::Warning => severity_rank(severity) >= 1,
            FailOn::Never => false,
        }
    }

    /// Whether any row fails the run.
    pub fn reached(self, rows: &[RuleRow]) -> bool {
        rows.iter().any(|r| self.fails(&r.severity))
    }
}

/// Colour on stdout: only on a terminal, and never with `NO_COLOR` set (https://no-color.org).
pub fn colour_wanted() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && std::io::stdout().is_terminal()
}

/// The width to wrap to: `$COLUMNS` if set, else 100.
pub fn terminal_width() -> usize {
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|&c: &usize| c >= 40)
        .unwrap_or(100)
}

/// Splits `text` into lines of at most `width` characters, at spaces where possible.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(10);
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        let mut word = word.to_owned();
        // A word longer than a line (a URL, a handle list) is cut.
        while word.chars().count() > width {
            if !line.is_empty() {
                lines.push(std::mem::take(&mut line));
            }
            let cut: String = word.chars().take(width).collect();
            word = word.chars().skip(width).collect();
            lines.push(cut);
        }
        let needed = line.chars().count() + usize::from(!line.is_empty()) + word.chars().count();
        if needed > width && !line.is_empty() {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

fn paint(text: &str, code: &str, colour: bool) -> String {
    if colour {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

/// The summary table: one block per id (the most frequent first) with aligned columns id,
/// severity, count; then the first message wrapped to `width`, the objects and the spec link.
pub fn render_table(rows: &[RuleRow], processes: usize, colour: bool, width: usize) -> String {
    let mut out = String::new();
    let total: usize = rows.iter().map(|r| r.count).sum();
    if rows.is_empty() {
        out.push_str(&format!(
            "handoff: no findings ({processes} process{} with the layer)\n",
            if processes == 1 { "" } else { "es" }
        ));
        return out;
    }
    let id_width = rows.iter().map(|r| r.id.len()).max().unwrap_or(2).max(2);
    let count_width = rows
        .iter()
        .map(|r| r.count.to_string().len())
        .max()
        .unwrap_or(5)
        .max(5);
    out.push_str(&format!(
        "handoff: {total} finding{} of {} rule{} in {processes} process{}\n",
        if total == 1 { "" } else { "s" },
        rows.len(),
        if rows.len() == 1 { "" } else { "s" },
        if processes == 1 { "" } else { "es" }
    ));
    out.push_str(&format!(
        "{:<id_width$}  {:<8}  {:>count_width$}  first message\n",
        "id", "severity", "count"
    ));
    let indent = id_width + 2 + 8 + 2 + count_width + 2;
    let text_width = width.saturating_sub(indent).max(30);
    let pad = " ".repeat(indent);
    for row in rows {
        let severity_colour = if row.severity == "error" {
            "1;31"
        } else {
            "1;33"
        };
        let message = wrap(&row.first_message, text_width);
        out.push_str(&format!(
            "{}  {}  {:>count_width$}  {}\n",
            paint(&format!("{:<id_width$}", row.id), "1", colour),
            paint(&format!("{:<8}", row.severity), severity_colour, colour),
            row.count,
            message[0]
        ));
        for line in &message[1..] {
            out.push_str(&format!("{pad}{line}\n"));
        }
        if !row.objects.is_empty() {
            let objects = format!("objects: {}", row.objects.join(", "));
            for line in wrap(&objects, text_width) {
                out.push_str(&format!("{pad}{line}\n"));
            }
        }
        if !row.spec.is_empty() {
            out.push_str(&format!("{pad}spec: {}\n", paint(&row.spec, "4", colour)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(id: &str, severity: &str, pid: u64) -> Finding {
        Finding {
            id: id.into(),
            severity: severity.into(),
            message: format!("{id} message"),
            objects: vec![format!("VkImage 0x{pid}")],
            spec: format!("https://spec/{id}"),
            pid: Some(pid),
            process: "app".into(),
        }
    }

    #[test]
    fn parses_findings_and_summaries() {
        let text = concat!(
            r#"{"type":"finding","pid":7,"process":"a","id":"VUID-X","severity":"error","message":"m","objects":[{"type":"VkImage","handle":"0x1"}],"spec":"u"}"#,
            "\n\n",
            r#"{"type":"summary","pid":7,"counts":{"VUID-X":1,"Y":2}}"#,
            "\n"
        );
        let report = parse_report(text).unwrap();
        assert_eq!(report.records, 2);
        assert_eq!(report.findings[0].objects, ["VkImage 0x1"]);
        assert_eq!(report.findings[0].pid, Some(7));
        assert_eq!(report.summaries[0].total, 3);
        assert_eq!(report.pids(), [7]);
        assert!(parse_report("{oops").is_err());
    }

    #[test]
    fn aggregates_most_frequent_first() {
        let rows = aggregate(&[
            finding("A", "warning", 1),
            finding("B", "error", 1),
            finding("B", "error", 2),
            finding("C", "error", 3),
        ]);
        let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["B", "C", "A"]);
        assert_eq!(rows[0].count, 2);
        assert_eq!(rows[0].pids, [1, 2]);
        assert_eq!(rows[0].objects, ["VkImage 0x1", "VkImage 0x2"]);
    }

    #[test]
    fn fail_on_levels() {
        let warning = aggregate(&[finding("A", "warning", 1)]);
        assert!(!FailOn::Error.reached(&warning));
        assert!(FailOn::Warning.reached(&warning));
        assert!(!FailOn::Never.reached(&aggregate(&[finding("B", "error", 1)])));
        assert!(FailOn::parse(Some("sometimes")).is_err());
        assert_eq!(FailOn::parse(None), Ok(FailOn::Error));
    }

    #[test]
    fn wraps_at_spaces_and_cuts_long_words() {
        assert_eq!(wrap("aaa bbb ccc", 7), ["aaa bbb", "ccc"]);
        assert_eq!(wrap("", 10), [""]);
        let long = "x".repeat(25);
        assert_eq!(wrap(&long, 10).len(), 3);
    }

    #[test]
    fn table_is_aligned_and_plain_without_colour() {
        let mut long = finding("VUID-long-id", "error", 1);
        long.message = "word ".repeat(40);
        let rows = aggregate(&[long, finding("B", "warning", 1), finding("B", "warning", 1)]);
        let table = render_table(&rows, 1, false, 80);
        assert!(!table.contains('\x1b'));
        assert!(table.lines().all(|l| l.chars().count() <= 80), "{table}");
        let first_row = table.lines().nth(2).unwrap();
        assert!(first_row.starts_with("B "), "{table}");
        let column = table.lines().nth(1).unwrap().find("severity").unwrap();
        assert_eq!(first_row.find("warning"), Some(column));
        assert!(render_table(&rows, 1, true, 80).contains("\x1b[1;31m"));
        assert!(render_table(&[], 2, false, 80).contains("no findings"));
    }
}
