//! Turning one raw value of one key into a typed value, or a reason it is not acceptable.
//!
//! Parsing is source-agnostic: text from the environment or the settings file and typed
//! values from `VkLayerSettingsCreateInfoEXT` go through the same rules, so a value means
//! the same thing wherever it is written.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use handoff_rules::{id_number, lookup, CATALOGUE};

use super::{ApiValue, DebugAction, Peer};

/// A value as a source hands it over.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Raw<'a> {
    /// Environment or settings-file text.
    Text(&'a str),
    /// `VkLayerSettingEXT` values.
    Api(&'a [ApiValue]),
}

impl Raw<'_> {
    /// The value as the user wrote it, for messages.
    pub(crate) fn display(&self) -> String {
        match self {
            Raw::Text(s) => (*s).to_owned(),
            Raw::Api(v) => v
                .iter()
                .map(ApiValue::display)
                .collect::<Vec<_>>()
                .join(","),
        }
    }
}

/// A parsed value, tagged by shape; `sources` stores it into the matching field.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Value {
    Path(PathBuf),
    Int(u32),
    Bool(bool),
    Filter(MessageIdFilter),
    Action(DebugAction),
    Peer(Peer),
}

/// Parses `raw` for `key`. `Err` carries the reason, in words, without the key or source
/// (the caller adds those).
pub(crate) fn parse(key: &str, raw: Raw<'_>) -> Result<Value, String> {
    match key {
        "report_file" | "log_file" => parse_path(raw).map(Value::Path),
        "ledger_dir" => parse_path(raw).and_then(|p| check_ledger_dir(&p).map(Value::Path)),
        "duplicate_limit" => parse_u32(raw).map(Value::Int),
        "forward_invalid_calls" | "best_practices" => parse_bool(raw).map(Value::Bool),
        "peer" => parse_peer(raw).map(Value::Peer),
        "debug_action" => parse_debug_action(raw).map(Value::Action),
        "message_id_filter" => parse_filter(raw).map(Value::Filter),
        _ => Err(format!("unknown key {key}")),
    }
}

/// The single value of a scalar setting: text as is, or exactly one API value.
fn single<'a>(raw: Raw<'a>) -> Result<Scalar<'a>, String> {
    match raw {
        Raw::Text(s) => Ok(Scalar::Text(s.trim())),
        Raw::Api([v]) => Ok(match v {
            ApiValue::Str(s) => Scalar::Text(s.trim()),
            other => Scalar::Typed(other),
        }),
        Raw::Api(v) => Err(format!("expected exactly one value, got {}", v.len())),
    }
}

enum Scalar<'a> {
    Text(&'a str),
    Typed(&'a ApiValue),
}

fn parse_path(raw: Raw<'_>) -> Result<PathBuf, String> {
    match single(raw)? {
        Scalar::Text("") => Err("the path is empty".into()),
        Scalar::Text(s) => Ok(PathBuf::from(s)),
        Scalar::Typed(_) => Err("expected a string".into()),
    }
}

fn parse_u32(raw: Raw<'_>) -> Result<u32, String> {
    let out_of_range = || "out of range (0 to 4294967295)".to_owned();
    match single(raw)? {
        Scalar::Text(s) => {
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err("not a non-negative decimal integer".into());
            }
            s.parse::<u32>().map_err(|_| out_of_range())
        }
        Scalar::Typed(ApiValue::Int(i)) => u32::try_from(*i).map_err(|_| out_of_range()),
        Scalar::Typed(_) => Err("expected an integer".into()),
    }
}

fn parse_bool(raw: Raw<'_>) -> Result<bool, String> {
    match single(raw)? {
        Scalar::Text(s) if s.eq_ignore_ascii_case("true") || s == "1" => Ok(true),
        Scalar::Text(s) if s.eq_ignore_ascii_case("false") || s == "0" => Ok(false),
        Scalar::Text(_) => Err("not a boolean".into()),
        Scalar::Typed(ApiValue::Bool(b)) => Ok(*b),
        Scalar::Typed(ApiValue::Int(1)) => Ok(true),
        Scalar::Typed(ApiValue::Int(0)) => Ok(false),
        Scalar::Typed(_) => Err("expected a boolean".into()),
    }
}

