//! Settings handed to `vkCreateInstance` through `VkLayerSettingsCreateInfoEXT`.
//!
//! The C structs are copied into owned values at once so nothing downstream touches app
//! memory after the call returns.

use std::ffi::{c_char, CStr};

use ash::vk;

use super::LAYER_NAME;

/// One value of a `VkLayerSettingEXT`, widened to the few shapes the parser distinguishes.
#[derive(Clone, Debug, PartialEq)]
pub enum ApiValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

impl ApiValue {
    /// How the value reads back in a problem message.
    pub(crate) fn display(&self) -> String {
        match self {
            ApiValue::Bool(b) => b.to_string(),
            ApiValue::Int(i) => i.to_string(),
            ApiValue::Float(f) => f.to_string(),
            ApiValue::Str(s) => s.clone(),
        }
    }
}

/// One `VkLayerSettingEXT` addressed to us.
#[derive(Clone, Debug, PartialEq)]
pub struct ApiSetting {
    pub key: String,
    pub values: Vec<ApiValue>,
}

/// Copies the entries addressed to [`LAYER_NAME`] out of a `VkLayerSettingsCreateInfoEXT`.
///
/// Entries for other layers are skipped, as are entries with a null name or a setting type
/// this version does not know (their element size is unknown, so reading them is not safe);
/// a null `pValues` reads as no values. `UINT64` values above `i64::MAX` are clamped to
/// `i64::MAX`, which every setting rejects as out of range anyway. Values are read unaligned
/// so a misaligned array from the app is not undefined behaviour here.
///
/// # Safety
/// `p` is null or points to a valid `VkLayerSettingsCreateInfoEXT` per the spec: `pSettings`
/// is null or an array of `settingCount` entries, each `pLayerName`/`pSettingName` is null or
/// NUL-terminated, and each `pValues` is null or an array of `valueCount` elements of the
/// type `type` names (for `STRING`, pointers that are null or NUL-terminated strings).
pub unsafe fn from_create_info(p: *const vk::LayerSettingsCreateInfoEXT<'_>) -> Vec<ApiSetting> {
    let mut out = Vec::new();
    if p.is_null() {
        return out;
    }
    // SAFETY: p is non-null and, per the caller's contract, points to a valid struct.
    let ci = unsafe { &*p };
    if ci.s_type != vk::StructureType::LAYER_SETTINGS_CREATE_INFO_EXT
        || ci.setting_count == 0
        || ci.p_settings.is_null()
    {
        return out;
    }
    for i in 0..ci.setting_count as usize {
        // SAFETY: i < settingCount and pSettings is a non-null array of that many entries;
        // read_unaligned tolerates an array the app did not align.
        let s = unsafe { ci.p_settings.add(i).read_unaligned() };
        if s.p_layer_name.is_null() || s.p_setting_name.is_null() {
            continue;
        }
        // SAFETY: both pointers are non-null and NUL-terminated per the caller's contract.
        let (layer, name) = unsafe {
            (
                CStr::from_ptr(s.p_layer_name),
                CStr::from_ptr(s.p_setting_name),
            )
        };
        if layer.to_bytes() != LAYER_NAME.as_bytes() {
            continue;
        }
        let n = if s.p_values.is_null() {
            0
        } else {
            s.value_count as usize
        };
        // SAFETY: p_values is null (n = 0) or an array of n elements of the type s.ty names.
        let values = match unsafe { read_values(s.ty, s.p_values, n) } {
            Some(v) => v,
            None => continue,
        };
        out.push(ApiSetting {
            key: name.to_string_lossy().into_owned(),
            values,
        });
    }
    out
}

/// Reads `n` elements of type `T` from `p`.
///
/// # Safety
/// When `n > 0`, `p` points to `n` readable elements of `T` (alignment not required).
unsafe fn read_array<T: Copy>(p: *const std::ffi::c_void, n: usize) -> Vec<T> {
    let p = p.cast::<T>();
    (0..n)
        // SAFETY: i < n and p holds n readable elements per the caller's contract.
        .map(|i| unsafe { p.add(i).read_unaligned() })
        .collect()
}

/// The values of one setting, or `None` for a type this version does not know.
///
/// # Safety
/// When `n > 0`, `p` points to `n` readable elements of the C type `ty` names; for
/// `STRING`, each element is null or a NUL-terminated string.
unsafe fn read_values(
    ty: vk::LayerSettingTypeEXT,
    p: *const std::ffi::c_void,
    n: usize,
) -> Option<Vec<ApiValue>> {
    use vk::LayerSettingTypeEXT as T;
    // In every arm the element type read is the C type the spec assigns to `ty`.
    let v = match ty {
        // SAFETY: BOOL32 values are VkBool32; the caller guarantees n of them at p.
        T::BOOL32 => unsafe { read_array::<vk::Bool32>(p, n) }
            .into_iter()
            .map(|b| ApiValue::Bool(b != vk::FALSE))
            .collect(),
        // SAFETY: INT32 values are int32_t; the caller guarantees n of them at p.
        T::INT32 => unsafe { read_array::<i32>(p, n) }
            .into_iter()
            .map(|x| ApiValue::Int(x.into()))
            .collect(),
        // SAFETY: INT64 values are int64_t; the caller guarantees n of them at p.
        T::INT64 => unsafe { read_array::<i64>(p, n) }
            .into_iter()
            .map(ApiValue::Int)
            .collect(),
        // SAFETY: UINT32 values are uint32_t; the caller guarantees n of them at p.
        T::UINT32 => unsafe { read_array::<u32>(p, n) }
            .into_iter()
            .map(|x| ApiValue::Int(x.into()))
            .collect(),
        // SAFETY: UINT64 values are uint64_t; the caller guarantees n of them at p.
        T::UINT64 => unsafe { read_array::<u64>(p, n) }
            .into_iter()
            .map(|x| ApiValue::Int(i64::try_from(x).unwrap_or(i64::MAX)))
            .collect(),
        // SAFETY: FLOAT32 values are float; the caller guarantees n of them at p.
        T::FLOAT32 => unsafe { read_array::<f32>(p, n) }
            .into_iter()
            .map(|x| ApiValue::Float(x.into()))
            .collect(),
        // SAFETY: FLOAT64 values are double; the caller guarantees n of them at p.
        T::FLOAT64 => unsafe { read_array::<f64>(p, n) }
            .into_iter()
            .map(ApiValue::Float)
            .collect(),
        // SAFETY: STRING values are const char*; the caller guarantees n of them at p.
        T::STRING => unsafe { read_array::<*const c_char>(p, n) }
            .into_iter()
            .filter(|s| !s.is_null())
            .map(|s| {
                // SAFETY: a non-null element is a NUL-terminated string per the contract.
                let c = unsafe { CStr::from_ptr(s) };
                ApiValue::Str(c.to_string_lossy().into_owned())
            })
            .collect(),
        _ => return None,
    };
    Some(v)
}
