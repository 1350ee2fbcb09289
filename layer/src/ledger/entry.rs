//! One ledger entry: what an exporting process wrote about one payload, as text, and the
//! strict parser that reads it back.
//!
//! Entries are written by other processes, so the parser treats them as untrusted input:
//! a size limit, a fixed line grammar, every number range-checked, unknown keys rejected,
//! at most [`MAX_RELEASES`] release lines. A file that fails any of this is ignored, never
//! half-used.

use std::fmt::Write as _;

/// The first line of every entry.
pub const MAGIC: &str = "handoff-ledger 1";
/// Largest entry file read, in bytes.
pub const MAX_BYTES: usize = 16 * 1024;
/// Release lines kept per entry (the newest ones).
pub const MAX_RELEASES: usize = 32;

/// The resource a dedicated allocation was made for, by its create parameters (raw values;
/// handles mean nothing in another process).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Dedicated {
    #[default]
    None,
    /// `flags size usage sharing_mode external_types`.
    Buffer([u64; 5]),
    /// `flags image_type format width height depth mip_levels array_layers samples tiling
    /// usage sharing_mode external_types`.
    Image([u64; 13]),
}

/// One release of the payload to `VK_QUEUE_FAMILY_EXTERNAL`/`FOREIGN` as the exporter's queue
/// executed it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Release {
    /// `VkImageLayout` of the release (`newLayout`), 0 for buffers.
    pub layout: i32,
    /// The destination family (`VK_QUEUE_FAMILY_EXTERNAL` or `FOREIGN`).
    pub family: u32,
    /// Nanoseconds since the Unix epoch.
    pub time_ns: u64,
}

/// What one exporting process recorded about one payload.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    pub pid: u32,
    /// The exporter's start time (`/proc/PID/stat` field 22): tells a reused pid apart.
    pub start_time: u64,
    /// The exporter's retained duplicate of the exported fd (for `kcmp`).
    pub fd: i32,
    pub dev: u64,
    pub ino: u64,
    /// The inode is unique per payload (memfd, dma-buf): equal inodes prove the payload.
    pub unique: bool,
    /// `VkExternalMemoryHandleTypeFlagBits` of the export.
    pub handle_type: u32,
    pub device_uuid: Option<[u8; 16]>,
    pub driver_uuid: Option<[u8; 16]>,
    pub allocation_size: u64,
    pub memory_type_index: u32,
    pub dedicated: Dedicated,
    /// Oldest first.
    pub releases: Vec<Release>,
}

/// Why an entry was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    TooLarge,
    NotText,
    BadMagic,
    BadLine(usize),
    Missing(&'static str),
    Duplicate(&'static str),
    TooManyReleases,
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ParseError::TooLarge => write!(f, "larger than {MAX_BYTES} bytes"),
            ParseError::NotText => write!(f, "not UTF-8 text"),
            ParseError::BadMagic => write!(f, "does not start with {MAGIC:?}"),
            ParseError::BadLine(n) => write!(f, "line {n} is malformed"),
            ParseError::Missing(k) => write!(f, "no {k} line"),
            ParseError::Duplicate(k) => write!(f, "{k} given twice"),
            ParseError::TooManyReleases => write!(f, "more than {MAX_RELEASES} releases"),
        }
    }
}

