//! Loading the CUDA side of `cuda_interop` (examples/cuda/handoff_cuda_peer.cu, built with
//! nvcc on the GPU machine) at run time, so the examples build and run where CUDA is absent.

use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::os::fd::{IntoRawFd, OwnedFd};
use std::path::PathBuf;

/// The library's file name; `HANDOFF_CUDA_PEER` names another path.
pub const LIBRARY: &str = "libhandoff_cuda_peer.so";
/// The ABI `handoff_cuda_peer_abi()` must return.
const ABI: c_int = 1;

/// `struct handoff_cuda_peer_args` of the .cu file, field for field.
#[repr(C)]
struct Args {
    memory_fd: c_int,
    dedicated: c_int,
    size: u64,
    bytes: u64,
    wait_fd: c_int,
    signal_fd: c_int,
    device_uuid: [u8; 16],
}

type AbiFn = unsafe extern "C" fn() -> c_int;
type RunFn = unsafe extern "C" fn(*const Args, *mut c_char, usize) -> c_int;
type HasDeviceFn = unsafe extern "C" fn(*const u8, *mut c_char, usize) -> c_int;

/// What the CUDA side gets: the fds are handed over (CUDA owns or closes each).
pub struct Handover {
    pub memory: OwnedFd,
    pub dedicated: bool,
    /// The Vulkan allocation's size, exactly.
    pub size: u64,
    /// How many bytes the kernel writes.
    pub bytes: u64,
    /// Vulkan signals it; CUDA waits.
    pub wait: OwnedFd,
    /// CUDA signals it; Vulkan waits.
    pub signal: OwnedFd,
    pub device_uuid: [u8; 16],
}

/// Why the CUDA side did not run.
pub enum Failure {
    /// No CUDA here (library, driver or matching device missing): not an error of the example.
    Absent(String),
    /// CUDA is there and a call failed.
    Failed(String),
}

/// The loaded library (kept loaded for the life of the process).
pub struct Peer {
    run: RunFn,
    has_device: HasDeviceFn,
    pub path: String,
}

/// The byte the kernel writes at `offset` (`handoff_cuda_peer_pattern`).
pub fn pattern(offset: u64) -> u8 {
    (offset.wrapping_mul(131) ^ (offset >> 10) ^ 0x5a) as u8
}

fn candidates() -> Vec<String> {
    if let Some(p) = std::env::var_os("HANDOFF_CUDA_PEER") {
        return vec![PathBuf::from(p).display().to_string()];
    }
    let mut out = Vec::new();
    if let Some(dir) = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(PathBuf::from))
    {
        out.push(dir.join(LIBRARY).display().to_string());
    }
    // The dynamic linker's own search (LD_LIBRARY_PATH, ldconfig).
    out.push(LIBRARY.to_owned());
    out
}

fn dlerror() -> String {
    // SAFETY: dlerror returns null or a NUL-terminated string valid until the next dl call.
    let e = unsafe { libc::dlerror() };
    if e.is_null() {
        "unknown dlopen error".into()
    } else {
        // SAFETY: non-null, NUL-terminated (above).
        unsafe { CStr::from_ptr(e) }.to_string_lossy().into_owned()
    }
}

/// # Safety
/// `handle` is a live dlopen handle and `name` a symbol of type `T` (a function pointer).
unsafe fn symbol<T: Copy>(handle: *mut c_void, name: &CStr) -> Option<T> {
    // SAFETY: a live handle and a NUL-terminated name.
    let p = unsafe { libc::dlsym(handle, name.as_ptr()) };
    // SAFETY: the caller promises the symbol has type T, a pointer-sized fn pointer.
    (!p.is_null()).then(|| unsafe { std::mem::transmute_copy::<*mut c_void, T>(&p) })
}

impl Peer {
    /// Loads the library from the first place that has it.
    pub fn load() -> Result<Peer, String> {
        let mut tried = Vec::new();
        for path in candidates() {
            let c = CString::new(path.clone()).map_err(|e| e.to_string())?;
            // SAFETY: a NUL-terminated path; the library's initialisers are the CUDA
            // runtime's (linked in statically), which only set up its own state.
            let handle = unsafe { libc::dlopen(c.as_ptr(), libc::RTLD_NOW | libc::RTLD_LOCAL) };
            if handle.is_null() {
                tried.push(dlerror());
                continue;
            }
            // SAFETY: the .cu file exports these two with these signatures.
            let (abi, run, has_device) = unsafe {
                (
                    symbol::<AbiFn>(handle, c"handoff_cuda_peer_abi"),
                    symbol::<RunFn>(handle, c"handoff_cuda_peer_run"),
                    symbol::<HasDeviceFn>(handle, c"handoff_cuda_peer_has_device"),
                )
            };
            let (Some(abi), Some(run), Some(has_device)) = (abi, run, has_device) else {
                return Err(format!("{path} lacks the handoff_cuda_peer_* functions"));
            };
            // SAFETY: a plain C function without arguments.
            let got = unsafe { abi() };
            if got != ABI {
                return Err(format!("{path} has ABI {got}, this example needs {ABI}"));
            }
            // The handle is never closed: `run` must stay valid.
            return Ok(Peer {
                run,
                has_device,
                path,
            });
        }
        Err(tried.join("; "))
    }

    /// Whether a CUDA device has this Vulkan deviceUUID; `Err` says why not.
    pub fn has_device(&self, device_uuid: &[u8; 16]) -> Result<(), String> {
        let mut err = [0 as c_char; 512];
        // SAFETY: 16 readable bytes; `err` is writable for its length.
        let rc = unsafe { (self.has_device)(device_uuid.as_ptr(), err.as_mut_ptr(), err.len()) };
        // SAFETY: a NUL-terminated message (vsnprintf) or zeros.
        let message = unsafe { CStr::from_ptr(err.as_ptr()) };
        match rc {
            0 => Ok(()),
            _ => Err(message.to_string_lossy().into_owned()),
        }
    }

    /// Runs the CUDA side once: import, wait, write, signal, release.
    pub fn run(&self, h: Handover) -> Result<(), Failure> {
        let args = Args {
            memory_fd: h.memory.into_raw_fd(),
            dedicated: c_int::from(h.dedicated),
            size: h.size,
            bytes: h.bytes,
            wait_fd: h.wait.into_raw_fd(),
            signal_fd: h.signal.into_raw_fd(),
            device_uuid: h.device_uuid,
        };
        let mut err = [0 as c_char; 512];
        // SAFETY: `args` matches the C struct; `err` is writable for its length; the function
        // consumes the three fds (ownership was released above) whatever it returns.
        let rc = unsafe { (self.run)(&args, err.as_mut_ptr(), err.len()) };
        // SAFETY: the function writes a NUL-terminated message (vsnprintf) or leaves zeros.
        let message = unsafe { CStr::from_ptr(err.as_ptr()) }
            .to_string_lossy()
            .into_owned();
        match rc {
            0 => Ok(()),
            2 => Err(Failure::Absent(message)),
            _ => Err(Failure::Failed(message)),
        }
    }
}