fn parse_peer(raw: Raw<'_>) -> Result<Peer, String> {
    match single(raw)? {
        Scalar::Text(s) if s.eq_ignore_ascii_case("vulkan") => Ok(Peer::Vulkan),
        Scalar::Text(s) if s.eq_ignore_ascii_case("other-api") => Ok(Peer::OtherApi),
        Scalar::Text(s) if s.eq_ignore_ascii_case("unknown") => Ok(Peer::Unknown),
        Scalar::Text(_) => Err("not a known peer".into()),
        Scalar::Typed(_) => Err("expected a string".into()),
    }
}

/// A list item: a text fragment or a number handed over as an integer.
enum Item<'a> {
    Text(&'a str),
    Int(i64),
}

/// Splits a list value into trimmed, non-empty items. Several API strings are concatenated,
/// and each may itself be comma-separated, so `["a,b", "c"]` and `["a", "b", "c"]` agree.
fn items<'a>(raw: Raw<'a>) -> Result<Vec<Item<'a>>, String> {
    fn split(s: &str) -> impl Iterator<Item = Item<'_>> {
        s.split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(Item::Text)
    }
    let mut out = Vec::new();
    match raw {
        Raw::Text(s) => out.extend(split(s)),
        Raw::Api(values) => {
            for v in values {
                match v {
                    ApiValue::Str(s) => out.extend(split(s)),
                    ApiValue::Int(i) => out.push(Item::Int(*i)),
                    other => return Err(format!("unexpected value {}", other.display())),
                }
            }
        }
    }
    Ok(out)
}

fn parse_debug_action(raw: Raw<'_>) -> Result<DebugAction, String> {
    let mut a = DebugAction::NONE;
    for item in items(raw)? {
        match item {
            Item::Text(t) if t.eq_ignore_ascii_case("log") => a.log = true,
            Item::Text(t) if t.eq_ignore_ascii_case("callback") => a.callback = true,
            Item::Text(t) if t.eq_ignore_ascii_case("break") => a.brk = true,
            Item::Text(t) if t.eq_ignore_ascii_case("abort") => a.abort = true,
            Item::Text(t) => return Err(format!("unknown action \"{t}\"")),
            Item::Int(i) => return Err(format!("unknown action {i}")),
        }
    }
    Ok(a)
}

fn parse_filter(raw: Raw<'_>) -> Result<MessageIdFilter, String> {
    let mut f = MessageIdFilter::default();
    for item in items(raw)? {
        match item {
            Item::Text(t) => f.add(t)?,
            Item::Int(i) => f.add_number(int_to_id_number(i).ok_or_else(|| {
                format!("number {i} is outside the int32/uint32 range of message id numbers")
            })?),
        }
    }
    Ok(f)
}

/// Maps a signed or unsigned 32-bit reading of a number to the `int32_t` the callback sees.
fn int_to_id_number(i: i64) -> Option<i32> {
    if (i64::from(i32::MIN)..=i64::from(u32::MAX)).contains(&i) {
        // Values above i32::MAX are the u32 bit pattern of a negative id number; the
        // truncating cast is exactly that bit-cast.
        Some(i as u32 as i32)
    } else {
        None
    }
}

/// Reads a filter entry as a number if it looks like one: `Ok(None)` means "an id string".
///
/// Anything starting with a digit or `-` is meant as a number, so a malformed one is an
/// error rather than silently becoming an id that never matches.
fn parse_number(t: &str) -> Result<Option<i32>, String> {
    let bad = || format!("\"{t}\" is not a valid message id number");
    if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        if hex.is_empty() || hex.len() > 8 {
            return Err(bad());
        }
        return u32::from_str_radix(hex, 16)
            .map(|u| Some(u as i32))
            .map_err(|_| bad());
    }
    let first = t.as_bytes().first().copied();
    if !matches!(first, Some(b'0'..=b'9' | b'-')) {
        return Ok(None);
    }
    let digits = t.strip_prefix('-').unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    t.parse::<i64>()
        .ok()
        .and_then(int_to_id_number)
        .map(Some)
        .ok_or_else(bad)
}

