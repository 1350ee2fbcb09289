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
/// `pNext`, not the struct itself), in order, each struct once.
///
/// A chain that loops back on itself has its distinct structs visited and ends with
/// [`Malformed::Cycle`]; one with more than [`MAX_CHAIN_LINKS`] distinct structs (looping or
/// not) has its first [`MAX_CHAIN_LINKS`] visited and ends with [`Malformed::TooLong`].
///
/// # Safety
/// Every link reached must be null or point to a readable struct that starts with
/// `sType` and `pNext`, as the spec requires of a valid chain. Only the links of the chain
/// are read, and only their `sType` and `pNext` (plus what `visit` reads).
#[inline]
pub unsafe fn walk(
    head: *const c_void,
    mut visit: impl FnMut(vk::StructureType, *const vk::BaseInStructure<'static>),
) -> Result<(), Malformed> {
    let head = head as *const vk::BaseInStructure<'static>;
    if head.is_null() {
        return Ok(());
    }
    // The common chain of one struct needs no measuring: it cannot loop (a struct pointing
    // at itself has a non-null `pNext`).
    // SAFETY: a non-null link of the chain, valid by this function's contract.
    let (s_type, next) = unsafe { ((*head).s_type, (*head).p_next) };
    if next.is_null() {
        visit(s_type, head);
        return Ok(());
    }
    // SAFETY: forwarded contract.
    unsafe { walk_measured(head, visit) }
}

/// The one struct of a chain of exactly one link starting at `head`, with its `sType`;
/// `None` for an empty chain or a longer one. For the shortcuts that recognise a single
/// known struct before any walk.
///
/// # Safety
/// As [`walk`].
#[inline]
pub unsafe fn single_link(
    head: *const c_void,
) -> Option<(vk::StructureType, *const vk::BaseInStructure<'static>)> {
    let head = head as *const vk::BaseInStructure<'static>;
    if head.is_null() {
        return None;
    }
    // SAFETY: a non-null link of the chain, valid by this function's contract.
    let (s_type, next) = unsafe { ((*head).s_type, (*head).p_next) };
    next.is_null().then_some((s_type, head))
}

/// [`walk`] of a chain of more than one link.
///
/// # Safety
/// As [`walk`].
#[inline(never)]
unsafe fn walk_measured(
    head: *const vk::BaseInStructure<'static>,
    mut visit: impl FnMut(vk::StructureType, *const vk::BaseInStructure<'static>),
) -> Result<(), Malformed> {
    // The shape is measured before any visit, so that a looping chain does not feed the
    // readers the same struct twice (they would count a duplicate that is not there).
    // SAFETY: forwarded contract.
    let (distinct, res) = unsafe { measure(head) };
    let mut cur = head;
    for _ in 0..distinct {
        // SAFETY: `measure` reached `distinct` non-null links from `head`; each is a valid
        // link by this function's contract.
        let (s_type, next) = unsafe { ((*cur).s_type, (*cur).p_next) };
        visit(s_type, cur);
        cur = next;
    }
    res
}

/// How many distinct links to visit (at most [`MAX_CHAIN_LINKS`]) and how the walk ends.
///
/// # Safety
/// As [`walk`].
unsafe fn measure(head: *const vk::BaseInStructure<'static>) -> (usize, Result<(), Malformed>) {
    // SAFETY: every `next` below is called on a non-null link of the chain (see `walk`).
    let next = |p: *const vk::BaseInStructure<'static>| unsafe { (*p).p_next };
    // Brent: `anchor` jumps to `cur` each time `steps` reaches the next power of two; when
    // `cur` meets it again, `steps` is the loop's length. A loop of λ links after a tail of μ
    // is met within 2·max(μ, λ) + λ steps, so 4·MAX steps bound every chain of at most MAX
    // distinct links: no hang whatever the shape.
    if head.is_null() {
        return (0, Ok(()));
    }
    let mut anchor = head;
    let mut power = 1usize;
    let mut steps = 1usize;
    // `cur` is the link at index `taken`.
    let mut cur = next(head);
    let mut taken = 1usize;
    let cycle_len = loop {
        if cur.is_null() {
            return if taken > MAX_CHAIN_LINKS {
                (MAX_CHAIN_LINKS, Err(Malformed::TooLong))
            } else {
                (taken, Ok(()))
            };
        }
        if cur == anchor {
            break steps;
        }
        if taken > 4 * MAX_CHAIN_LINKS {
            return (MAX_CHAIN_LINKS, Err(Malformed::TooLong));
        }
        if steps == power {
            anchor = cur;
            power *= 2;
            steps = 0;
        }
        cur = next(cur);
        taken += 1;
        steps += 1;
    };
    // The tail's length μ: two cursors `cycle_len` apart meet at the loop's first link.
    let mut lead = head;
    for _ in 0..cycle_len {
        lead = next(lead);
    }
    let mut trail = head;
    let mut tail = 0usize;
    while trail != lead {
        trail = next(trail);
        lead = next(lead);
        tail += 1;
    }
    let distinct = tail + cycle_len;
    if distinct > MAX_CHAIN_LINKS {
        (MAX_CHAIN_LINKS, Err(Malformed::TooLong))
    } else {
        (distinct, Err(Malformed::Cycle))
    }
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
        assert_eq!(visits, 37);
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
    /// A chain over `nodes` (one struct each, `sType` = its index): `next[i]` is the index
    /// `pNext` of node `i` points to, or none for NULL.
    struct Graph {
        nodes: Vec<vk::BaseInStructure<'static>>,
    }

    impl Graph {
        fn new(next: &[Option<usize>]) -> Graph {
            let mut nodes: Vec<vk::BaseInStructure<'static>> = (0..next.len())
                .map(|i| link(vk::StructureType::from_raw(i as i32)))
                .collect();
            let base = nodes.as_mut_ptr();
            for (i, n) in next.iter().enumerate() {
                if let Some(j) = n {
                    // SAFETY: both indices are within `nodes`, which is not resized afterwards.
                    unsafe { (*base.add(i)).p_next = base.add(*j) };
                }
            }
            Graph { nodes }
        }

        fn head(&self, start: Option<usize>) -> *const c_void {
            start.map_or(std::ptr::null(), |s| {
                &self.nodes[s] as *const _ as *const c_void
            })
        }

        /// The reference: the distinct nodes from `start` in order, and whether a link
        /// points back among them.
        fn model(next: &[Option<usize>], start: Option<usize>) -> (Vec<usize>, bool) {
            let mut seen = std::collections::HashSet::new();
            let mut order = vec![];
            let mut cur = start;
            while let Some(i) = cur {
                if !seen.insert(i) {
                    return (order, true);
                }
                order.push(i);
                cur = next[i];
            }
            (order, false)
        }
    }

    fn expected(order: &[usize], cyclic: bool) -> (Vec<usize>, Result<(), Malformed>) {
        if order.len() > MAX_CHAIN_LINKS {
            (order[..MAX_CHAIN_LINKS].to_vec(), Err(Malformed::TooLong))
        } else if cyclic {
            (order.to_vec(), Err(Malformed::Cycle))
        } else {
            (order.to_vec(), Ok(()))
        }
    }

    fn walk_indices(g: &Graph, start: Option<usize>) -> (Vec<usize>, Result<(), Malformed>) {
        let mut seen = vec![];
        // SAFETY: every link points into `g.nodes`, alive for the call.
        let r = unsafe { walk(g.head(start), |st, _| seen.push(st.as_raw() as usize)) };
        (seen, r)
    }

    /// Any graph of up to 64 structs where each `pNext` is NULL or any struct: self loops,
    /// loops behind tails, shared tails.
    fn graphs() -> impl Strategy<Value = (Vec<Option<usize>>, Option<usize>)> {
        (1usize..64).prop_flat_map(|n| {
            (
                proptest::collection::vec(proptest::option::weighted(0.8, 0..n), n),
                proptest::option::weighted(0.95, 0..n),
            )
        })
    }

    /// A tail of `tail` structs then either NULL (`ring == 0`) or a loop of `ring` structs,
    /// around the length limit.
    fn long_shapes() -> impl Strategy<Value = (usize, usize)> {
        let near = |c: usize| c - 3..c + 3;
        (
            prop_oneof![0usize..8, near(MAX_CHAIN_LINKS), 0..3 * MAX_CHAIN_LINKS],
            prop_oneof![
                Just(0usize),
                1usize..8,
                near(MAX_CHAIN_LINKS),
                0..3 * MAX_CHAIN_LINKS
            ],
        )
    }

    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Each reachable struct exactly once, in chain order, nothing beyond the point where
        /// the chain loops back; the end named as the model says.
        #[test]
        fn walk_matches_the_model((next, start) in graphs()) {
            let g = Graph::new(&next);
            let (order, cyclic) = Graph::model(&next, start);
            prop_assert_eq!(walk_indices(&g, start), expected(&order, cyclic));
        }

        /// `find` returns the first struct of the type among those `walk` visits.
        #[test]
        fn find_is_the_first_visited((next, start) in graphs(), want in 0i32..64) {
            let g = Graph::new(&next);
            let (order, _) = Graph::model(&next, start);
            // SAFETY: as `walk_indices`.
            let (found, r) = unsafe {
                find::<vk::BaseInStructure<'static>>(g.head(start), vk::StructureType::from_raw(want))
            };
            let first = order.iter().position(|&i| i == want as usize).map(|k| order[k]);
            prop_assert_eq!(found.map(|p| unsafe { (*p).s_type.as_raw() } as usize), first);
            prop_assert_eq!(r, walk_indices(&g, start).1);
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Long tails and long loops: TooLong past MAX_CHAIN_LINKS distinct structs, Cycle
        /// below it, and never more than MAX_CHAIN_LINKS visits.
        #[test]
        fn long_chains_and_loops((tail, ring) in long_shapes()) {
            let n = tail + ring;
            prop_assume!(n > 0);
            let next: Vec<Option<usize>> = (0..n)
                .map(|i| if i + 1 < n { Some(i + 1) } else if ring > 0 { Some(tail) } else { None })
                .collect();
            let g = Graph::new(&next);
            let (order, cyclic) = Graph::model(&next, Some(0));
            prop_assert_eq!(walk_indices(&g, Some(0)), expected(&order, cyclic));
        }
    }

    /// 100 000 links: stopped at the limit, quickly.
    #[test]
    fn hundred_thousand_links() {
        let n = 100_000;
        let next: Vec<Option<usize>> = (0..n).map(|i| (i + 1 < n).then_some(i + 1)).collect();
        let g = Graph::new(&next);
        let (seen, r) = walk_indices(&g, Some(0));
        assert_eq!(r, Err(Malformed::TooLong));
        assert_eq!(seen, (0..MAX_CHAIN_LINKS).collect::<Vec<_>>());
    }

    /// A loop of three is visited once around, not the 4+ visits Brent's walk alone makes.
    #[test]
    fn small_loop_visits_each_struct_once() {
        let g = Graph::new(&[Some(1), Some(2), Some(0)]);
        assert_eq!(
            walk_indices(&g, Some(0)),
            (vec![0, 1, 2], Err(Malformed::Cycle))
        );
        let g = Graph::new(&[Some(1), Some(2), Some(3), Some(1)]);
        assert_eq!(
            walk_indices(&g, Some(0)),
            (vec![0, 1, 2, 3], Err(Malformed::Cycle))
        );
    }
}
