//! The JSON Lines report file (`report_file`): one finding or summary object per line.
//!
//! The shapes are a fixed interface (DESIGN.md, "Report file"): tests and user scripts read
//! them, so field names and order do not change. No serde: the records are flat and the
//! layer's dependency set stays small, so the writer escapes strings itself.

use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use handoff_rules::{Object, Severity};

/// An open report file. Several layer instances (and processes) may append to one path;
/// every record goes out in a single `write(2)` on an `O_APPEND` descriptor so lines never
/// interleave, and the mutex keeps threads of one process from splitting a record.
#[derive(Debug)]
pub struct ReportFile {
    file: Mutex<File>,
}

/// One finding, borrowed from the reporter so writing allocates only the line.
#[derive(Clone, Copy, Debug)]
pub struct FindingRecord<'a> {
    pub id: &'a str,
    pub id_number: i32,
    pub severity: Severity,
    pub message: &'a str,
    pub objects: &'a [Object],
    pub spec: &'a str,
    /// Reports of the same (id, first object) muted by `duplicate_limit` since the last one
    /// written.
    pub suppressed: u64,
}

/// The end-of-instance or end-of-process summary.
#[derive(Clone, Copy, Debug)]
pub struct SummaryRecord<'a> {
    /// Findings per id.
    pub counts: &'a [(&'a str, u64)],
    /// Objects still tracked, per kind (`memory`, `buffer`, `image`, …).
    pub live_objects: &'a [(&'a str, u64)],
    /// Heap bytes held by the state map, measured.
    pub state_bytes: u64,
}

/// Opens one of the layer's outputs (`what`: "report file", "log file") for appending,
/// creating it with mode 0600.
///
/// `O_NOFOLLOW` refuses a symlink in the last component: the output may be written by a
/// privileged process into a shared directory, and following a planted link would let
/// someone else choose what file gets appended to. `O_NONBLOCK` keeps a FIFO at the path
/// from blocking the app forever; anything but a regular file is refused. An existing file
/// keeps its mode: the user chose it.
pub fn open_private_append(path: &Path, what: &str) -> io::Result<File> {
    let file = OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o600)
        .custom_flags(libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| {
            if e.raw_os_error() == Some(libc::ELOOP) {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{what} {} is a symbolic link; Handoff never writes through a symlink, \
                         give the real path",
                        path.display()
                    ),
                )
            } else if e.raw_os_error() == Some(libc::ENXIO) {
                // What a write-only, non-blocking open of a FIFO without a reader answers.
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{what} {} is a FIFO", path.display()),
                )
            } else {
                io::Error::new(
                    e.kind(),
                    format!("cannot open {what} {}: {e}", path.display()),
                )
            }
        })?;
    let ft = file.metadata()?.file_type();
    if !ft.is_file() {
        let kind = if ft.is_fifo() {
            "a FIFO"
        } else if ft.is_socket() {
            "a socket"
        } else if ft.is_char_device() || ft.is_block_device() {
            "a device"
        } else {
            "not a regular file"
        };
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{what} {} is {kind}", path.display()),
        ));
    }
    Ok(file)
}

impl ReportFile {
    /// Opens `path` for appending, creating it with mode 0600 ([`open_private_append`]).
    pub fn open(path: &Path) -> io::Result<ReportFile> {
        let file = open_private_append(path, "report file")?;
        Ok(ReportFile {
            file: Mutex::new(file),
        })
    }

    /// Appends one `{"type":"finding",…}` line.
    pub fn write_finding(&self, f: &FindingRecord<'_>) -> io::Result<()> {
        self.write_line(&finding_line(f))
    }

    /// Appends one `{"type":"summary",…}` line.
    pub fn write_summary(&self, s: &SummaryRecord<'_>) -> io::Result<()> {
        self.write_line(&summary_line(s))
    }

    fn write_line(&self, line: &str) -> io::Result<()> {
        // A poisoned lock only means another thread panicked mid-write; the file is still
        // usable and losing every later finding would be worse.
        let mut file = self.file.lock().unwrap_or_else(|e| e.into_inner());
        let bytes = line.as_bytes();
        // One write(2) for the whole line is what keeps appenders from interleaving. A short
        // write (disk full, signal) is finished rather than leaving half a line behind.
        let n = loop {
            match file.write(bytes) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                r => break r?,
            }
        };
        if n < bytes.len() {
            file.write_all(&bytes[n..])?;
        }
        Ok(())
    }
}

