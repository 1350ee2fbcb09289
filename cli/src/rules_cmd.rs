//! `handoff rules`: the rule catalogue as a table, JSON, or the Markdown of `rules/README.md`.

use crate::{parse, Failure, Outcome};
use handoff_rules::{Rule, CATALOGUE};

const USAGE: &str = "\
usage: handoff rules [--format table|json|markdown]

Lists every rule VK_LAYER_HANDOFF_validation checks: its id (what pMessageIdName carries),
older ids it also answers to, severity, area, the command or structure it applies to, what
is wrong, and the spec page.

  --format table     aligned text (the default)
  --format json      an array of objects: id, aliases, severity, area, target, summary, spec
  --format markdown  the table committed as rules/README.md";

pub fn run(args: &[String]) -> Outcome {
    let parsed = parse(args, &["--format"], &[], USAGE)?;
    if parsed.help {
        println!("{USAGE}");
        return Ok(0);
    }
    let text = match parsed.value("--format").unwrap_or("table") {
        "table" => table(CATALOGUE),
        "json" => json(CATALOGUE),
        "markdown" | "md" => handoff_rules::render::markdown(CATALOGUE),
        other => {
            return Err(Failure::setup(format!(
                "unknown format `{other}`: table, json or markdown\n\n{USAGE}"
            )))
        }
    };
    print!("{text}");
    Ok(0)
}

fn area(rule: &Rule) -> String {
    format!("{:?}", rule.area)
}

/// Aligned columns; aliases and the spec link on indented lines below each rule.
pub fn table(rules: &[&Rule]) -> String {
    let header = ["ID", "SEVERITY", "AREA", "TARGET", "SUMMARY"];
    let rows: Vec<[String; 5]> = rules
        .iter()
        .map(|r| {
            [
                r.id.to_owned(),
                r.severity.as_str().to_owned(),
                area(r),
                r.target.to_owned(),
                r.summary.to_owned(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.len());
        }
    }
    let line = |cells: [&str; 5]| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<width$}  ", width = widths[i]));
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut out = line(header);
    for (rule, row) in rules.iter().zip(&rows) {
        out.push_str(&line([&row[0], &row[1], &row[2], &row[3], &row[4]]));
        if !rule.aliases.is_empty() {
            out.push_str(&format!("    aliases: {}\n", rule.aliases.join(", ")));
        }
        out.push_str(&format!("    spec: {}\n", rule.spec));
    }
    out
}

/// A JSON array, one object per rule.
pub fn json(rules: &[&Rule]) -> String {
    let array: Vec<serde_json::Value> = rules
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r.id,
                "aliases": r.aliases,
                "severity": r.severity.as_str(),
                "area": area(r),
                "target": r.target,
                "summary": r.summary,
                "spec": r.spec,
            })
        })
        .collect();
    serde_json::to_string_pretty(&array).unwrap_or_else(|_| "[]".to_owned()) + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_lists_every_rule() {
        let json: serde_json::Value = serde_json::from_str(&json(CATALOGUE)).unwrap();
        assert_eq!(json.as_array().unwrap().len(), CATALOGUE.len());
        let table = table(CATALOGUE);
        let markdown = handoff_rules::render::markdown(CATALOGUE);
        for rule in CATALOGUE {
            assert!(table.contains(rule.id));
            assert!(markdown.contains(&format!("| `{}` |", rule.id)));
        }
        assert_eq!(
            markdown.lines().filter(|l| l.starts_with("| `")).count(),
            CATALOGUE.len()
        );
    }
}
