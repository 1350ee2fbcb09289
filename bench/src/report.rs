//! The results table, the targets of issue 6 checked against it, and the JSON dump.

use crate::spawn::{Config, Driver, Wall};
use serde_json::{json, Value};

const CONFIGS: [Config; 3] = [Config::None, Config::Handoff, Config::Khronos];

/// One workload on one driver.
pub struct Row {
    pub driver: Driver,
    pub workload: String,
    walls: Vec<(Config, Wall)>,
    instructions: Vec<(Config, f64)>,
    /// Instructions per operation executed in Handoff's own library (with Handoff).
    in_layer: Option<f64>,
}

/// Median, min and max of a config's ns per operation.
struct Spread {
    median: f64,
    min: f64,
    max: f64,
}

impl Row {
    pub fn new(driver: Driver, workload: &str) -> Row {
        Row {
            driver,
            workload: workload.to_owned(),
            walls: Vec::new(),
            instructions: Vec::new(),
            in_layer: None,
        }
    }

    pub fn add_wall(&mut self, config: Config, w: Wall) {
        self.walls.push((config, w));
    }

    pub fn add_instructions(&mut self, config: Config, per_op: f64, in_layer: f64) {
        self.instructions.push((config, per_op));
        if config == Config::Handoff {
            self.in_layer = Some(in_layer);
        }
    }

    fn spread(&self, config: Config) -> Option<Spread> {
        let mut v: Vec<f64> = self
            .walls
            .iter()
            .filter(|(c, _)| *c == config)
            .map(|(_, w)| w.ns_per_op())
            .collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        Some(Spread {
            median: v[v.len() / 2],
            min: v[0],
            max: v[v.len() - 1],
        })
    }

    fn ratio(&self, config: Config) -> Option<f64> {
        Some(self.spread(config)?.median / self.spread(Config::None)?.median)
    }

    fn ir(&self, config: Config) -> Option<f64> {
        self.instructions
            .iter()
            .find(|(c, _)| *c == config)
            .map(|(_, v)| *v)
    }

    /// Instructions per operation a layer adds to the run without layers.
    fn added(&self, config: Config) -> Option<f64> {
        Some(self.ir(config)? - self.ir(Config::None)?)
    }

    fn rss_mib(&self, config: Config) -> Option<f64> {
        self.walls
            .iter()
            .filter(|(c, _)| *c == config)
            .map(|(_, w)| w.max_rss_kib as f64 / 1024.0)
            .reduce(f64::max)
    }

    fn findings(&self, config: Config) -> u64 {
        self.walls
            .iter()
            .filter(|(c, _)| *c == config)
            .map(|(_, w)| w.findings)
            .max()
            .unwrap_or(0)
    }

    fn intercepted_per_op(&self) -> u32 {
        self.walls
            .iter()
            .find(|(c, _)| *c == Config::Handoff)
            .map(|(_, w)| w.intercepted_per_op)
            .unwrap_or(0)
    }

    fn device(&self) -> &str {
        self.walls
            .first()
            .map(|(_, w)| w.device.as_str())
            .unwrap_or("")
    }

    fn unit(&self) -> &'static str {
        match self.workload.as_str() {
            "cycle" | "threads2" | "threads4" => "cycle",
            "import" => "import",
            "barriers" => "barrier",
            "submits" => "submit",
            _ => "op",
        }
    }
}

/// Layer state measured through the summary record.
pub struct State {
    pub driver: Driver,
    /// Bytes of state per tracked object (differenced between two object counts).
    pub per_object: f64,
    pub objects: u64,
    /// (cycles, state_bytes) at a small and a large number of cycles of workload (a).
    pub growth: (u64, u64, u64, u64),
}

pub struct Results {
    pub quick: bool,
    pub rows: Vec<Row>,
    pub state: Vec<State>,
}

/// A target of issue 6: the limit on Handoff's cost for one workload.
struct Target {
    workload: &'static str,
    added_ir: Option<f64>,
    ratio: Option<f64>,
}

