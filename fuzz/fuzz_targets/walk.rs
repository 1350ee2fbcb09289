//! The pure `pNext` walker on arbitrary graphs of real structs: each byte names where one
//! struct's `pNext` points (NULL, or any struct), checked against a reference walk.

#![no_main]

use std::collections::HashSet;
use std::ffi::c_void;

use ash::vk;
use libfuzzer_sys::fuzz_target;
use VkLayer_handoff::pnext::{self, Malformed, MAX_CHAIN_LINKS};

fuzz_target!(|data: &[u8]| {
    let Some((&shape, bytes)) = data.split_first() else {
        return;
    };
    // Short graphs from the bytes; `shape` stretches the first struct into a long run.
    let stretch = match shape & 3 {
        0 => 0,
        1 => MAX_CHAIN_LINKS - 2,
        2 => MAX_CHAIN_LINKS,
        _ => usize::from(shape) * 40,
    };
    let n = bytes.len().min(256);
    if n == 0 {
        return;
    }
    // Node i < n: pNext from its byte; the stretched run follows node 0.
    let total = n + stretch;
    let mut next: Vec<Option<usize>> = bytes[..n]
        .iter()
        .map(|&b| (b != 255).then(|| usize::from(b) % n))
        .collect();
    if stretch > 0 {
        let after0 = next[0];
        next[0] = Some(n);
        next.extend((n..total).map(|i| if i + 1 < total { Some(i + 1) } else { after0 }));
    }
    let mut nodes: Vec<vk::BaseInStructure<'static>> = (0..total)
        .map(|i| vk::BaseInStructure {
            s_type: vk::StructureType::from_raw(i as i32),
            ..Default::default()
        })
        .collect();
    let base = nodes.as_mut_ptr();
    for (i, nx) in next.iter().enumerate() {
        if let Some(j) = nx {
            // SAFETY: both indices are within `nodes`, not resized afterwards.
            unsafe { (*base.add(i)).p_next = base.add(*j) };
        }
    }
    // The reference walk.
    let mut seen = HashSet::new();
    let mut order = vec![];
    let mut cur = Some(0usize);
    let mut cyclic = false;
    while let Some(i) = cur {
        if !seen.insert(i) {
            cyclic = true;
            break;
        }
        order.push(i);
        cur = next[i];
    }
    let want = if order.len() > MAX_CHAIN_LINKS {
        order.truncate(MAX_CHAIN_LINKS);
        Err(Malformed::TooLong)
    } else if cyclic {
        Err(Malformed::Cycle)
    } else {
        Ok(())
    };
    let mut visited = vec![];
    // SAFETY: every link points into `nodes`, alive for the call.
    let got = unsafe {
        pnext::walk(base as *const c_void, |st, _| visited.push(st.as_raw() as usize))
    };
    assert_eq!(got, want);
    assert_eq!(visited, order);
});
