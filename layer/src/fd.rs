//! What an fd number is, for the import rules (RULES-TARGET G16), and whether two fds are
//! the same open file (the payload registry and the ledger).
//!
//! Only `fcntl(F_GETFD)`, `fstat`, `readlink` of `/proc/self/fd/N` and `kcmp`: the fd is
//! never read, written, duplicated or closed, so looking at it cannot consume it or change
//! its state.

use handoff_rules::checks::memory_import::FdKind;

/// Classifies `fd` for an import or an fd-properties query.
pub fn classify(fd: i32) -> FdKind {
    classify_stat(fd).0
}

/// What one `fstat` said about an open fd.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    pub dev: u64,
    pub ino: u64,
    /// `st_mode & S_IFMT`.
    pub file_type: u32,
}

/// [`classify`], with the `fstat` answer it was based on (for the payload registry, which
/// would otherwise ask again). One `fstat` per call; the `/proc/self/fd` link is read only
/// for a filesystem not seen before or one of anonymous inodes.
pub fn classify_stat(fd: i32) -> (FdKind, Option<Stat>) {
    if fd < 0 {
        return (FdKind::Negative, None);
    }
    classify_statted(fd, stat(fd))
}

/// [`classify_stat`] of a non-negative `fd` whose `fstat` answer (see [`stat`]) the caller
/// already has.
pub fn classify_statted(fd: i32, stat: Result<Stat, i32>) -> (FdKind, Option<Stat>) {
    let stat = match stat {
        Ok(st) => st,
        Err(libc::EBADF) => return (FdKind::Closed, None),
        // Open but not statable: give it the benefit of the doubt.
        Err(_) => return (FdKind::Unknown, None),
    };
    let kind = match stat.file_type {
        libc::S_IFIFO => FdKind::Pipe,
        libc::S_IFSOCK => FdKind::Socket,
        libc::S_IFDIR => FdKind::Directory,
        libc::S_IFCHR => FdKind::CharDevice,
        libc::S_IFREG if plain_files::holds(stat.dev) => FdKind::Regular,
        libc::S_IFREG => {
            // Anonymous inodes of the kernel (eventfd, epoll, …) are "regular" for some
            // kernels and "no type" (0) for others; the link name tells them apart.
            match link(fd) {
                Some(target) => match classify_link(&target) {
                    Some(kind) => kind,
                    None => {
                        if !target.starts_with("anon_inode:") {
                            plain_files::remember(stat.dev);
                        }
                        FdKind::Regular
                    }
                },
                None => FdKind::Regular,
            }
        }
        _ => match link(fd) {
            Some(target) => classify_link(&target).unwrap_or(FdKind::Unknown),
            None => FdKind::Unknown,
        },
    };
    (kind, Some(stat))
}

/// `fstat` of `fd`, or the errno it failed with (`EBADF`: not an open fd).
pub fn stat(fd: i32) -> Result<Stat, i32> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `st` is a writable `struct stat`; fstat does not change the fd, and any int is
    // a valid argument (EBADF for one that is not open).
    if unsafe { libc::fstat(fd, st.as_mut_ptr()) } != 0 {
        // SAFETY: errno is this thread's, set by the failed call just above.
        return Err(unsafe { *libc::__errno_location() });
    }
    // SAFETY: fstat succeeded, so it filled the struct.
    let st = unsafe { st.assume_init() };
    Ok(Stat {
        dev: st.st_dev,
        ino: st.st_ino,
        file_type: st.st_mode & libc::S_IFMT,
    })
}

/// Filesystems whose regular files are plain files or memfds (the link of one said so):
/// every regular file there is [`FdKind::Regular`], so an import of a memfd costs one
/// `fstat` rather than an `fstat` and a `readlink`. A filesystem of anonymous inodes is never
/// remembered (its files are eventfds, epolls and the like, told apart by name only).
mod plain_files {
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

    const SLOTS: usize = 8;
    /// `st_dev + 1` of remembered filesystems; 0 is an empty slot.
    static DEVS: [AtomicU64; SLOTS] = [const { AtomicU64::new(0) }; SLOTS];
    static NEXT: AtomicUsize = AtomicUsize::new(0);

    pub fn holds(dev: u64) -> bool {
        let want = dev.wrapping_add(1);
        want != 0 && DEVS.iter().any(|d| d.load(Ordering::Relaxed) == want)
    }

    pub fn remember(dev: u64) {
        let want = dev.wrapping_add(1);
        if want == 0 || holds(dev) {
            return;
        }
        let slot = NEXT.fetch_add(1, Ordering::Relaxed) % SLOTS;
        DEVS[slot].store(want, Ordering::Relaxed);
    }
}

