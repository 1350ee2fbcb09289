//! Sharing bytes through OPAQUE_FD: between two devices of one process, and with a second
//! process that gets the fd over a unix socket (SCM_RIGHTS).

use std::io::Read;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::process::{Command, Stdio};

use ash::vk;
use ash::vk::Handle;
use serde_json::{json, Value};

use super::args::Args;
use super::ctx::{result_json, Ctx, Dev, InstanceOpts};
use super::{handle_hex, hex, pattern, ScenarioResult};

/// Pattern seeds: what the exporter writes, what the importer writes back.
pub const SEED_EXPORTER: u8 = 1;
pub const SEED_IMPORTER: u8 = 2;
/// How many bytes the importer writes back at offset 0.
pub const REPLY_LEN: usize = 64;

const OPAQUE: vk::ExternalMemoryHandleTypeFlags = vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD;

/// Exported memory, mapped, holding the exporter's pattern.
struct Exported {
    memory: vk::DeviceMemory,
    ptr: *mut u8,
    fd: RawFd,
    export_result: vk::Result,
}

fn export(ctx: &Ctx, dev: &Dev, size: u64) -> Result<Exported, String> {
    let type_index = ctx.host_visible_type()?;
    let memory = dev
        .allocate(size, type_index, Some(OPAQUE), None)
        .map_err(|e| format!("vkAllocateMemory (export): {e:?}"))?;
    let ptr = dev.map(memory, size)?;
    let data = pattern(SEED_EXPORTER, size as usize);
    // SAFETY: `ptr` maps `size` bytes of host-coherent memory.
    unsafe { std::ptr::copy_nonoverlapping(data.as_ptr(), ptr, data.len()) };
    let (export_result, fd) = dev.get_fd(memory, OPAQUE, -1);
    Ok(Exported {
        memory,
        ptr,
        fd,
        export_result,
    })
}

/// Imports `fd` (ownership passes to the driver on success), maps it, reads every byte and
/// writes the importer's pattern over the first [`REPLY_LEN`] bytes.
fn import_read_reply(
    dev: &Dev,
    fd: RawFd,
    size: u64,
    type_index: u32,
) -> Result<(vk::DeviceMemory, Vec<u8>), (vk::Result, String)> {
    let memory = dev
        .allocate(size, type_index, None, Some(fd))
        .map_err(|e| (e, format!("vkAllocateMemory (import): {e:?}")))?;
    let ptr = dev
        .map(memory, size)
        .map_err(|e| (vk::Result::SUCCESS, e))?;
    let mut read = vec![0u8; size as usize];
    // SAFETY: `ptr` maps `size` bytes of host-coherent memory.
    unsafe {
        std::ptr::copy_nonoverlapping(ptr, read.as_mut_ptr(), read.len());
        let reply = pattern(SEED_IMPORTER, REPLY_LEN);
        std::ptr::copy_nonoverlapping(reply.as_ptr(), ptr, reply.len());
    }
    Ok((memory, read))
}

fn read_back(ptr: *const u8, len: usize) -> Vec<u8> {
    let mut v = vec![0u8; len];
    // SAFETY: the caller's mapping holds at least `len` bytes.
    unsafe { std::ptr::copy_nonoverlapping(ptr, v.as_mut_ptr(), len) };
    v
}

/// `share-devices [--size N]`: export on device A, import on device B of the same instance.
/// Results: `export`, `import` (VkResults), `read` (hex, all bytes as B sees them), `back`
/// (hex, the first REPLY_LEN bytes as A sees them after B wrote), `memory_a`, `memory_b`.
pub fn share_devices(a: &Args) -> ScenarioResult {
    let size = a.number("--size", 4096)?;
    let ctx = Ctx::new(&InstanceOpts::from_args(a))?;
    let dev_a = ctx.create_device()?;
    let dev_b = ctx.create_device()?;
    let ex = export(&ctx, &dev_a, size)?;
    let mut out = json!({
        "export": result_json(ex.export_result),
        "memory_a": handle_hex(ex.memory.as_raw()),
    });
    if ex.export_result == vk::Result::SUCCESS && ex.fd >= 0 {
        match import_read_reply(&dev_b, ex.fd, size, ctx.host_visible_type()?) {
            Ok((mem_b, read)) => {
                out["import"] = result_json(vk::Result::SUCCESS);
                out["read"] = json!(hex(&read));
                out["back"] = json!(hex(&read_back(ex.ptr, REPLY_LEN)));
                out["memory_b"] = json!(handle_hex(mem_b.as_raw()));
                dev_b.free(mem_b);
            }
            Err((r, msg)) => {
                out["import"] = result_json(r);
                out["import_error"] = json!(msg);
                // SAFETY: the import failed, so the fd is still ours.
                unsafe { libc::close(ex.fd) };
            }
        }
    }
    dev_a.free(ex.memory);
    dev_b.destroy();
    dev_a.destroy();
    ctx.destroy();
    Ok(out)
}