fn hex(u: &[u8; 16]) -> String {
    u.iter().fold(String::with_capacity(32), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

fn unhex(s: &str) -> Option<[u8; 16]> {
    if s.len() != 32 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut out = [0u8; 16];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(out)
}

fn join(values: &[u64]) -> String {
    values
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(" ")
}

impl Entry {
    /// The entry as the text the parser accepts.
    pub fn render(&self) -> String {
        let mut s = String::with_capacity(512);
        let _ = writeln!(s, "{MAGIC}");
        let _ = writeln!(s, "pid {}", self.pid);
        let _ = writeln!(s, "start {}", self.start_time);
        let _ = writeln!(s, "fd {}", self.fd);
        let _ = writeln!(s, "dev {}", self.dev);
        let _ = writeln!(s, "ino {}", self.ino);
        let _ = writeln!(s, "unique {}", u8::from(self.unique));
        let _ = writeln!(s, "handle_type {}", self.handle_type);
        if let Some(u) = &self.device_uuid {
            let _ = writeln!(s, "device_uuid {}", hex(u));
        }
        if let Some(u) = &self.driver_uuid {
            let _ = writeln!(s, "driver_uuid {}", hex(u));
        }
        let _ = writeln!(s, "size {}", self.allocation_size);
        let _ = writeln!(s, "memory_type {}", self.memory_type_index);
        match &self.dedicated {
            Dedicated::None => s.push_str("dedicated none\n"),
            Dedicated::Buffer(v) => {
                let _ = writeln!(s, "dedicated buffer {}", join(v));
            }
            Dedicated::Image(v) => {
                let _ = writeln!(s, "dedicated image {}", join(v));
            }
        }
        let skip = self.releases.len().saturating_sub(MAX_RELEASES);
        for r in &self.releases[skip..] {
            let _ = writeln!(s, "release {} {} {}", r.layout, r.family, r.time_ns);
        }
        s
    }

    /// Parses an entry, refusing anything that is not exactly what [`Entry::render`] writes.
    pub fn parse(bytes: &[u8]) -> Result<Entry, ParseError> {
        if bytes.len() > MAX_BYTES {
            return Err(ParseError::TooLarge);
        }
        let text = std::str::from_utf8(bytes).map_err(|_| ParseError::NotText)?;
        let mut lines = text.lines();
        if lines.next() != Some(MAGIC) {
            return Err(ParseError::BadMagic);
        }
        let mut seen: Vec<&'static str> = Vec::new();
        let mut e = Entry::default();
        for (i, line) in lines.enumerate() {
            let n = i + 2;
            let bad = || ParseError::BadLine(n);
            let mut words = line.split(' ');
            let key = words.next().ok_or_else(bad)?;
            let rest: Vec<&str> = words.collect();
            let one = || -> Result<&str, ParseError> {
                match rest.as_slice() {
                    [v] => Ok(v),
                    _ => Err(bad()),
                }
            };
            let key: &'static str = match key {
                "pid" => {
                    e.pid = one()?.parse().map_err(|_| bad())?;
                    "pid"
                }
                "start" => {
                    e.start_time = one()?.parse().map_err(|_| bad())?;
                    "start"
                }
                "fd" => {
                    e.fd = one()?.parse().map_err(|_| bad())?;
                    if e.fd < 0 {
                        return Err(bad());
                    }
                    "fd"
                }
                "dev" => {
                    e.dev = one()?.parse().map_err(|_| bad())?;
                    "dev"
                }
                "ino" => {
                    e.ino = one()?.parse().map_err(|_| bad())?;
                    "ino"
                }
                "unique" => {
                    e.unique = match one()? {
                        "0" => false,
                        "1" => true,
                        _ => return Err(bad()),
                    };
                    "unique"
                }
                "handle_type" => {
                    e.handle_type = one()?.parse().map_err(|_| bad())?;
                    "handle_type"
                }
                "device_uuid" => {
                    e.device_uuid = Some(unhex(one()?).ok_or_else(bad)?);
                    "device_uuid"
                }
                "driver_uuid" => {
                    e.driver_uuid = Some(unhex(one()?).ok_or_else(bad)?);
                    "driver_uuid"
                }
                "size" => {
                    e.allocation_size = one()?.parse().map_err(|_| bad())?;
                    "size"
                }
                "memory_type" => {
                    e.memory_type_index = one()?.parse().map_err(|_| bad())?;
                    "memory_type"
                }
                "dedicated" => {
                    e.dedicated = parse_dedicated(&rest).ok_or_else(bad)?;
                    "dedicated"
                }
                "release" => {
                    let [layout, family, time] = rest.as_slice() else {
                        return Err(bad());
                    };
                    if e.releases.len() == MAX_RELEASES {
                        return Err(ParseError::TooManyReleases);
                    }
                    e.releases.push(Release {
                        layout: layout.parse().map_err(|_| bad())?,
                        family: family.parse().map_err(|_| bad())?,
                        time_ns: time.parse().map_err(|_| bad())?,
                    });
                    continue;
                }
                _ => return Err(bad()),
            };
            if seen.contains(&key) {
                return Err(ParseError::Duplicate(key));
            }
            seen.push(key);
        }
        for required in [
            "pid",
            "start",
            "fd",
            "dev",
            "ino",
            "unique",
            "handle_type",
            "size",
            "memory_type",
            "dedicated",
        ] {
            if !seen.contains(&required) {
                return Err(ParseError::Missing(required));
            }
        }
        Ok(e)
    }

    /// The newest release, if any.
    pub fn last_release(&self) -> Option<Release> {
        self.releases.last().copied()
    }
}

fn parse_dedicated(rest: &[&str]) -> Option<Dedicated> {
    fn numbers<const N: usize>(v: &[&str]) -> Option<[u64; N]> {
        if v.len() != N {
            return None;
        }
        let mut out = [0u64; N];
        for (o, s) in out.iter_mut().zip(v) {
            *o = s.parse().ok()?;
        }
        Some(out)
    }
    match rest.split_first()? {
        (&"none", []) => Some(Dedicated::None),
        (&"buffer", v) => numbers::<5>(v).map(Dedicated::Buffer),
        (&"image", v) => numbers::<13>(v).map(Dedicated::Image),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Entry {
        Entry {
            pid: 4242,
            start_time: 99,
            fd: 17,
            dev: 12,
            ino: 3456,
            unique: true,
            handle_type: 1,
            device_uuid: Some([0xab; 16]),
            driver_uuid: None,
            allocation_size: 65536,
            memory_type_index: 2,
            dedicated: Dedicated::Image([0, 1, 37, 64, 64, 1, 1, 1, 1, 0, 6, 0, 1]),
            releases: vec![Release {
                layout: 1,
                family: !1,
                time_ns: 5,
            }],
        }
    }

    #[test]
    fn render_then_parse_is_identity() {
        let e = sample();
        assert_eq!(Entry::parse(e.render().as_bytes()), Ok(e));
        let b = Entry {
            dedicated: Dedicated::Buffer([0, 1024, 3, 0, 1]),
            releases: vec![],
            ..sample()
        };
        assert_eq!(Entry::parse(b.render().as_bytes()), Ok(b));
    }

    #[test]
    fn hostile_entries_are_refused() {
        let good = sample().render();
        let cases: Vec<(String, ParseError)> = vec![
            (
                good.replacen(MAGIC, "handoff-ledger 2", 1),
                ParseError::BadMagic,
            ),
            (good.replace("pid 4242\n", ""), ParseError::Missing("pid")),
            (good.replace("fd 17", "fd -3"), ParseError::BadLine(4)),
            (
                good.replace("unique 1", "unique yes"),
                ParseError::BadLine(7),
            ),
            (
                good.replace("ino 3456", "ino 3456 7"),
                ParseError::BadLine(6),
            ),
            (good.clone() + "pid 1\n", ParseError::Duplicate("pid")),
            (good.clone() + "colour blue\n", ParseError::BadLine(14)),
            (
                good.replace("device_uuid abab", "device_uuid zzab"),
                ParseError::BadLine(9),
            ),
            (
                good.replace("dedicated image 0 1", "dedicated image 0"),
                ParseError::BadLine(12),
            ),
            (
                good.clone() + &"release 1 1 1\n".repeat(MAX_RELEASES),
                ParseError::TooManyReleases,
            ),
            ("x".repeat(MAX_BYTES + 1), ParseError::TooLarge),
        ];
        for (text, want) in cases {
            assert_eq!(Entry::parse(text.as_bytes()), Err(want), "{text}");
        }
        assert_eq!(Entry::parse(&[0xff, 0xfe]), Err(ParseError::NotText));
    }

    #[test]
    fn render_keeps_the_newest_releases() {
        let mut e = sample();
        e.releases = (0..MAX_RELEASES as u64 + 5)
            .map(|t| Release {
                layout: 1,
                family: 1,
                time_ns: t,
            })
            .collect();
        let back = Entry::parse(e.render().as_bytes()).unwrap();
        assert_eq!(back.releases.len(), MAX_RELEASES);
        assert_eq!(
            back.last_release().unwrap().time_ns,
            MAX_RELEASES as u64 + 4
        );
    }
}