/// The target of `/proc/self/fd/N`, when procfs is there.
pub fn link(fd: i32) -> Option<String> {
    std::fs::read_link(format!("/proc/self/fd/{fd}"))
        .ok()
        .map(|p| p.to_string_lossy().into_owned())
}

/// A kind from a `/proc/self/fd` link target; `None` when the link says nothing definite.
pub fn classify_link(target: &str) -> Option<FdKind> {
    if target.starts_with("/dmabuf:") {
        return Some(FdKind::DmaBuf);
    }
    let name = target.strip_prefix("anon_inode:")?;
    let name = name.trim_start_matches('[').trim_end_matches(']');
    Some(match name {
        "dmabuf" => FdKind::DmaBuf,
        "eventfd" => FdKind::EventFd,
        // Anonymous inodes that do hold memory, or that the layer does not know: accept.
        "sync_file" | "udmabuf" | "memfd" | "kvm-vm" | "" => return None,
        other
            if [
                "eventpoll",
                "signalfd",
                "timerfd",
                "inotify",
                "fanotify",
                "pidfd",
                "io_uring",
                "userfaultfd",
                "bpf",
            ]
            .iter()
            .any(|k| other.starts_with(k)) =>
        {
            FdKind::OtherAnonInode(other.to_owned())
        }
        _ => return None,
    })
}

/// `kcmp(KCMP_FILE)`: whether `fd_a` of process `pid_a` and `fd_b` of `pid_b` are the same
/// open file. `Some(false)` for different ones, `None` when the kernel cannot tell (no
/// kcmp, or not allowed to look into the other process). Across processes the kernel
/// allows it between processes of one user.
pub fn same_open_file(pid_a: u32, fd_a: i32, pid_b: u32, fd_b: i32) -> Option<bool> {
    const KCMP_FILE: libc::c_long = 0;
    // SAFETY: kcmp only compares kernel objects; it reads and changes nothing.
    let r = unsafe {
        libc::syscall(
            libc::SYS_kcmp,
            pid_a as libc::c_long,
            pid_b as libc::c_long,
            KCMP_FILE,
            fd_a as libc::c_long,
            fd_b as libc::c_long,
        )
    };
    match r {
        0 => Some(true),
        1 | 2 => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn links() {
        assert_eq!(classify_link("anon_inode:dmabuf"), Some(FdKind::DmaBuf));
        assert_eq!(classify_link("/dmabuf:"), Some(FdKind::DmaBuf));
        assert_eq!(classify_link("anon_inode:[eventfd]"), Some(FdKind::EventFd));
        assert_eq!(
            classify_link("anon_inode:[eventpoll]"),
            Some(FdKind::OtherAnonInode("eventpoll".into()))
        );
        assert_eq!(
            classify_link("anon_inode:[timerfd]"),
            Some(FdKind::OtherAnonInode("timerfd".into()))
        );
        assert_eq!(classify_link("/memfd:x (deleted)"), None);
        assert_eq!(classify_link("/dev/nvidiactl"), None);
    }

    #[test]
    fn real_fds() {
        assert_eq!(classify(-1), FdKind::Negative);
        assert_eq!(classify(987_654), FdKind::Closed);

        let mut p = [0i32; 2];
        // SAFETY: `p` holds two ints for pipe(2).
        assert_eq!(unsafe { libc::pipe(p.as_mut_ptr()) }, 0);
        assert_eq!(classify(p[0]), FdKind::Pipe);
        // SAFETY: the eventfd is closed below, once.
        let efd = unsafe { libc::eventfd(0, 0) };
        assert_eq!(classify(efd), FdKind::EventFd);
        let dir = std::fs::File::open("/").unwrap();
        assert_eq!(classify(dir.as_raw_fd()), FdKind::Directory);
        let sock = std::os::unix::net::UnixDatagram::unbound().unwrap();
        assert_eq!(classify(sock.as_raw_fd()), FdKind::Socket);
        let file = std::fs::File::open("/proc/self/exe").unwrap();
        assert_eq!(classify(file.as_raw_fd()), FdKind::Regular);
        // SAFETY: memfd_create with a valid name; closed below, once.
        let mfd = unsafe { libc::memfd_create(c"handoff-test".as_ptr(), 0) };
        assert_eq!(classify(mfd), FdKind::Regular);
        let null = std::fs::File::open("/dev/null").unwrap();
        assert_eq!(classify(null.as_raw_fd()), FdKind::CharDevice);
        // Classifying consumed nothing.
        for fd in [p[0], p[1], efd, mfd] {
            // SAFETY: F_GETFD only reads the flags.
            assert_ne!(unsafe { libc::fcntl(fd, libc::F_GETFD) }, -1);
            // SAFETY: our own fds, closed once.
            unsafe { libc::close(fd) };
        }
    }
}
