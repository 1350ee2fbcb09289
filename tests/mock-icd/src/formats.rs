//! Format facts the mock needs for sizes and layouts: texel block size, planes, depth.

use ash::vk;

/// Multi-planar formats with three planes.
const THREE_PLANE: &[i32] = &[
    1_000_156_002,
    1_000_156_004,
    1_000_156_006,
    1_000_156_012,
    1_000_156_014,
    1_000_156_016,
    1_000_156_022,
    1_000_156_024,
    1_000_156_026,
    1_000_156_031,
    1_000_156_033,
];

/// Multi-planar formats with two planes.
const TWO_PLANE: &[i32] = &[
    1_000_156_003,
    1_000_156_005,
    1_000_156_013,
    1_000_156_015,
    1_000_156_023,
    1_000_156_025,
    1_000_156_030,
    1_000_156_032,
    1_000_330_000,
    1_000_330_001,
    1_000_330_002,
    1_000_330_003,
];

/// The number of planes of a format (1 for single-plane formats).
pub fn plane_count(format: vk::Format) -> u32 {
    let f = format.as_raw();
    if THREE_PLANE.contains(&f) {
        3
    } else if TWO_PLANE.contains(&f) {
        2
    } else {
        1
    }
}

/// Whether the format has a depth or stencil aspect.
pub fn is_depth_stencil(format: vk::Format) -> bool {
    (124..=130).contains(&format.as_raw())
}

/// `(bytes per block, block width, block height)`; generous for formats it does not know
/// exactly (multi-planar formats count every plane in one block).
pub fn block(format: vk::Format) -> (u64, u32, u32) {
    let f = format.as_raw();
    let bytes = match f {
        1 | 9..=15 | 127 => 1,
        2..=8 | 16..=22 | 70..=76 | 124 => 2,
        23..=36 | 128 => 3,
        37..=69 | 77..=83 | 98..=100 | 122 | 123 | 125 | 126 | 129 => 4,
        84..=90 => 6,
        91..=97 | 101..=103 | 110..=112 | 130 => 8,
        104..=106 => 12,
        107..=109 | 113..=115 => 16,
        116..=118 => 24,
        119..=121 => 32,
        131..=134 | 139 | 140 | 147..=150 | 153 | 154 => return (8, 4, 4),
        135..=138 | 141..=146 | 151 | 152 | 155..=184 => return (16, 4, 4),
        1_000_156_000..=1_000_156_010 => 3,
        1_000_156_011..=1_000_156_033 | 1_000_330_000..=1_000_330_003 => 6,
        _ => 16,
    };
    (bytes, 1, 1)
}
