//! The loader-facing entry points (ICD interface version 5): version negotiation and the
//! three `GetProcAddr` functions.

use crate::dispatch::{self, Needs, Scope};
use crate::ffi;
use crate::instance;
use crate::state;
use ash::vk;
use std::ffi::c_char;

/// The loader/ICD interface version the mock implements.
pub const ICD_INTERFACE_VERSION: u32 = 5;

/// `vk_icdNegotiateLoaderICDInterfaceVersion`: answers `min(requested, 5)`.
///
/// # Safety
/// `p_version` is null or valid for reads and writes.
#[no_mangle]
#[allow(non_snake_case)] // the loader looks the symbol up by this name
pub unsafe extern "system" fn vk_icdNegotiateLoaderICDInterfaceVersion(
    p_version: *mut u32,
) -> vk::Result {
    ffi::guard(|| {
        if p_version.is_null() {
            return vk::Result::ERROR_INCOMPATIBLE_DRIVER;
        }
        // SAFETY: non-null; readable and writable per the caller.
        unsafe { *p_version = (*p_version).min(ICD_INTERFACE_VERSION) };
        // Fork safety: pthread_atfork handlers, once per load (fork.rs).
        crate::fork::register();
        vk::Result::SUCCESS
    })
}

/// `vk_icdGetInstanceProcAddr`: every command the mock implements for the instance's
/// profile (global commands with a null instance).
///
/// # Safety
/// `p_name` is null or a NUL-terminated string.
#[no_mangle]
#[allow(non_snake_case)] // the loader looks the symbol up by this name
pub unsafe extern "system" fn vk_icdGetInstanceProcAddr(
    instance: vk::Instance,
    p_name: *const c_char,
) -> vk::PFN_vkVoidFunction {
    ffi::guard_or(None, || {
        // SAFETY: null or a C string per the caller.
        let name = unsafe { ffi::cstr(p_name) }?;
        let entry = dispatch::lookup(name)?;
        if entry.needs == Needs::Core {
            return entry.f;
        }
        let available = match state::with(|r| r.instance_profile(instance)) {
            Some(p) => entry.available(&p),
            None => entry.available(&instance::global_profile()),
        };
        available.then_some(entry.f).flatten()
    })
}

/// `vk_icdGetPhysicalDeviceProcAddr`: physical-device commands only.
///
/// # Safety
/// `p_name` is null or a NUL-terminated string.
#[no_mangle]
#[allow(non_snake_case)] // the loader looks the symbol up by this name
pub unsafe extern "system" fn vk_icdGetPhysicalDeviceProcAddr(
    instance: vk::Instance,
    p_name: *const c_char,
) -> vk::PFN_vkVoidFunction {
    ffi::guard_or(None, || {
        // SAFETY: null or a C string per the caller.
        let name = unsafe { ffi::cstr(p_name) }?;
        let entry = dispatch::lookup(name).filter(|e| e.scope == Scope::Physical)?;
        let profile = state::with(|r| r.instance_profile(instance))
            .unwrap_or_else(|| instance::global_profile().into());
        entry.available(&profile).then_some(entry.f).flatten()
    })
}

/// `vkGetDeviceProcAddr`: device-level commands available with the device's profile.
///
/// # Safety
/// `p_name` is null or a NUL-terminated string.
pub unsafe extern "system" fn get_device_proc_addr(
    device: vk::Device,
    p_name: *const c_char,
) -> vk::PFN_vkVoidFunction {
    ffi::guard_or(None, || {
        // SAFETY: null or a C string per the caller.
        let name = unsafe { ffi::cstr(p_name) }?;
        let entry = dispatch::lookup(name).filter(|e| e.scope == Scope::Device)?;
        let profile = state::with(|r| r.device_profile(device))?;
        entry.available(&profile).then_some(entry.f).flatten()
    })
}
