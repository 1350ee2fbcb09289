//! The cross-process ledger (`ledger_dir`): exporters publish what they know about each
//! payload they exported, and an importing or acquiring process in another address space
//! finds its payload there (DESIGN.md "Ownership and layout handoff", issue 4).
//!
//! One file per (payload, exporting process): `<dev>-<ino>-<pid>-<fd>.ledger`, written whole
//! to a temporary name and renamed, so a reader never sees half an entry. A reader matches
//! an fd it was given against an entry by inode first, then, unless the inode is unique per
//! payload (memfd, dma-buf), by `kcmp(KCMP_FILE)` between its fd and the exporter's retained
//! duplicate: the kernel allows that between processes of one user.
//!
//! Security: the directory must be a real directory (not a symlink) owned by the user with
//! mode 0700; files are created 0600 with `O_NOFOLLOW | O_EXCL`; entries are parsed strictly
//! ([`entry`]) and entries of processes that are gone are removed when seen.

pub mod entry;

pub use entry::{Dedicated, Entry, Release};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// Entries looked at per lookup, at most (a directory flooded with files cannot make a
/// lookup slow).
pub const MAX_SCANNED: usize = 4096;

/// An opened ledger directory.
#[derive(Clone, Debug)]
pub struct Ledger {
    dir: PathBuf,
}

/// What an fd's `fstat` says, as the ledger keys it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FileKey {
    pub dev: u64,
    pub ino: u64,
}

impl Ledger {
    /// Opens `dir` after the same checks the `ledger_dir` setting gets (a directory, not a
    /// symlink, owned by this user, mode 0700), repeated here because the directory may have
    /// changed since the settings were read.
    pub fn open(dir: &Path) -> Result<Ledger, String> {
        crate::settings::parse::check_ledger_dir(dir).map(|dir| Ledger { dir })
    }

    fn name(key: FileKey, pid: u32, fd: i32) -> String {
        format!("{}-{}-{pid}-{fd}.ledger", key.dev, key.ino)
    }

