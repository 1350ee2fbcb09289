//! Reporting: one [`Reporter`] per instance delivers findings to the app's callbacks, the
//! log and the report file, after the filter and the duplicate limit.

pub mod callbacks;
pub mod jsonl;
pub mod log;
pub mod summary;

use crate::dispatch;
use crate::settings::Settings;
use crate::state;
use crate::state::{fast_map, FastMap};
use ash::vk;
use callbacks::{CMessage, Messenger, ReportCallback};
use handoff_rules::{Finding, Object, Rule, Severity};
use jsonl::{FindingRecord, ReportFile, SummaryRecord};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::RwLock;

/// What the call that raised findings should do next.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Verdict {
    /// An app callback returned `VK_TRUE`: return `VK_ERROR_VALIDATION_FAILED_EXT`.
    pub callback_aborted: bool,
    /// A reported finding proves the call undefined.
    pub undefined: bool,
}

impl Verdict {
    /// The result to return instead of calling down, or `None` when the call may go on.
    ///
    /// `blocked` is what the command answers for a call the layer proves undefined
    /// (DESIGN.md: `VK_ERROR_INVALID_EXTERNAL_HANDLE` for imports, as a driver would for a
    /// bad handle; `VK_ERROR_VALIDATION_FAILED_EXT` otherwise). It wins over a callback's
    /// `VK_TRUE`, which gives `VK_ERROR_VALIDATION_FAILED_EXT`.
    pub fn refusal(&self, settings: &Settings, blocked: vk::Result) -> Option<vk::Result> {
        if self.undefined && !settings.forward_invalid_calls {
            Some(blocked)
        } else if self.callback_aborted {
            Some(vk::Result::ERROR_VALIDATION_FAILED_EXT)
        } else {
            None
        }
    }
}

/// Count and last text per `(id, first object)`, for the duplicate limit.
#[derive(Default)]
struct Seen {
    count: u64,
    /// Kept once the limit is reached, so the summary can say what was muted.
    muted_example: Option<(String, Vec<Object>)>,
}

pub struct Reporter {
    pub settings: Settings,
    file: Option<ReportFile>,
    messengers: RwLock<Vec<Messenger>>,
    report_callbacks: RwLock<Vec<ReportCallback>>,
    /// Chained on `VkInstanceCreateInfo`: used only while `chained_active`.
    chained_messengers: Vec<Messenger>,
    chained_reports: Vec<ReportCallback>,
    chained_active: AtomicBool,
    seen: FastMap<(&'static str, u64), Seen>,
    counts: FastMap<&'static str, u64>,
    /// A finding went to the log (not only to the app's callbacks): the terminal summary
    /// is worth printing.
    logged: AtomicBool,
    /// The terminal summary was printed (destruction and exit both ask for it).
    summarized: AtomicBool,
}

impl Reporter {
    /// A reporter for `settings`. A report file that cannot be opened yields a settings
    /// finding, returned for the caller to report once callbacks are in place.
    pub fn new(
        settings: Settings,
        chained_messengers: Vec<Messenger>,
        chained_reports: Vec<ReportCallback>,
    ) -> (Self, Option<String>) {
        let mut problem = log::take_problem();
        let file = settings
            .report_file
            .as_deref()
            .and_then(|path| match ReportFile::open(path) {
                Ok(f) => Some(f),
                Err(e) => {
                    let msg = format!(
                        "report_file {}: {e}; no report file is written",
                        path.display()
                    );
                    // Both outputs refused: one finding that names both.
                    problem = Some(match problem.take() {
                        Some(p) => format!("{p}. {msg}"),
                        None => msg,
                    });
                    None
                }
            });
        let reporter = Self {
            settings,
            file,
            messengers: RwLock::new(Vec::new()),
            report_callbacks: RwLock::new(Vec::new()),
            chained_messengers,
            chained_reports,
            chained_active: AtomicBool::new(true),
            seen: fast_map(),
            counts: fast_map(),
            logged: AtomicBool::new(false),
            summarized: AtomicBool::new(false),
        };
        (reporter, problem)
    }