/// The record header shared by both shapes: type, time, pid, process.
fn header(out: &mut String, ty: &str) {
    out.push_str("{\"type\":\"");
    out.push_str(ty);
    out.push_str("\",\"time\":\"");
    out.push_str(&rfc3339_now());
    // Not cached: a forked child must report its own pid.
    let _ = write!(out, "\",\"pid\":{},\"process\":", std::process::id());
    push_str_value(out, process_name());
}

fn finding_line(f: &FindingRecord<'_>) -> String {
    let mut out = String::with_capacity(256 + f.message.len() + 64 * f.objects.len());
    header(&mut out, "finding");
    out.push_str(",\"id\":");
    push_str_value(&mut out, f.id);
    let _ = write!(out, ",\"id_number\":{},\"severity\":", f.id_number);
    push_str_value(&mut out, f.severity.as_str());
    out.push_str(",\"message\":");
    push_str_value(&mut out, f.message);
    out.push_str(",\"objects\":[");
    for (i, o) in f.objects.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"type\":");
        push_str_value(&mut out, o.type_name());
        let _ = write!(out, ",\"handle\":\"0x{:x}\"}}", o.handle);
    }
    out.push_str("],\"spec\":");
    push_str_value(&mut out, f.spec);
    let _ = writeln!(out, ",\"suppressed\":{}}}", f.suppressed);
    out
}

fn summary_line(s: &SummaryRecord<'_>) -> String {
    let mut out = String::with_capacity(256 + 64 * (s.counts.len() + s.live_objects.len()));
    header(&mut out, "summary");
    out.push_str(",\"counts\":");
    push_map(&mut out, s.counts);
    out.push_str(",\"live_objects\":");
    push_map(&mut out, s.live_objects);
    let _ = writeln!(out, ",\"state_bytes\":{}}}", s.state_bytes);
    out
}

fn push_map(out: &mut String, pairs: &[(&str, u64)]) {
    out.push('{');
    for (i, (k, v)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_str_value(out, k);
        let _ = write!(out, ":{v}");
    }
    out.push('}');
}

/// `s` as a quoted JSON string.
fn push_str_value(out: &mut String, s: &str) {
    out.push('"');
    json_escape(s, out);
    out.push('"');
}

/// Appends `s` escaped for use inside a JSON string (without the quotes).
///
/// `\n`, `\r` and `\t` use their short forms so messages stay readable; every other control
/// character (and DEL, which some terminals act on) becomes `\u00XX`. Non-ASCII text is
/// kept as UTF-8, which JSON allows.
pub fn json_escape(s: &str, out: &mut String) {
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c < ' ' || c == '\u{7f}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
}

/// The process name as the kernel knows it (`/proc/self/comm`), read once: it names the
/// executable after exec, which is when this module's statics are fresh anyway.
fn process_name() -> &'static str {
    // The executable's file name: `/proc/self/comm` is cut to 15 bytes by the kernel,
    // so it is only the fallback.
    static NAME: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        std::env::current_exe()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .or_else(|| std::fs::read_to_string("/proc/self/comm").ok())
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "unknown".to_owned())
    });
    &NAME
}

/// The current UTC time as RFC 3339 with milliseconds, e.g. `2026-11-22T10:04:05.123Z`.
pub fn rfc3339_now() -> String {
    let (secs, millis) = match SystemTime::now().duration_since(UNIX_EPOCH) {
        Ok(d) => (d.as_secs() as i64, d.subsec_millis()),
        // A clock set before 1970: still a well-formed (negative) time.
        Err(e) => {
            let ms = -(e.duration().as_millis() as i64);
            (ms.div_euclid(1000), ms.rem_euclid(1000) as u32)
        }
    };
    rfc3339(secs, millis)
}