fn send_fd(sock: RawFd, fd: RawFd, payload: &[u8]) -> Result<(), String> {
    // SAFETY: plain sendmsg with a correctly sized control buffer holding one SCM_RIGHTS fd;
    // every pointer refers to locals alive for the call.
    unsafe {
        let mut iov = libc::iovec {
            iov_base: payload.as_ptr() as *mut libc::c_void,
            iov_len: payload.len(),
        };
        let space = libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) as usize;
        let mut cbuf = vec![0u8; space];
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = space as _;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(std::mem::size_of::<RawFd>() as u32) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg) as *mut RawFd, fd);
        if libc::sendmsg(sock, &msg, 0) < 0 {
            return Err(format!("sendmsg: {}", std::io::Error::last_os_error()));
        }
    }
    Ok(())
}

/// Receives one fd and up to 64 payload bytes.
fn recv_fd(sock: RawFd) -> Result<(RawFd, Vec<u8>), String> {
    let mut buf = [0u8; 64];
    // SAFETY: plain recvmsg into locals sized as declared; the control buffer is read only
    // through the CMSG macros within its length.
    unsafe {
        let mut iov = libc::iovec {
            iov_base: buf.as_mut_ptr() as *mut libc::c_void,
            iov_len: buf.len(),
        };
        let space = libc::CMSG_SPACE(std::mem::size_of::<RawFd>() as u32) as usize;
        let mut cbuf = vec![0u8; space];
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr() as *mut libc::c_void;
        msg.msg_controllen = space as _;
        let n = libc::recvmsg(sock, &mut msg, libc::MSG_CMSG_CLOEXEC);
        if n < 0 {
            return Err(format!("recvmsg: {}", std::io::Error::last_os_error()));
        }
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        if cmsg.is_null()
            || (*cmsg).cmsg_level != libc::SOL_SOCKET
            || (*cmsg).cmsg_type != libc::SCM_RIGHTS
        {
            return Err("recvmsg: no SCM_RIGHTS fd received".to_owned());
        }
        let fd = std::ptr::read_unaligned(libc::CMSG_DATA(cmsg) as *const RawFd);
        Ok((fd, buf[..n as usize].to_vec()))
    }
}