const TARGETS: [Target; 7] = [
    Target {
        workload: "cycle",
        added_ir: Some(1500.0),
        ratio: Some(1.05),
    },
    Target {
        workload: "import",
        added_ir: Some(600.0),
        ratio: Some(1.15),
    },
    Target {
        workload: "barriers",
        added_ir: Some(150.0),
        ratio: Some(1.25),
    },
    Target {
        workload: "submits",
        added_ir: Some(600.0),
        ratio: Some(1.05),
    },
    Target {
        workload: "threads2",
        added_ir: None,
        ratio: Some(1.05),
    },
    Target {
        workload: "threads4",
        added_ir: None,
        ratio: Some(1.05),
    },
    // Per intercepted call, not per operation.
    Target {
        workload: "plain",
        added_ir: Some(30.0),
        ratio: None,
    },
];
const STATE_PER_OBJECT: f64 = 256.0;

fn opt(v: Option<f64>, prec: usize) -> String {
    v.map(|v| format!("{v:.prec$}"))
        .unwrap_or_else(|| "-".into())
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{cpu}, {cores} cores, Linux {}", kernel.trim())
}

impl Results {
    pub fn new(quick: bool) -> Results {
        Results {
            quick,
            rows: Vec::new(),
            state: Vec::new(),
        }
    }

    pub fn any_findings(&self) -> bool {
        self.rows
            .iter()
            .any(|r| CONFIGS.iter().any(|c| r.findings(*c) > 0))
    }

    pub fn print(&self) {
        println!(
            "Handoff benchmark{} on {}",
            if self.quick { " (--quick)" } else { "" },
            machine()
        );
        let mut driver = None;
        for r in &self.rows {
            if driver != Some(r.driver) {
                driver = Some(r.driver);
                println!();
                println!("driver {}: {}", r.driver.name(), r.device());
                println!(
                    "{:<9} {:<8} {:>22} {:>28} {:>28} | {:>9} {:>9} {:>9} | {:>17}",
                    "workload",
                    "per",
                    "none ns (min-max)",
                    "handoff ns (min-max) x",
                    "khronos ns (min-max) x",
                    "Ir none",
                    "+handoff",
                    "+khronos",
                    "RSS MiB n/h/k"
                );
            }
            let cell = |c: Config| match r.spread(c) {
                Some(s) if c == Config::None => {
                    format!("{:.0} ({:.0}-{:.0})", s.median, s.min, s.max)
                }
                Some(s) => format!(
                    "{:.0} ({:.0}-{:.0}) {:.2}",
                    s.median,
                    s.min,
                    s.max,
                    r.ratio(c).unwrap_or(f64::NAN)
                ),
                None => "-".into(),
            };
            let rss: Vec<String> = CONFIGS.iter().map(|c| opt(r.rss_mib(*c), 0)).collect();
            println!(
                "{:<9} {:<8} {:>22} {:>28} {:>28} | {:>9} {:>9} {:>9} | {:>17}",
                r.workload,
                r.unit(),
                cell(Config::None),
                cell(Config::Handoff),
                cell(Config::Khronos),
                opt(r.ir(Config::None), 0),
                opt(r.added(Config::Handoff), 0),
                opt(r.added(Config::Khronos), 0),
                rss.join("/"),
            );
            for c in CONFIGS {
                if r.findings(c) > 0 {
                    println!(
                        "  ! {} reported {} messages on this valid workload",
                        c.name(),
                        r.findings(c)
                    );
                }
            }
            if r.workload == "plain" && r.intercepted_per_op() > 0 {
                println!(
                    "  plain: {} of its calls per op go through Handoff: +{} instructions per intercepted call",
                    r.intercepted_per_op(),
                    opt(r.added(Config::Handoff).map(|a| a / r.intercepted_per_op() as f64), 1)
                );
            } else if r.workload == "plain" {
                println!(
                    "  plain: none of its calls go through Handoff (its device enables no \
                     external-memory extension): {} instructions per op run in Handoff's \
                     library; the whole run differs by {} per op (the driver's heap layout)",
                    opt(r.in_layer, 1),
                    opt(r.added(Config::Handoff), 1)
                );
            }
        }
        for s in &self.state {
            println!();
            println!(
                "state ({}): {:.0} bytes of Handoff state per tracked object ({} objects live); \
                 state_bytes after {} cycles of (a): {}, after {}: {}",
                s.driver.name(),
                s.per_object,
                s.objects,
                s.growth.0,
                s.growth.1,
                s.growth.2,
                s.growth.3
            );
        }
        self.print_targets();
    }