    /// Chained callbacks hear only what happens during instance creation and destruction.
    pub fn set_chained_active(&self, active: bool) {
        self.chained_active.store(active, Ordering::Relaxed);
    }

    pub fn add_messenger(&self, m: Messenger) {
        write(&self.messengers).push(m);
    }

    pub fn remove_messenger(&self, handle: u64) {
        write(&self.messengers).retain(|m| m.handle != handle);
    }

    pub fn add_report_callback(&self, r: ReportCallback) {
        write(&self.report_callbacks).push(r);
    }

    pub fn remove_report_callback(&self, handle: u64) {
        write(&self.report_callbacks).retain(|r| r.handle != handle);
    }

    fn has_app_callbacks(&self) -> bool {
        let chained = self.chained_active.load(Ordering::Relaxed)
            && !(self.chained_messengers.is_empty() && self.chained_reports.is_empty());
        chained || !read(&self.messengers).is_empty() || !read(&self.report_callbacks).is_empty()
    }

    /// Reports every finding and says what the call returns instead of going down, if
    /// anything ([`Verdict::refusal`] with this reporter's settings).
    pub fn refuse(&self, findings: Vec<Finding>, blocked: vk::Result) -> Option<vk::Result> {
        self.report_all(findings).refusal(&self.settings, blocked)
    }

    /// Reports every finding; the verdict says whether the call may go on.
    #[inline]
    pub fn report_all(&self, findings: Vec<Finding>) -> Verdict {
        // Nearly every call has nothing to report: no call, no loop, no drop.
        if findings.is_empty() {
            return Verdict::default();
        }
        self.report_each(findings)
    }

    fn report_each(&self, findings: Vec<Finding>) -> Verdict {
        let mut verdict = Verdict::default();
        for f in findings {
            let v = self.report(f);
            verdict.callback_aborted |= v.callback_aborted;
            verdict.undefined |= v.undefined;
        }
        verdict
    }

    /// Reports one finding through every enabled channel.
    pub fn report(&self, finding: Finding) -> Verdict {
        let rule: &'static Rule = finding.rule;
        let number = handoff_rules::id_number(rule.id);
        let mut verdict = Verdict {
            callback_aborted: false,
            undefined: rule.blocks_call,
        };
        if self.settings.message_id_filter.mutes(rule.id, number) {
            return verdict;
        }
        *self.counts.entry(rule.id).or_insert(0) += 1;

        let first = finding.objects.first().map_or(0, |o| o.handle);
        let limit = u64::from(self.settings.duplicate_limit);
        let count = {
            let mut seen = self.seen.entry((rule.id, first)).or_default();
            seen.count += 1;
            if limit != 0 && seen.count == limit {
                seen.muted_example = Some((finding.message.clone(), finding.objects.clone()));
            }
            seen.count
        };
        if limit != 0 && count > limit {
            return verdict;
        }
        let mut message = finding.message.clone();
        if rule.blocks_call {
            // The check cannot know the setting; the reporter does.
            message.push_str(if self.settings.forward_invalid_calls {
                " The call was passed to the driver because forward_invalid_calls is on."
            } else {
                " The call was not passed to the driver (forward_invalid_calls is off)."
            });
        }
        if limit != 0 && count == limit {
            message.push_str(&format!(
                " (reported {limit} times for this object: further reports are muted, see duplicate_limit)"
            ));
        }

        let action = self.settings.debug_action;
        // The log stays quiet only when the app's own callbacks get the finding instead.
        if action.log && !(action.callback && self.has_app_callbacks()) {
            log::finding(rule, &message);
            self.logged.store(true, Ordering::Relaxed);
        }
        if action.callback {
            verdict.callback_aborted = self.deliver(&finding, &message);
        }
        self.write_record(rule, number, &message, &finding.objects, 0);

        if rule.severity == Severity::Error {
            if action.brk {
                // SAFETY: raising a signal on our own process has no memory effects.
                unsafe { libc::raise(libc::SIGTRAP) };
            }
            if action.abort {
                self.write_summary();
                log::flush();
                std::process::abort();
            }
        }
        verdict
    }

