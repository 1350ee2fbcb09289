//! File-descriptor plumbing: memfds for memory payloads, eventfds for sync files, and the
//! checks an import makes before it takes an fd.

use std::ffi::CStr;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// A new memfd of `size` bytes (sparse; nothing is allocated until written).
pub fn memfd(name: &CStr, size: u64) -> io::Result<OwnedFd> {
    let len = libc::off_t::try_from(size).map_err(|_| io::Error::from_raw_os_error(libc::EFBIG))?;
    // SAFETY: `name` is NUL-terminated; the flags are valid.
    let fd = unsafe { libc::memfd_create(name.as_ptr(), libc::MFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just created and nothing else owns it.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: `owned` is an open memfd.
    if unsafe { libc::ftruncate(owned.as_raw_fd(), len) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(owned)
}

/// A new fd for the same open file (`F_DUPFD_CLOEXEC`), owned by the caller.
pub fn dup(fd: &OwnedFd) -> io::Result<OwnedFd> {
    fd.try_clone()
}

/// A new eventfd with count 1, standing in for an already-signaled sync file.
pub fn signaled_eventfd() -> io::Result<OwnedFd> {
    // SAFETY: plain syscall with valid flags.
    let fd = unsafe { libc::eventfd(1, libc::EFD_CLOEXEC) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` was just created and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Whether `fd` is an open descriptor of this process.
pub fn is_open(fd: RawFd) -> bool {
    if fd < 0 {
        return false;
    }
    // SAFETY: F_GETFD only reads the descriptor flags; an invalid fd gives EBADF.
    unsafe { libc::fcntl(fd, libc::F_GETFD) >= 0 }
}

/// The size of `fd` if it is an open regular file (a memfd is one), else `None`.
pub fn regular_file_size(fd: RawFd) -> Option<u64> {
    if fd < 0 {
        return None;
    }
    let mut st = std::mem::MaybeUninit::<libc::stat>::zeroed();
    // SAFETY: `st` is writable storage for one `stat`; an invalid fd gives EBADF.
    if unsafe { libc::fstat(fd, st.as_mut_ptr()) } != 0 {
        return None;
    }
    // SAFETY: fstat succeeded and filled `st`.
    let st = unsafe { st.assume_init() };
    if st.st_mode & libc::S_IFMT != libc::S_IFREG {
        return None;
    }
    u64::try_from(st.st_size).ok()
}

/// Takes ownership of an fd the app handed over in a successful import.
///
/// # Safety
/// `fd` is open, and the caller owns it from now on (nothing else closes it).
pub unsafe fn adopt(fd: RawFd) -> OwnedFd {
    // SAFETY: forwarded from the caller.
    unsafe { OwnedFd::from_raw_fd(fd) }
}

/// Gives an fd to the app: the mock forgets it.
pub fn release(fd: OwnedFd) -> RawFd {
    use std::os::fd::IntoRawFd;
    fd.into_raw_fd()
}