fn socketpair() -> Result<(OwnedFd, OwnedFd), String> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: socketpair writes two fds into the array on success.
    let r = unsafe {
        libc::socketpair(
            libc::AF_UNIX,
            libc::SOCK_STREAM | libc::SOCK_CLOEXEC,
            0,
            fds.as_mut_ptr(),
        )
    };
    if r != 0 {
        return Err(format!("socketpair: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: both fds were just created and are owned by nobody else.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// `share-process [--size N] [--child-size N] [--child-reexport]`: export here, start `handoff-scenario share-child` (fork+exec of
/// this binary, same environment, so the child runs through the layer too), send it the fd
/// over a socketpair, wait until it has read the bytes and written its reply.
/// Results: `export`, `written` (hex), `back` (hex, first REPLY_LEN bytes after the child
/// wrote), `child_status`, `child` (the child's own JSON line: findings and results).
pub fn share_process(a: &Args) -> ScenarioResult {
    let size = a.number("--size", 4096)?;
    let ctx = Ctx::new(&InstanceOpts::from_args(a))?;
    let dev = ctx.create_device()?;
    let ex = export(&ctx, &dev, size)?;
    let type_index = ctx.host_visible_type()?;
    let mut out = json!({
        "export": result_json(ex.export_result),
        "written": hex(&pattern(SEED_EXPORTER, size as usize)),
        "memory": handle_hex(ex.memory.as_raw()),
    });
    if ex.export_result != vk::Result::SUCCESS || ex.fd < 0 {
        dev.free(ex.memory);
        dev.destroy();
        ctx.destroy();
        return Ok(out);
    }

    let (mine, theirs) = socketpair()?;
    // The child's end must survive exec: clear FD_CLOEXEC on it only.
    // SAFETY: fcntl on an fd we own.
    if unsafe { libc::fcntl(theirs.as_raw_fd(), libc::F_SETFD, 0) } != 0 {
        return Err(format!("fcntl: {}", std::io::Error::last_os_error()));
    }
    let exe = std::env::current_exe().map_err(|e| format!("current_exe: {e}"))?;
    let mut child = Command::new(exe)
        .arg("share-child")
        .args(["--sock", &theirs.as_raw_fd().to_string()])
        .args(["--size", &a.number("--child-size", size)?.to_string()])
        .args(["--type-index", &type_index.to_string()])
        .args(if a.flag("--child-reexport") {
            &["--reexport"][..]
        } else {
            &[]
        })
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("spawn share-child: {e}"))?;
    drop(theirs);
    let mut child_stdout = child.stdout.take().ok_or("no child stdout")?;
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = child_stdout.read_to_string(&mut s);
        s
    });

    let sent = send_fd(mine.as_raw_fd(), ex.fd, b"fd");
    // SAFETY: our copy of the exported fd; the child has its own after sendmsg.
    unsafe { libc::close(ex.fd) };
    sent?;
    // Wait for the child's "done" byte (or EOF if it failed).
    let mut done = [0u8; 1];
    // SAFETY: read into a 1-byte local.
    let n = unsafe { libc::read(mine.as_raw_fd(), done.as_mut_ptr() as *mut libc::c_void, 1) };
    out["child_done"] = json!(n == 1);
    out["back"] = json!(hex(&read_back(ex.ptr, REPLY_LEN)));

    let status = child.wait().map_err(|e| format!("wait share-child: {e}"))?;
    let child_out = reader.join().unwrap_or_default();
    out["child_status"] = json!(status.code());
    out["child"] = child_out
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .and_then(|l| serde_json::from_str::<Value>(l).ok())
        .unwrap_or(json!({ "raw": child_out }));
    dev.free(ex.memory);
    dev.destroy();
    ctx.destroy();
    Ok(out)
}

/// `share-child --sock FD --size N --type-index I [--reexport]`: the second process. Receives the fd,
/// imports it on its own instance and device, reads every byte, writes its reply, tells the
/// parent; with `--reexport` it also calls vkGetMemoryFdKHR on the imported memory (which was
/// not allocated for export). Results: `import` (VkResult), `read` (hex), `memory`,
/// `reexport` (VkResult).
pub fn share_child(a: &Args) -> ScenarioResult {
    let sock = a.number("--sock", u64::MAX)?;
    let sock = RawFd::try_from(sock).map_err(|_| "--sock missing".to_owned())?;
    // SAFETY: the parent passed this fd to us across exec; nothing else owns it.
    let sock = unsafe { OwnedFd::from_raw_fd(sock) };
    let size = a.number("--size", 4096)?;
    let type_index = a.number("--type-index", 0)? as u32;
    let ctx = Ctx::new(&InstanceOpts::from_args(a))?;
    let dev = ctx.create_device()?;
    let (fd, _payload) = recv_fd(sock.as_raw_fd())?;
    let mut out = json!({});
    match import_read_reply(&dev, fd, size, type_index) {
        Ok((memory, read)) => {
            out["import"] = result_json(vk::Result::SUCCESS);
            out["read"] = json!(hex(&read));
            out["memory"] = json!(handle_hex(memory.as_raw()));
            if a.flag("--reexport") {
                // Imported without VkExportMemoryAllocateInfo: exporting it again is 00671.
                let (r, fd) = dev.get_fd(memory, OPAQUE, -1);
                out["reexport"] = result_json(r);
                if fd >= 0 {
                    // SAFETY: the fd was just returned to us and is closed once.
                    unsafe { libc::close(fd) };
                }
            }
            dev.free(memory);
        }
        Err((r, msg)) => {
            out["import"] = result_json(r);
            out["import_error"] = json!(msg);
            // SAFETY: the import failed, so the fd is still ours.
            unsafe { libc::close(fd) };
        }
    }
    // SAFETY: write one byte from a static buffer.
    unsafe { libc::write(sock.as_raw_fd(), b"d".as_ptr() as *const libc::c_void, 1) };
    dev.destroy();
    ctx.destroy();
    Ok(out)
}