    fn target_lines(&self) -> Vec<(String, bool)> {
        let mut lines = Vec::new();
        for r in self.rows.iter().filter(|r| r.driver == Driver::Lavapipe) {
            let Some(t) = TARGETS.iter().find(|t| t.workload == r.workload) else {
                continue;
            };
            if let (Some(limit), Some(added)) = (t.added_ir, r.added(Config::Handoff)) {
                let (v, what) = if r.workload == "plain" && r.intercepted_per_op() > 0 {
                    (
                        added / r.intercepted_per_op() as f64,
                        "per intercepted call",
                    )
                } else if r.workload == "plain" {
                    // Nothing intercepted: what runs in Handoff's library per op must stay
                    // under one call's budget (the rest of the difference is the driver's).
                    (
                        r.in_layer.unwrap_or(added),
                        "in Handoff per op, no call intercepted,",
                    )
                } else {
                    (added, "per op")
                };
                lines.push((
                    format!(
                        "{}: +{v:.0} instructions {what} (target <= {limit})",
                        r.workload
                    ),
                    v <= limit,
                ));
            }
            if let (Some(limit), Some(ratio)) = (t.ratio, r.ratio(Config::Handoff)) {
                lines.push((
                    format!(
                        "{}: wall {ratio:.3}x no layer (target <= {limit})",
                        r.workload
                    ),
                    ratio <= limit,
                ));
            }
        }
        for s in self.state.iter().filter(|s| s.driver == Driver::Lavapipe) {
            lines.push((
                format!(
                    "state: {:.0} bytes per tracked object (target <= {STATE_PER_OBJECT})",
                    s.per_object
                ),
                s.per_object <= STATE_PER_OBJECT,
            ));
            lines.push((
                format!(
                    "state growth: {} bytes after {} cycles, {} after {} (target: no growth)",
                    s.growth.1, s.growth.0, s.growth.3, s.growth.2
                ),
                s.growth.3 <= s.growth.1,
            ));
        }
        lines
    }

    fn print_targets(&self) {
        let lines = self.target_lines();
        if lines.is_empty() {
            return;
        }
        println!();
        println!("targets (issue 6, lavapipe):");
        for (text, ok) in &lines {
            println!("  {} {text}", if *ok { "PASS" } else { "FAIL" });
        }
    }

    pub fn json(&self) -> Value {
        let rows: Vec<Value> = self
            .rows
            .iter()
            .map(|r| {
                let per: serde_json::Map<String, Value> = CONFIGS
                    .iter()
                    .filter_map(|c| {
                        let s = r.spread(*c)?;
                        Some((
                            c.name().to_owned(),
                            json!({
                                "ns_median": s.median, "ns_min": s.min, "ns_max": s.max,
                                "ratio": r.ratio(*c), "instructions": r.ir(*c),
                                "added_instructions": r.added(*c), "max_rss_mib": r.rss_mib(*c),
                                "findings": r.findings(*c),
                            }),
                        ))
                    })
                    .collect();
                json!({"driver": r.driver.name(), "device": r.device(), "workload": r.workload,
                       "unit": r.unit(), "intercepted_per_op": r.intercepted_per_op(),
                       "in_layer_instructions": r.in_layer, "configs": per})
            })
            .collect();
        let state: Vec<Value> = self
            .state
            .iter()
            .map(|s| json!({"driver": s.driver.name(), "bytes_per_object": s.per_object,
                            "objects": s.objects, "growth": [s.growth.0, s.growth.1, s.growth.2, s.growth.3]}))
            .collect();
        let targets: Vec<Value> = self
            .target_lines()
            .into_iter()
            .map(|(t, ok)| json!({"target": t, "pass": ok}))
            .collect();
        json!({"machine": machine(), "quick": self.quick, "rows": rows, "state": state, "targets": targets})
    }
}
