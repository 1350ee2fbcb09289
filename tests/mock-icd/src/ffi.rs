//! Helpers for the C side of the entry points: panic guards, reading input arrays and
//! `pNext` chains, writing outputs and the two-call enumeration idiom.

use ash::vk;
use std::ffi::{c_char, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The longest `pNext` chain the mock walks; a longer (or cyclic) chain is cut there.
const MAX_CHAIN: usize = 256;

/// Runs an entry point body; a panic becomes `VK_ERROR_UNKNOWN`.
pub fn guard(f: impl FnOnce() -> vk::Result) -> vk::Result {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(vk::Result::ERROR_UNKNOWN)
}

/// Runs a `void` entry point body; a panic is swallowed.
pub fn guard_void(f: impl FnOnce()) {
    let _ = catch_unwind(AssertUnwindSafe(f));
}

/// Runs an entry point body that returns a value; a panic gives `fallback`.
pub fn guard_or<T>(fallback: T, f: impl FnOnce() -> T) -> T {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or(fallback)
}

/// A shared reference from a pointer that may be null.
///
/// # Safety
/// `p` is null or points to a valid `T` that outlives `'a`.
pub unsafe fn opt<'a, T>(p: *const T) -> Option<&'a T> {
    // SAFETY: forwarded from the caller.
    unsafe { p.as_ref() }
}

/// An input array; null or `count == 0` give an empty slice.
///
/// # Safety
/// When non-null, `p` points to `count` valid `T`s that outlive `'a`.
pub unsafe fn slice<'a, T>(p: *const T, count: u32) -> &'a [T] {
    if p.is_null() || count == 0 {
        return &[];
    }
    // SAFETY: non-null and, per the caller, `count` valid elements.
    unsafe { std::slice::from_raw_parts(p, count as usize) }
}

/// Writes an output value; `false` if the pointer is null.
///
/// # Safety
/// `p` is null or valid for a write of `T`.
pub unsafe fn write<T>(p: *mut T, value: T) -> bool {
    if p.is_null() {
        return false;
    }
    // SAFETY: non-null and writable per the caller; `write` does not read the old value.
    unsafe { p.write(value) };
    true
}

/// A C string argument.
///
/// # Safety
/// `p` is null or a NUL-terminated string that outlives `'a`.
pub unsafe fn cstr<'a>(p: *const c_char) -> Option<&'a str> {
    if p.is_null() {
        return None;
    }
    // SAFETY: non-null and NUL-terminated per the caller.
    unsafe { CStr::from_ptr(p) }.to_str().ok()
}

/// Copies `s` into a fixed-size C string array, truncating and NUL-terminating.
pub fn copy_cstr<const N: usize>(dst: &mut [c_char; N], s: &str) {
    let bytes = s.as_bytes();
    let n = bytes.len().min(N.saturating_sub(1));
    for (d, b) in dst.iter_mut().zip(bytes[..n].iter()) {
        *d = *b as c_char;
    }
    for d in dst.iter_mut().skip(n) {
        *d = 0;
    }
}

/// The first structure of type `T` in an input `pNext` chain.
///
/// # Safety
/// `p_next` is null or the head of a valid chain of Vulkan input structures that outlive
/// `'a`.
pub unsafe fn find<'a, T: vk::TaggedStructure>(p_next: *const c_void) -> Option<&'a T> {
    let mut node = p_next.cast::<vk::BaseInStructure<'_>>();
    for _ in 0..MAX_CHAIN {
        // SAFETY: each node of a valid chain starts with sType/pNext.
        let base = unsafe { node.as_ref() }?;
        if base.s_type == T::STRUCTURE_TYPE {
            // SAFETY: the sType identifies the structure as a `T`.
            return unsafe { node.cast::<T>().as_ref() };
        }
        node = base.p_next;
    }
    None
}

/// Calls `f` with every structure of an output `pNext` chain.
///
/// # Safety
/// `p_next` is null or the head of a valid chain of writable Vulkan output structures.
pub unsafe fn for_each_out(p_next: *mut c_void, mut f: impl FnMut(vk::StructureType, *mut c_void)) {
    let mut node = p_next.cast::<vk::BaseOutStructure<'_>>();
    for _ in 0..MAX_CHAIN {
        if node.is_null() {
            return;
        }
        // SAFETY: each node of a valid chain starts with sType/pNext; read them before `f`
        // writes the structure's other members.
        let (s_type, next) = unsafe { ((*node).s_type, (*node).p_next) };
        f(s_type, node.cast());
        node = next;
    }
}

/// A node of an output chain as its real type.
///
/// # Safety
/// `node` points to a valid, writable `T` (its `sType` says so) that outlives `'a` and
/// that nothing else accesses meanwhile.
pub unsafe fn out<'a, T>(node: *mut c_void) -> &'a mut T {
    // SAFETY: forwarded from the caller.
    unsafe { &mut *node.cast::<T>() }
}

/// The two-call idiom for plain arrays: count query, or copy with `VK_INCOMPLETE`.
///
/// # Safety
/// `p_count` is valid for reads and writes; `p_out` is null or valid for `*p_count` writes.
pub unsafe fn enumerate<T: Copy>(items: &[T], p_count: *mut u32, p_out: *mut T) -> vk::Result {
    // SAFETY: forwarded from the caller.
    unsafe {
        enumerate_with(
            items.len(),
            p_count,
            |i| write(p_out.add(i), items[i]),
            p_out.is_null(),
        )
    }
}

/// The two-call idiom with a custom writer for element `i` (for structures with `pNext`).
///
/// # Safety
/// `p_count` is valid for reads and writes; when `query_only` is false, `put(i)` is valid
/// for every `i < *p_count`.
pub unsafe fn enumerate_with(
    len: usize,
    p_count: *mut u32,
    mut put: impl FnMut(usize) -> bool,
    query_only: bool,
) -> vk::Result {
    if p_count.is_null() {
        return vk::Result::ERROR_UNKNOWN;
    }
    let total = u32::try_from(len).unwrap_or(u32::MAX);
    if query_only {
        // SAFETY: checked non-null; valid per the caller.
        unsafe { *p_count = total };
        return vk::Result::SUCCESS;
    }
    // SAFETY: as above.
    let room = unsafe { *p_count };
    let n = room.min(total);
    for i in 0..n as usize {
        put(i);
    }
    // SAFETY: as above.
    unsafe { *p_count = n };
    if n < total {
        vk::Result::INCOMPLETE
    } else {
        vk::Result::SUCCESS
    }
}

/// Casts a function to the loader's `PFN_vkVoidFunction`.
#[macro_export]
macro_rules! pfn {
    ($f:expr) => {{
        let raw = $f as *const ();
        // SAFETY: a function pointer fits a `*const ()` and back; the loader casts it to
        // the command's real signature before calling it.
        Some(unsafe { ::std::mem::transmute::<*const (), unsafe extern "system" fn()>(raw) })
    }};
}