/// The ids never reported.
///
/// Aliases are resolved once, when the filter is built: naming a rule's id or any of its
/// aliases, by string or by number, mutes all of them, so [`MessageIdFilter::mutes`] is two
/// set lookups on the reporting path. Ids not in the catalogue are kept as given: the same
/// list is often shared with other layers, whose ids we do not know.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageIdFilter {
    ids: BTreeSet<String>,
    numbers: BTreeSet<i32>,
}

impl MessageIdFilter {
    /// Builds a filter from entries as the setting accepts them (strings, aliases, numbers).
    pub fn from_entries<'a>(entries: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut f = MessageIdFilter::default();
        for e in entries {
            let e = e.trim();
            if !e.is_empty() {
                f.add(e)?;
            }
        }
        Ok(f)
    }

    fn add(&mut self, entry: &str) -> Result<(), String> {
        match parse_number(entry)? {
            Some(n) => self.add_number(n),
            None => {
                self.ids.insert(entry.to_owned());
                if let Some(rule) = lookup(entry) {
                    self.add_rule(rule);
                }
            }
        }
        Ok(())
    }

    fn add_number(&mut self, n: i32) {
        self.numbers.insert(n);
        for rule in CATALOGUE {
            if std::iter::once(&rule.id)
                .chain(rule.aliases)
                .any(|id| id_number(id) == n)
            {
                self.add_rule(rule);
            }
        }
    }

    fn add_rule(&mut self, rule: &handoff_rules::Rule) {
        self.ids.insert(rule.id.to_owned());
        self.ids
            .extend(rule.aliases.iter().map(|a| (*a).to_owned()));
    }

    /// Whether a finding with this id (and its XXH32 `id_number`) is muted.
    pub fn mutes(&self, id: &str, id_number: i32) -> bool {
        self.numbers.contains(&id_number) || self.ids.contains(id)
    }

    /// Nothing is muted: lets the reporting path skip the lookups.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty() && self.numbers.is_empty()
    }
}