    /// Writes (or replaces) this process's entry for one payload.
    pub fn publish(&self, e: &Entry) -> io::Result<()> {
        let key = FileKey {
            dev: e.dev,
            ino: e.ino,
        };
        let name = Self::name(key, e.pid, e.fd);
        let tmp = self.dir.join(format!(".{name}.{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp);
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(&tmp)?;
        f.write_all(e.render().as_bytes())?;
        drop(f);
        std::fs::rename(&tmp, self.dir.join(name))
    }

    /// Removes this process's entry for one payload (memory freed).
    pub fn withdraw(&self, key: FileKey, pid: u32, fd: i32) {
        let _ = std::fs::remove_file(self.dir.join(Self::name(key, pid, fd)));
    }

    /// The entry of one exporter for one payload, as it is now (for the release an
    /// importer's acquire pairs with), or `None` when it is gone or unreadable.
    pub fn read(&self, key: FileKey, pid: u32, fd: i32) -> Option<Entry> {
        read_entry(&self.dir.join(Self::name(key, pid, fd)))
            .filter(|e| e.dev == key.dev && e.ino == key.ino && e.pid == pid && e.fd == fd)
    }

    /// The entry another live process published for the payload behind `fd` (with `key`),
    /// if any. Entries of this process are skipped: the in-process registry knows more.
    pub fn find(&self, fd: i32, key: FileKey) -> Option<Entry> {
        let prefix = format!("{}-{}-", key.dev, key.ino);
        let me = std::process::id();
        let dir = std::fs::read_dir(&self.dir).ok()?;
        for item in dir.take(MAX_SCANNED).flatten() {
            let name = item.file_name();
            let name_bytes = name.as_bytes();
            if !name_bytes.starts_with(prefix.as_bytes()) || !name_bytes.ends_with(b".ledger") {
                continue;
            }
            let path = item.path();
            let Some(e) = read_entry(&path) else {
                continue;
            };
            if e.dev != key.dev || e.ino != key.ino || e.pid == me {
                continue;
            }
            if !alive(e.pid, e.start_time) {
                // The exporter is gone: its entry has expired.
                let _ = std::fs::remove_file(&path);
                continue;
            }
            if e.unique || crate::fd::same_open_file(e.pid, e.fd, me, fd) == Some(true) {
                return Some(e);
            }
        }
        None
    }
}

/// Reads one entry: a regular file owned by this user, no symlink, at most
/// [`entry::MAX_BYTES`] bytes, parsed strictly. Anything else is untrusted input from some
/// other process and is ignored with a warning (never followed, never removed: a file this
/// user does not own is not ours to delete).
fn read_entry(path: &Path) -> Option<Entry> {
    let ignore = |why: &str| {
        tracing::warn!(target: "handoff", path = %path.display(), why, "ledger entry ignored");
    };
    let f = match std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC | libc::O_NONBLOCK)
        .open(path)
    {
        Ok(f) => f,
        // Withdrawn between the directory listing and the open: nothing to say.
        Err(e) if e.kind() == io::ErrorKind::NotFound => return None,
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            ignore("a symbolic link");
            return None;
        }
        Err(e) => {
            ignore(&e.to_string());
            return None;
        }
    };
    let meta = f.metadata().ok()?;
    if !meta.is_file() {
        ignore("not a regular file");
        return None;
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if meta.uid() != euid {
        ignore("owned by another user");
        return None;
    }
    if meta.len() > entry::MAX_BYTES as u64 {
        ignore("larger than any entry");
        return None;
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    f.take(entry::MAX_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .ok()?;
    match Entry::parse(&bytes) {
        Ok(e) => Some(e),
        Err(why) => {
            ignore(&why.to_string());
            None
        }
    }
}

/// The start time of process `pid` in clock ticks after boot (`/proc/PID/stat` field 22),
/// which tells a reused pid apart from the process that wrote an entry.
pub fn start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses: fields restart after the
    // last ')'. Field 3 is the first one after it, so field 22 is the 20th.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

fn alive(pid: u32, start: u64) -> bool {
    pid != 0 && start_time(pid) == Some(start)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};

    fn temp_dir(tag: &str) -> PathBuf {
        let p = std::env::temp_dir().join(format!("handoff-ledger-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::DirBuilder::new().mode(0o700).create(&p).unwrap();
        p
    }

    #[test]
    fn a_directory_that_is_not_private_is_refused() {
        let d = temp_dir("bad");
        assert!(Ledger::open(&d).is_ok());
        std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
        assert!(Ledger::open(&d).unwrap_err().contains("0755"));
        let _ = std::fs::remove_dir_all(&d);
    }

    /// Entries are untrusted input: a symlink to a good entry, a file of another user, an
    /// oversized file, garbage, a FIFO and a directory under a matching name are all ignored
    /// (no hang, no panic), left where they are, and the symlink's target is not read. A good
    /// entry beside them is still found.
    #[test]
    fn hostile_entries_are_ignored_and_left_alone() {
        let d = temp_dir("hostile");
        let ledger = Ledger::open(&d).unwrap();
        let file = std::fs::File::open("/proc/self/exe").unwrap();
        let meta = file.metadata().unwrap();
        let key = FileKey {
            dev: meta.dev(),
            ino: meta.ino(),
        };
        let mut child = std::process::Command::new("sleep")
            .arg("60")
            .stdin(std::process::Stdio::from(file.try_clone().unwrap()))
            .spawn()
            .unwrap();
        let pid = child.id();
        let good = Entry {
            pid,
            start_time: start_time(pid).unwrap(),
            fd: 0,
            dev: key.dev,
            ino: key.ino,
            unique: true,
            handle_type: 1,
            allocation_size: 4096,
            ..Entry::default()
        };
        // The real entry lives outside the ledger; every hostile file has a matching name.
        let outside = temp_dir("hostile-outside");
        let target = outside.join("real.ledger");
        std::fs::write(&target, good.render()).unwrap();
        let name = |n: u32| d.join(format!("{}-{}-{n}-0.ledger", key.dev, key.ino));
        std::os::unix::fs::symlink(&target, name(1)).unwrap();
        std::fs::write(name(2), good.render()).unwrap();
        // SAFETY: chown of a file this test created; we run as root in CI, so it works;
        // elsewhere it fails and the case is left out.
        let foreign = {
            let c = std::ffi::CString::new(name(2).as_os_str().as_bytes()).unwrap();
            unsafe { libc::chown(c.as_ptr(), 65534, 65534) == 0 }
        };
        if !foreign {
            std::fs::remove_file(name(2)).unwrap();
        }
        std::fs::write(name(3), vec![b'x'; entry::MAX_BYTES * 4]).unwrap();
        std::fs::write(name(4), b"\0\xff not an entry \n\n pid -1\n").unwrap();
        let fifo = std::ffi::CString::new(name(5).as_os_str().as_bytes()).unwrap();
        // SAFETY: a NUL-terminated path in our private directory.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        std::fs::create_dir(name(6)).unwrap();

        let fd = file.as_raw_fd();
        assert!(ledger.find(fd, key).is_none(), "no hostile file may count");
        for n in [1, 3, 4, 5, 6] {
            assert!(
                std::fs::symlink_metadata(name(n)).is_ok(),
                "entry {n} was removed"
            );
        }
        assert_eq!(foreign, std::fs::symlink_metadata(name(2)).is_ok());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), good.render());
        assert!(
            ledger.read(key, 1, 0).is_none(),
            "read() follows no symlink"
        );

        ledger.publish(&good).unwrap();
        assert_eq!(ledger.find(fd, key), Some(good));
        child.kill().unwrap();
        child.wait().unwrap();
        let _ = std::fs::remove_dir_all(&d);
        let _ = std::fs::remove_dir_all(&outside);
    }

    /// An entry naming another live process is found by kcmp against that process's fd (the
    /// file's inode is not unique), not for another open file of the same inode, and expires
    /// when the process is gone. The child holds our open file as its stdin.
    #[test]
    fn entries_of_other_live_processes_are_found_and_expire() {
        let d = temp_dir("find");
        let ledger = Ledger::open(&d).unwrap();
        let file = std::fs::File::open("/proc/self/exe").unwrap();
        let fd = file.as_raw_fd();
        let meta = file.metadata().unwrap();
        let key = FileKey {
            dev: meta.dev(),
            ino: meta.ino(),
        };
        let mut child = std::process::Command::new("sleep")
            .arg("60")
            .stdin(std::process::Stdio::from(file.try_clone().unwrap()))
            .spawn()
            .unwrap();
        let pid = child.id();
        let e = Entry {
            pid,
            start_time: start_time(pid).unwrap(),
            fd: 0,
            dev: key.dev,
            ino: key.ino,
            unique: false,
            handle_type: 1,
            allocation_size: 4096,
            ..Entry::default()
        };
        ledger.publish(&e).unwrap();
        let found = ledger.find(fd, key).expect("the child's entry");
        assert_eq!(found, e);
        let other = std::fs::File::open("/proc/self/exe").unwrap();
        assert!(ledger.find(other.as_raw_fd(), key).is_none());
        // Our own entries are skipped: the in-process registry answers for them.
        ledger
            .publish(&Entry {
                pid: std::process::id(),
                start_time: start_time(std::process::id()).unwrap(),
                fd: 7,
                ..e.clone()
            })
            .unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
        assert!(ledger.find(fd, key).is_none());
        let left: Vec<_> = std::fs::read_dir(&d).unwrap().flatten().collect();
        assert_eq!(left.len(), 1, "only our own entry is left");
        ledger.withdraw(key, std::process::id(), 7);
        assert_eq!(std::fs::read_dir(&d).unwrap().count(), 0);
        let _ = std::fs::remove_dir_all(&d);
    }
}