    fn deliver(&self, finding: &Finding, message: &str) -> bool {
        let c = CMessage::new(finding, message);
        let mut aborted = false;
        if self.chained_active.load(Ordering::Relaxed) {
            for m in &self.chained_messengers {
                aborted |= c.deliver(m);
            }
            for r in &self.chained_reports {
                aborted |= c.deliver_report(r);
            }
        }
        // Copies, so no lock is held while app code runs (it may create messengers).
        let messengers = read(&self.messengers).clone();
        for m in &messengers {
            aborted |= c.deliver(m);
        }
        let reports = read(&self.report_callbacks).clone();
        for r in &reports {
            aborted |= c.deliver_report(r);
        }
        aborted
    }

    fn write_record(
        &self,
        rule: &Rule,
        number: i32,
        message: &str,
        objects: &[Object],
        suppressed: u64,
    ) {
        if let Some(file) = &self.file {
            let rec = FindingRecord {
                id: rule.id,
                id_number: number,
                severity: rule.severity,
                message,
                objects,
                spec: rule.spec,
                suppressed,
            };
            if let Err(e) = file.write_finding(&rec) {
                tracing::warn!(target: "handoff", "report file write failed: {e}");
            }
        }
    }

    /// Writes the summary record (and one record per muted duplicate series).
    pub fn write_summary(&self) {
        self.print_summary();
        let Some(file) = &self.file else { return };
        // Read before this function allocates anything of its own.
        let state_bytes = state::accounting::state_bytes();
        let limit = u64::from(self.settings.duplicate_limit);
        for e in self.seen.iter() {
            let (id, _) = *e.key();
            if let (Some((message, objects)), true) = (&e.muted_example, e.count > limit) {
                if let Some(rule) = handoff_rules::lookup(id) {
                    let number = handoff_rules::id_number(id);
                    self.write_record(rule, number, message, objects, e.count - limit);
                }
            }
        }
        let mut counts: Vec<(&str, u64)> =
            self.counts.iter().map(|e| (*e.key(), *e.value())).collect();
        counts.sort();
        let live = state::live_counts();
        let rec = SummaryRecord {
            counts: &counts,
            live_objects: &live.pairs(),
            state_bytes,
        };
        if let Err(e) = file.write_summary(&rec) {
            tracing::warn!(target: "handoff", "report file write failed: {e}");
        }
    }
}

impl Reporter {
    /// The counts table of [`summary`], once, to the log file or stderr, when
    /// [`summary::wanted`] and findings were logged.
    fn print_summary(&self) {
        use std::io::IsTerminal;
        let env = |name| std::env::var(name).ok();
        let to_terminal = self.settings.log_file.is_none() && std::io::stderr().is_terminal();
        if !self.logged.load(Ordering::Relaxed)
            || !summary::wanted(
                env(summary::WRAPPER_ENV).as_deref(),
                env(summary::SUMMARY_ENV).as_deref(),
                to_terminal,
            )
            || self.summarized.swap(true, Ordering::Relaxed)
        {
            return;
        }
        let counts: Vec<(&str, u64)> = self.counts.iter().map(|e| (*e.key(), *e.value())).collect();
        if let Some(table) = summary::render(&counts) {
            log::summary(self.settings.log_file.as_deref(), &table);
        }
    }
}

fn read<T>(l: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|p| p.into_inner())
}

fn write<T>(l: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|p| p.into_inner())
}

/// A caught panic: reported to every live instance, or logged when there is none.
pub fn internal_error(command: &'static str, what: &str) {
    let finding = || {
        Finding::new(
            &handoff_rules::catalogue::LAYER_INTERNAL_ERROR,
            format!(
                "Handoff failed inside {command}: {what}. The call was answered with an error \
                 code (or passed through for commands without a result). Please report this."
            ),
            Vec::new(),
        )
    };
    let instances = dispatch::all_instances();
    if instances.is_empty() {
        log::finding(finding().rule, &finding().message);
    }
    for inst in instances {
        inst.reporter.report(finding());
    }
}