/// Formats Unix time `secs` (+ `millis`) as RFC 3339 UTC. Public so callers with their own
/// timestamps format them identically.
pub fn rfc3339(secs: i64, millis: u32) -> String {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        millis.min(999)
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day).
///
/// Howard Hinnant's `civil_from_days`: shifting the year to start in March puts the leap
/// day last, so each 400-year era is a fixed 146097 days and no tables are needed.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097); // [0, 146096]
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // [0, 399]
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // [0, 365]
    let mp = (5 * doy + 2) / 153; // [0, 11], March = 0
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32; // [1, 31]
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32; // [1, 12]
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ash::vk;
    use std::os::unix::fs::PermissionsExt;
    use std::path::PathBuf;

    fn scratch(tag: &str) -> PathBuf {
        use std::sync::atomic::{AtomicU32, Ordering};
        static N: AtomicU32 = AtomicU32::new(0);
        let d = std::env::temp_dir().join(format!(
            "handoff-jsonl-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn escaped(s: &str) -> String {
        let mut out = String::new();
        json_escape(s, &mut out);
        out
    }

    #[test]
    fn escaping() {
        assert_eq!(escaped("plain"), "plain");
        assert_eq!(escaped(r#"a"b\c"#), r#"a\"b\\c"#);
        assert_eq!(escaped("l1\nl2\r\t"), "l1\\nl2\\r\\t");
        assert_eq!(
            escaped("\u{0}\u{1f}\u{8}\u{c}\u{7f}"),
            "\\u0000\\u001f\\u0008\\u000c\\u007f"
        );
        assert_eq!(escaped("caf\u{e9} \u{2028}"), "caf\u{e9} \u{2028}");
        // Round trip through a real JSON parser.
        let nasty = "q\"b\\s/\u{1}\n\u{7f}\u{10ffff}";
        let json = format!("\"{}\"", escaped(nasty));
        assert_eq!(serde_json::from_str::<String>(&json).unwrap(), nasty);
    }

    #[test]
    fn time_format() {
        assert_eq!(rfc3339(0, 0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(951_782_400, 0), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(951_868_799, 999), "2000-02-29T23:59:59.999Z");
        assert_eq!(rfc3339(951_868_800, 0), "2000-03-01T00:00:00.000Z");
        // 2026-11-22T10:04:05.123Z
        assert_eq!(rfc3339(1_795_341_845, 123), "2026-11-22T10:04:05.123Z");
        assert_eq!(rfc3339(4_107_542_400, 0), "2100-03-01T00:00:00.000Z");
        assert_eq!(rfc3339(-1, 0), "1969-12-31T23:59:59.000Z");
        let now = rfc3339_now();
        assert_eq!(now.len(), 24, "{now}");
        assert!(now.ends_with('Z') && now.as_bytes()[10] == b'T');
        assert!(now.as_str() > "2024");
    }

    #[test]
    fn civil_matches_day_by_day_walk() {
        // Walk forward from 1970-01-01 over 1000 years, checking every date.
        let dim = |y: i64, m: u32| match m {
            2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        let (mut y, mut m, mut d) = (1970i64, 1u32, 1u32);
        for day in 0..366_000 {
            assert_eq!(civil_from_days(day), (y, m, d), "day {day}");
            d += 1;
            if d > dim(y, m) {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }

    fn finding<'a>(objects: &'a [Object], message: &'a str) -> FindingRecord<'a> {
        FindingRecord {
            id: "VUID-VkMemoryGetFdInfoKHR-handleType-00671",
            id_number: -123,
            severity: Severity::Error,
            message,
            objects,
            spec:
                "https://docs.vulkan.org/refpages/latest/refpages/source/VkMemoryGetFdInfoKHR.html",
            suppressed: 2,
        }
    }

    #[test]
    fn creates_0600_and_appends_lines_that_parse() {
        let dir = scratch("append");
        let path = dir.join("report.jsonl");
        let objects = [
            Object::new(vk::ObjectType::DEVICE_MEMORY, 0xDEAD_BEEF),
            Object::new(vk::ObjectType::DEVICE, u64::MAX),
        ];
        {
            let r = ReportFile::open(&path).unwrap();
            r.write_finding(&finding(&objects, "bad \"thing\"\nline"))
                .unwrap();
        }
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // A second open appends rather than truncating.
        let r = ReportFile::open(&path).unwrap();
        r.write_summary(&SummaryRecord {
            counts: &[("VUID-a", 3), ("HANDOFF-Leak-live-objects", 1)],
            live_objects: &[("memory", 2), ("image", 0)],
            state_bytes: 4096,
        })
        .unwrap();

        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.ends_with('\n'));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);

        let f: serde_json::Value = serde_json::from_str(lines[0]).unwrap();
        let keys: Vec<&str> = f.as_object().unwrap().keys().map(String::as_str).collect();
        let mut expected = vec![
            "type",
            "time",
            "pid",
            "process",
            "id",
            "id_number",
            "severity",
            "message",
            "objects",
            "spec",
            "suppressed",
        ];
        expected.sort_unstable();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, expected);
        assert!(lines[0].starts_with("{\"type\":\"finding\",\"time\":\""));
        assert_eq!(f["id"], "VUID-VkMemoryGetFdInfoKHR-handleType-00671");
        assert_eq!(f["id_number"], -123);
        assert_eq!(f["severity"], "error");
        assert_eq!(f["message"], "bad \"thing\"\nline");
        assert_eq!(f["pid"], std::process::id());
        assert!(!f["process"].as_str().unwrap().is_empty());
        assert_eq!(f["suppressed"], 2);
        assert_eq!(
            f["objects"],
            serde_json::json!([
                {"type": "VkDeviceMemory", "handle": "0xdeadbeef"},
                {"type": "VkDevice", "handle": "0xffffffffffffffff"}
            ])
        );
        assert_eq!(f["time"].as_str().unwrap().len(), 24);

        let s: serde_json::Value = serde_json::from_str(lines[1]).unwrap();
        assert!(lines[1].starts_with("{\"type\":\"summary\",\"time\":\""));
        assert_eq!(
            s["counts"],
            serde_json::json!({"VUID-a": 3, "HANDOFF-Leak-live-objects": 1})
        );
        assert_eq!(
            s["live_objects"],
            serde_json::json!({"memory": 2, "image": 0})
        );
        assert_eq!(s["state_bytes"], 4096);
        assert_eq!(s["pid"], std::process::id());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn empty_collections_are_valid_json() {
        let line = summary_line(&SummaryRecord {
            counts: &[],
            live_objects: &[],
            state_bytes: 0,
        });
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["counts"], serde_json::json!({}));
        let line = finding_line(&finding(&[], ""));
        let v: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(v["objects"], serde_json::json!([]));
    }

    #[test]
    fn existing_file_mode_is_left_alone() {
        let dir = scratch("mode");
        let path = dir.join("r.jsonl");
        std::fs::write(&path, "").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        ReportFile::open(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn symlink_is_refused() {
        let dir = scratch("symlink");
        let target = dir.join("target.jsonl");
        std::fs::write(&target, "").unwrap();
        let link = dir.join("link.jsonl");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = ReportFile::open(&link).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        // A dangling link must not create its target either.
        let dangling = dir.join("dangling.jsonl");
        std::os::unix::fs::symlink(dir.join("created.jsonl"), &dangling).unwrap();
        assert!(ReportFile::open(&dangling).is_err());
        assert!(!dir.join("created.jsonl").exists());
        assert_eq!(std::fs::read(&target).unwrap(), b"");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn fifo_and_directory_are_refused_without_blocking() {
        let dir = scratch("special");
        let fifo = dir.join("fifo");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: c is a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        assert!(ReportFile::open(&fifo).is_err());
        assert!(ReportFile::open(&dir).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn concurrent_writers_keep_lines_whole() {
        let dir = scratch("threads");
        let path = dir.join("r.jsonl");
        let long = "x".repeat(10_000);
        std::thread::scope(|s| {
            for _ in 0..4 {
                let r = ReportFile::open(&path).unwrap();
                let long = long.as_str();
                s.spawn(move || {
                    for _ in 0..50 {
                        r.write_finding(&finding(&[], long)).unwrap();
                    }
                });
            }
        });
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 200);
        for l in lines {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(v["message"].as_str().unwrap().len(), 10_000);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn report_file_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<ReportFile>();
    }
}
