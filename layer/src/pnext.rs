//! A defensive walk over `pNext` chains.
//!
//! Apps hand the layer chains it did not build: unknown `sType`s are skipped, a cycle or an
//! absurd length ends the walk with [`Malformed`] instead of a hang.

use ash::vk;
use std::ffi::c_void;

/// No real chain comes near this; the Vulkan headers define a few hundred structs in all.
pub const MAX_CHAIN_LINKS: usize = 4096;

/// Why a chain walk stopped early.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Malformed {
    Cycle,
    TooLong,
}

/// Calls `visit` for every struct in the chain starting at `head` (the struct's own
/// `pNext`, not the struct itself).
///
/// # Safety
/// Every link reached must be null or point to a readable struct that starts with
/// `sType` and `pNext`, as the spec requires of a valid chain. Cycles are caught (Brent's
/// algorithm, no allocation) before any link is visited twice.
pub unsafe fn walk(
    head: *const c_void,
    mut visit: impl FnMut(vk::StructureType, *const vk::BaseInStructure<'static>),
) -> Result<(), Malformed> {
    let mut cur = head as *const vk::BaseInStructure<'static>;
    // Brent: `anchor` jumps to `cur` each time `steps` reaches the next power of two.
    let mut anchor: *const vk::BaseInStructure<'static> = std::ptr::null();
    let mut power = 1usize;
    let mut steps = 0usize;
    let mut links = 0usize;
    while !cur.is_null() {
        if cur == anchor {
            return Err(Malformed::Cycle);
        }
        links += 1;
        if links > MAX_CHAIN_LINKS {
            return Err(Malformed::TooLong);
        }
        // SAFETY: `cur` is non-null and, by this function's contract, a valid chain link.
        let (s_type, next) = unsafe { ((*cur).s_type, (*cur).p_next) };
        visit(s_type, cur);
        steps += 1;
        if steps == power {
            anchor = cur;
            power *= 2;
            steps = 0;
        }
        cur = next;
    }
    Ok(())
}

/// The first struct of type `s_type` in the chain, cast to `T`.
///
/// # Safety
/// As [`walk`]; `T` must be the struct that `s_type` names.
pub unsafe fn find<T>(
    head: *const c_void,
    s_type: vk::StructureType,
) -> (Option<*const T>, Result<(), Malformed>) {
    let mut found = None;
    // SAFETY: forwarded contract.
    let res = unsafe {
        walk(head, |st, p| {
            if st == s_type && found.is_none() {
                found = Some(p as *const T);
            }
        })
    };
    (found, res)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(s_type: vk::StructureType) -> vk::BaseInStructure<'static> {
        vk::BaseInStructure {
            s_type,
            p_next: std::ptr::null(),
            ..Default::default()
        }
    }

    #[test]
    fn visits_in_order_and_stops_at_null() {
        let mut b = link(vk::StructureType::EXPORT_MEMORY_ALLOCATE_INFO);
        let a = link(vk::StructureType::MEMORY_DEDICATED_ALLOCATE_INFO);
        b.p_next = &a;
        let mut seen = vec![];
        let r = unsafe { walk(&b as *const _ as *const c_void, |st, _| seen.push(st)) };
        assert_eq!(r, Ok(()));
        assert_eq!(
            seen,
            [
                vk::StructureType::EXPORT_MEMORY_ALLOCATE_INFO,
                vk::StructureType::MEMORY_DEDICATED_ALLOCATE_INFO
            ]
        );
    }

    #[test]
    fn self_loop_and_long_cycle_are_caught() {
        let mut a = link(vk::StructureType::from_raw(12345));
        a.p_next = &a;
        assert_eq!(
            unsafe { walk(&a as *const _ as *const c_void, |_, _| {}) },
            Err(Malformed::Cycle)
        );
        let mut ring: Vec<vk::BaseInStructure<'static>> = (0..37)
            .map(|i| link(vk::StructureType::from_raw(i)))
            .collect();
        let base = ring.as_mut_ptr();
        for i in 0..37 {
            unsafe { (*base.add(i)).p_next = base.add((i + 1) % 37) };
        }
        let mut visits = 0;
        let r = unsafe { walk(base as *const c_void, |_, _| visits += 1) };
        assert_eq!(r, Err(Malformed::Cycle));
        assert!(visits < 37 * 4);
    }

    #[test]
    fn absurd_length_is_caught() {
        let mut v: Vec<vk::BaseInStructure<'static>> = (0..MAX_CHAIN_LINKS + 10)
            .map(|_| link(vk::StructureType::from_raw(7)))
            .collect();
        let base = v.as_mut_ptr();
        for i in 0..v.len() - 1 {
            unsafe { (*base.add(i)).p_next = base.add(i + 1) };
        }
        assert_eq!(
            unsafe { walk(base as *const c_void, |_, _| {}) },
            Err(Malformed::TooLong)
        );
    }
}