/// Checks a ledger directory is private to this user before anything is written there:
/// other processes trust what they read from it, so another user must not be able to plant
/// or swap entries.
pub(crate) fn check_ledger_dir(p: &Path) -> Result<PathBuf, String> {
    use std::os::unix::fs::MetadataExt;

    use std::os::unix::ffi::OsStrExt;

    // lstat("link/") follows the link, so drop trailing slashes before looking.
    let s = p.as_os_str().as_bytes();
    let keep = s.iter().rposition(|&b| b != b'/').map_or(1, |i| i + 1);
    let p = PathBuf::from(std::ffi::OsStr::from_bytes(&s[..keep.min(s.len())]));
    let md = std::fs::symlink_metadata(&p)
        .map_err(|e| format!("the directory {} cannot be examined: {e}", p.display()))?;
    if md.file_type().is_symlink() {
        return Err(format!("{} is a symbolic link", p.display()));
    }
    if !md.is_dir() {
        return Err(format!("{} is not a directory", p.display()));
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if md.uid() != euid {
        return Err(format!(
            "{} is owned by uid {}, not by the current user (uid {euid})",
            p.display(),
            md.uid()
        ));
    }
    let mode = md.mode() & 0o7777;
    if mode != 0o700 {
        return Err(format!(
            "{} has mode {mode:04o}, must be exactly 0700",
            p.display()
        ));
    }
    Ok(p)
}

#[cfg(test)]
mod tests {
    use super::*;
    use handoff_rules::id_number;

    fn text(key: &str, s: &str) -> Result<Value, String> {
        parse(key, Raw::Text(s))
    }

    #[test]
    fn every_table_key_is_parsed() {
        for spec in super::super::TABLE {
            let r = parse(spec.key, Raw::Text("x"));
            assert!(
                !matches!(&r, Err(e) if e.starts_with("unknown key")),
                "{} not handled",
                spec.key
            );
        }
        assert!(parse("nope", Raw::Text("1")).is_err());
    }

    #[test]
    fn bools() {
        for (s, b) in [
            ("true", true),
            ("TRUE", true),
            ("1", true),
            (" False ", false),
            ("0", false),
        ] {
            assert_eq!(text("best_practices", s), Ok(Value::Bool(b)), "{s}");
        }
        for s in ["yes", "", "2", "on"] {
            assert!(text("forward_invalid_calls", s).is_err(), "{s}");
        }
        let api = |v: ApiValue| parse("best_practices", Raw::Api(&[v]));
        assert_eq!(api(ApiValue::Bool(true)), Ok(Value::Bool(true)));
        assert_eq!(api(ApiValue::Int(0)), Ok(Value::Bool(false)));
        assert_eq!(api(ApiValue::Str("1".into())), Ok(Value::Bool(true)));
        assert!(api(ApiValue::Int(2)).is_err());
        assert!(api(ApiValue::Float(1.0)).is_err());
        assert!(parse("best_practices", Raw::Api(&[])).is_err());
    }

    #[test]
    fn ints() {
        assert_eq!(text("duplicate_limit", "0"), Ok(Value::Int(0)));
        assert_eq!(
            text("duplicate_limit", " 4294967295 "),
            Ok(Value::Int(u32::MAX))
        );
        for s in ["-1", "4294967296", "+3", "1e3", "0x10", "", "ten"] {
            assert!(text("duplicate_limit", s).is_err(), "{s}");
        }
        let api = |v: ApiValue| parse("duplicate_limit", Raw::Api(&[v]));
        assert_eq!(api(ApiValue::Int(7)), Ok(Value::Int(7)));
        assert!(api(ApiValue::Int(-1)).is_err());
        assert!(api(ApiValue::Int(1 << 32)).is_err());
        assert!(api(ApiValue::Bool(true)).is_err());
        let two = [ApiValue::Int(1), ApiValue::Int(2)];
        assert!(parse("duplicate_limit", Raw::Api(&two)).is_err());
    }

    #[test]
    fn paths() {
        assert_eq!(
            text("report_file", " /tmp/r.jsonl "),
            Ok(Value::Path("/tmp/r.jsonl".into()))
        );
        assert!(text("log_file", "  ").is_err());
        assert!(parse("log_file", Raw::Api(&[ApiValue::Int(3)])).is_err());
    }

    #[test]
    fn peers() {
        assert_eq!(text("peer", "vulkan"), Ok(Value::Peer(Peer::Vulkan)));
        assert_eq!(text("peer", "Other-API"), Ok(Value::Peer(Peer::OtherApi)));
        assert_eq!(text("peer", "unknown"), Ok(Value::Peer(Peer::Unknown)));
        assert!(text("peer", "other_api").is_err());
        assert!(text("peer", "").is_err());
    }

    #[test]
    fn debug_actions() {
        let a = |s: &str| match text("debug_action", s) {
            Ok(Value::Action(a)) => Ok(a),
            Ok(v) => panic!("{v:?}"),
            Err(e) => Err(e),
        };
        assert_eq!(a(""), Ok(DebugAction::NONE));
        assert_eq!(
            a("log"),
            Ok(DebugAction {
                log: true,
                ..DebugAction::NONE
            })
        );
        assert_eq!(
            a(" break , ABORT,"),
            Ok(DebugAction {
                brk: true,
                abort: true,
                ..DebugAction::NONE
            })
        );
        assert_eq!(a("log,callback"), Ok(DebugAction::default()));
        assert!(a("log,explode").is_err());
        let api = [
            ApiValue::Str("log".into()),
            ApiValue::Str("break,callback".into()),
        ];
        assert_eq!(
            parse("debug_action", Raw::Api(&api)),
            Ok(Value::Action(DebugAction {
                log: true,
                callback: true,
                brk: true,
                abort: false
            }))
        );
        assert_eq!(
            parse("debug_action", Raw::Api(&[])),
            Ok(Value::Action(DebugAction::NONE))
        );
        assert!(parse("debug_action", Raw::Api(&[ApiValue::Int(1)])).is_err());
    }

    fn filter(s: &str) -> MessageIdFilter {
        match text("message_id_filter", s) {
            Ok(Value::Filter(f)) => f,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn filter_by_string() {
        let f = filter("VUID-VkMemoryGetFdInfoKHR-handleType-00671, UNASSIGNED-other-layer");
        let id = "VUID-VkMemoryGetFdInfoKHR-handleType-00671";
        assert!(f.mutes(id, id_number(id)));
        assert!(f.mutes("UNASSIGNED-other-layer", 1));
        let other = "VUID-VkMemoryGetFdInfoKHR-handleType-00672";
        assert!(!f.mutes(other, id_number(other)));
        assert!(!MessageIdFilter::default().mutes(id, id_number(id)));
        assert!(MessageIdFilter::default().is_empty());
        assert!(!f.is_empty());
    }

    #[test]
    fn filter_by_alias_both_ways() {
        let rule = "HANDOFF-Leak-live-objects";
        let alias = "VUID-vkDestroyDevice-device-05137";
        let f = filter(alias);
        assert!(f.mutes(rule, id_number(rule)));
        assert!(f.mutes(alias, id_number(alias)));
        let f = filter(rule);
        assert!(f.mutes(alias, id_number(alias)));
        // A number of the alias mutes the rule too.
        let f = filter(&id_number(alias).to_string());
        assert!(f.mutes(rule, id_number(rule)));
    }

    #[test]
    fn filter_by_number() {
        let id = "HANDOFF-Chain-malformed";
        let n = id_number(id);
        let other = "HANDOFF-Layer-internal-error";
        for entry in [
            n.to_string(),
            (n as u32).to_string(),
            format!("0x{:x}", n as u32),
            format!("0X{:08X}", n as u32),
        ] {
            let f = filter(&entry);
            assert!(f.mutes(id, n), "{entry}");
            assert!(!f.mutes(other, id_number(other)), "{entry}");
        }
        // Negative decimal and the matching hex bit pattern.
        let f = filter("-1, 0x80000000");
        assert!(f.mutes("x", -1));
        assert!(f.mutes("x", i32::MIN));
        assert!(!f.mutes("x", 0));
        // Numbers handed over as API integers.
        let api = [ApiValue::Int(n.into()), ApiValue::Int(u32::MAX.into())];
        match parse("message_id_filter", Raw::Api(&api)) {
            Ok(Value::Filter(f)) => {
                assert!(f.mutes(id, n));
                assert!(f.mutes("y", -1));
            }
            other => panic!("{other:?}"),
        }
        assert!(parse("message_id_filter", Raw::Api(&[ApiValue::Int(1 << 33)])).is_err());
    }

    #[test]
    fn filter_rejects_malformed_numbers() {
        for s in [
            "0x",
            "0x123456789",
            "0xZZ",
            "12ab",
            "-",
            "-0x1",
            "4294967296",
            "-2147483649",
        ] {
            assert!(text("message_id_filter", s).is_err(), "{s}");
        }
        assert!(filter("").is_empty());
        assert!(filter(" , ,").is_empty());
        assert!(MessageIdFilter::from_entries(["HANDOFF-Chain-malformed", " 12 "]).is_ok());
        assert!(MessageIdFilter::from_entries(["0xq"]).is_err());
    }

    #[test]
    fn ledger_dir_checks() {
        use std::os::unix::fs::PermissionsExt;
        let base = crate::settings::tests::scratch_dir("ledger");
        let good = base.join("good");
        std::fs::create_dir(&good).unwrap();
        std::fs::set_permissions(&good, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert_eq!(check_ledger_dir(&good), Ok(good.clone()));
        // Trailing slashes are dropped, not followed.
        let slashed = PathBuf::from(format!("{}//", good.display()));
        assert_eq!(check_ledger_dir(&slashed), Ok(good.clone()));

        let open = base.join("open");
        std::fs::create_dir(&open).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o750)).unwrap();
        let e = check_ledger_dir(&open).unwrap_err();
        assert!(e.contains("0750") && e.contains("0700"), "{e}");

        let link = base.join("link");
        std::os::unix::fs::symlink(&good, &link).unwrap();
        assert!(check_ledger_dir(&link)
            .unwrap_err()
            .contains("symbolic link"));
        let link_slash = PathBuf::from(format!("{}/", link.display()));
        assert!(check_ledger_dir(&link_slash)
            .unwrap_err()
            .contains("symbolic link"));

        let file = base.join("file");
        std::fs::write(&file, b"").unwrap();
        assert!(check_ledger_dir(&file)
            .unwrap_err()
            .contains("not a directory"));

        assert!(check_ledger_dir(&base.join("missing"))
            .unwrap_err()
            .contains("cannot be examined"));
        std::fs::remove_dir_all(&base).unwrap();
    }
}
