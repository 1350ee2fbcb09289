//! Arrays the application passes as a pointer and a count.

/// The `count` elements at `p`, or none when `p` is null or `count` is 0 (the spec lets
/// an array pointer be anything when its count is 0).
///
/// # Safety
/// `p` is null or points to `count` valid elements that outlive the returned slice.
pub unsafe fn slice<'a, T>(p: *const T, count: u32) -> &'a [T] {
    if p.is_null() || count == 0 {
        return &[];
    }
    // SAFETY: the caller guarantees `count` readable elements.
    unsafe { std::slice::from_raw_parts(p, count as usize) }
}
