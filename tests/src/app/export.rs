//! `layers` and `get-fd`: what the loader lists, and vkGetMemoryFdKHR done right and wrong.

use ash::vk;
use ash::vk::Handle;
use serde_json::json;

use super::args::Args;
use super::ctx::{result_json, Ctx, InstanceOpts, LAYER_NAME};
use super::{handle_hex, record, ScenarioResult};

/// The value vkGetMemoryFdKHR's `pFd` holds before the call, to see whether anything wrote it.
pub const FD_SENTINEL: i32 = -7777;

/// A made-up non-null memory handle that no driver handed out.
pub const UNKNOWN_MEMORY: u64 = 0x0000_7e57_0bad_f00d;

/// `layers`: vkEnumerateInstanceLayerProperties, and the extensions our layer lists.
/// Results: `layers` [{name, description, spec_version, implementation_version}],
/// `layer_extensions` [{name, spec_version}] (empty when the layer is not listed).
pub fn layers(_a: &Args) -> ScenarioResult {
    // SAFETY: loading the system Vulkan loader.
    let entry = unsafe { ash::Entry::load() }.map_err(|e| {
        format!("cannot load libvulkan.so.1 ({e}); install it with `apt-get install libvulkan1`")
    })?;
    // SAFETY: global command, no handles involved.
    let props = unsafe { entry.enumerate_instance_layer_properties() }
        .map_err(|e| format!("vkEnumerateInstanceLayerProperties: {e:?}"))?;
    let mut layers = Vec::new();
    let mut ours = false;
    for p in &props {
        let name = p
            .layer_name_as_c_str()
            .map(|c| c.to_string_lossy().into_owned())
            .unwrap_or_default();
        ours |= name.as_bytes() == LAYER_NAME.to_bytes();
        layers.push(json!({
            "name": name,
            "description": p.description_as_c_str().map(|c| c.to_string_lossy().into_owned()).unwrap_or_default(),
            "spec_version": p.spec_version,
            "implementation_version": p.implementation_version,
        }));
    }
    let mut layer_extensions = Vec::new();
    if ours {
        // SAFETY: global command with a valid layer name.
        let exts = unsafe { entry.enumerate_instance_extension_properties(Some(LAYER_NAME)) }
            .map_err(|e| format!("vkEnumerateInstanceExtensionProperties(layer): {e:?}"))?;
        for e in &exts {
            layer_extensions.push(json!({
                "name": e.extension_name_as_c_str().map(|c| c.to_string_lossy().into_owned()).unwrap_or_default(),
                "spec_version": e.spec_version,
            }));
        }
    }
    Ok(json!({ "layers": layers, "layer_extensions": layer_extensions }))
}

fn handle_type(name: &str) -> Result<vk::ExternalMemoryHandleTypeFlags, String> {
    Ok(match name {
        "opaque" => vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD,
        "host" => vk::ExternalMemoryHandleTypeFlags::HOST_ALLOCATION_EXT,
        "dmabuf" => vk::ExternalMemoryHandleTypeFlags::DMA_BUF_EXT,
        other => return Err(format!("unknown handle type {other:?}")),
    })
}

/// `get-fd`: allocate memory, then vkGetMemoryFdKHR on it.
///
/// `--export none|opaque|host|dmabuf` (VkExportMemoryAllocateInfo at allocation; default
/// none), `--handle-type opaque|host|dmabuf` (default opaque), `--memory live|freed|unknown`
/// (default live), `--repeat N` (default 1), `--leak` (vkDestroyDevice with the memory still
/// allocated), `--size BYTES` (default 4096), `--cycles N` (first allocate, export, close and
/// free N exportable memory objects one after the other; default 0), `--count N` (N memory
/// objects, each getting the `--repeat` calls; default 1).
///
/// Results: `device`, `memory` (handles; the first memory), `memories`, `calls` [{code, name, fd_written, fd_valid}],
/// `result` (the first call's), `report_callback` (debug-report messages).
pub fn get_fd(a: &Args) -> ScenarioResult {
    let export = match a.value_or("--export", "none") {
        "none" => None,
        t => Some(handle_type(t)?),
    };
    let ty = handle_type(a.value_or("--handle-type", "opaque"))?;
    let which = a.value_or("--memory", "live").to_owned();
    let repeat = a.number("--repeat", 1)?;
    let size = a.number("--size", 4096)?;
    let leak = a.flag("--leak");
    let cycles = a.number("--cycles", 0)?;
    let count = a.number("--count", 1)?.max(1);

    let ctx = Ctx::new(&InstanceOpts::from_args(a))?;
    let dev = ctx.create_device()?;
    let type_index = ctx.host_visible_type()?;
    let opaque = vk::ExternalMemoryHandleTypeFlags::OPAQUE_FD;
    for _ in 0..cycles {
        let m = dev
            .allocate(size, type_index, Some(opaque), None)
            .map_err(|e| format!("vkAllocateMemory (cycle): {e:?}"))?;
        let (r, fd) = dev.get_fd(m, opaque, FD_SENTINEL);
        if r != vk::Result::SUCCESS {
            return Err(format!("vkGetMemoryFdKHR (cycle): {r:?}"));
        }
        if fd >= 0 {
            // SAFETY: the fd was just returned to us and is closed once.
            unsafe { libc::close(fd) };
        }
        dev.free(m);
    }
    let mut memories = Vec::new();
    for _ in 0..count {
        let allocated = dev
            .allocate(size, type_index, export, None)
            .map_err(|e| format!("vkAllocateMemory: {e:?}"))?;
        memories.push(match which.as_str() {
            "live" => allocated,
            "freed" => {
                dev.free(allocated);
                allocated
            }
            "unknown" => {
                dev.free(allocated);
                vk::DeviceMemory::from_raw(UNKNOWN_MEMORY)
            }
            other => return Err(format!("--memory {other:?}")),
        });
    }

    let mut calls = Vec::new();
    for &memory in &memories {
        for _ in 0..repeat {
            let (r, fd) = dev.get_fd(memory, ty, FD_SENTINEL);
            let mut c = result_json(r);
            c["fd_written"] = json!(fd != FD_SENTINEL);
            c["fd_valid"] = json!(fd >= 0);
            calls.push(c);
            if fd >= 0 {
                // SAFETY: the fd was just returned to us and is closed once.
                unsafe { libc::close(fd) };
            }
        }
    }
    if which == "live" && !leak {
        for &memory in &memories {
            dev.free(memory);
        }
    }
    let device = handle_hex(dev.handle());
    dev.destroy();
    ctx.destroy();
    Ok(json!({
        "device": device,
        "memory": handle_hex(memories[0].as_raw()),
        "memories": memories.iter().map(|m| handle_hex(m.as_raw())).collect::<Vec<_>>(),
        "result": calls.first().cloned().unwrap_or(json!(null)),
        "calls": calls,
        "report_callback": record::take_reports(),
    }))
}
