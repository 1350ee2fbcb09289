#!/usr/bin/env python3
"""Generate src/profile/vkstructs.rs and src/profile/captured.rs.

Inputs: the driver captures in /work/shared/drivers/*/vulkaninfo.json, the Vulkan
registry (vk.xml) for enum values, and ash's definitions.rs for field names/types.

    python3 tests/mock-icd/tools/gen_captured.py [--drivers DIR] [--vkxml FILE] [--ash FILE]

Re-run after a capture changes, then `cargo fmt -p handoff-mock-icd`.
"""
import argparse
import glob
import json
import os
import re
import xml.etree.ElementTree as ET

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "src", "profile")

ap = argparse.ArgumentParser()
ap.add_argument("--drivers", default="/work/shared/drivers")
ap.add_argument("--vkxml", default="/usr/share/vulkan/registry/vk.xml")
ap.add_argument("--ash", default=None)
args = ap.parse_args()
if args.ash is None:
    cands = sorted(glob.glob(os.path.expanduser("~/.cargo/registry/src/*/ash-0.38.*/src/vk/definitions.rs")))
    args.ash = cands[-1]

reg = ET.parse(args.vkxml).getroot()

# ---- enum values from vk.xml -------------------------------------------------
def enum_values(enum_name):
    vals = {}
    for enums in reg.findall("enums"):
        if enums.get("name") == enum_name:
            for e in enums.findall("enum"):
                if e.get("value") is not None:
                    vals[e.get("name")] = int(e.get("value"), 0)
                elif e.get("bitpos") is not None:
                    vals[e.get("name")] = 1 << int(e.get("bitpos"))
    for parent in reg.iter("require"):
        ext = None
        for e in parent.findall("enum"):
            if e.get("extends") != enum_name:
                continue
            if e.get("bitpos") is not None:
                vals[e.get("name")] = 1 << int(e.get("bitpos"))
            elif e.get("offset") is not None:
                extnum = e.get("extnumber")
                if extnum is None:
                    # find enclosing extension
                    for x in reg.iter("extension"):
                        if parent in list(x):
                            extnum = x.get("number")
                            break
                v = 1000000000 + (int(extnum) - 1) * 1000 + int(e.get("offset"))
                if e.get("dir") == "-":
                    v = -v
                vals[e.get("name")] = v
            elif e.get("value") is not None:
                vals[e.get("name")] = int(e.get("value"), 0)
    # aliases
    for parent in list(reg.iter("enums")) + list(reg.iter("require")):
        for e in parent.findall("enum"):
            if e.get("alias") and (e.get("extends") == enum_name or parent.get("name") == enum_name):
                if e.get("alias") in vals:
                    vals[e.get("name")] = vals[e.get("alias")]
    return vals

FORMATS = enum_values("VkFormat")
FF = enum_values("VkFormatFeatureFlagBits")
SAMPLES = enum_values("VkSampleCountFlagBits")

# ---- struct members from vk.xml and ash ---------------------------------------
def xml_members(struct):
    for t in reg.iter("type"):
        if t.get("category") == "struct" and t.get("name") == struct:
            return [m.find("name").text for m in t.findall("member")]
    raise KeyError(struct)

ash_src = open(args.ash).read()
def ash_fields(struct):
    m = re.search(r"pub struct %s \{(.*?)\n\}" % struct, ash_src, re.S)
    out = []
    for line in m.group(1).splitlines():
        line = line.strip()
        mm = re.match(r"pub (\w+): (.+),$", line)
        if mm:
            out.append((mm.group(1), mm.group(2)))
    return out

def mirror(vkname, ashname):
    names = xml_members(vkname)
    fields = ash_fields(ashname)
    assert len(names) == len(fields), (vkname, len(names), len(fields))
    return list(zip(names, fields))

RUST_TY = {
    "u32": "u32", "i32": "i32", "f32": "f32", "DeviceSize": "u64", "usize": "u64",
    "Bool32": "bool", "SampleCountFlags": "u32", "[u32; 3]": "[u32; 3]",
    "[u32; 2]": "[u32; 2]", "[f32; 2]": "[f32; 2]",
}

def to_vk_expr(field, ty):
    if ty == "Bool32":
        return "vk::Bool32::from(self.%s)" % field
    if ty == "SampleCountFlags":
        return "vk::SampleCountFlags::from_raw(self.%s)" % field
    if ty == "usize":
        return "usize::try_from(self.%s).unwrap_or(usize::MAX)" % field
    return "self.%s" % field

EXTRA_FEATURES = [
    ("synchronization2", "synchronization2", "VkPhysicalDeviceVulkan13Features"),
    ("timelineSemaphore", "timeline_semaphore", "VkPhysicalDeviceVulkan12Features"),
    ("bufferDeviceAddress", "buffer_device_address", "VkPhysicalDeviceVulkan12Features"),
    ("bufferDeviceAddressCaptureReplay", "buffer_device_address_capture_replay", "VkPhysicalDeviceVulkan12Features"),
    ("bufferDeviceAddressMultiDevice", "buffer_device_address_multi_device", "VkPhysicalDeviceVulkan12Features"),
    ("dedicatedAllocationImageAliasing", "dedicated_allocation_image_aliasing", None),
]

limits = mirror("VkPhysicalDeviceLimits", "PhysicalDeviceLimits")
feats = mirror("VkPhysicalDeviceFeatures", "PhysicalDeviceFeatures")
sparse = mirror("VkPhysicalDeviceSparseProperties", "PhysicalDeviceSparseProperties")

HEADER = "// @generated by tools/gen_captured.py; do not edit by hand.\n"

def gen_structs():
    o = [HEADER]
    o.append("//! Serde mirrors of `VkPhysicalDeviceLimits`, `VkPhysicalDeviceFeatures` (plus the\n"
             "//! extension features the mock reports) and `VkPhysicalDeviceSparseProperties`.\n"
             "//! JSON field names are the Vulkan member names; flags are plain numbers.\n\n")
    o.append("use ash::vk;\nuse serde::{Deserialize, Serialize};\n\n")
    def struct(name, doc, members, default_fn, extra=()):
        o.append("/// %s\n" % doc)
        o.append("#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]\n")
        o.append("#[serde(default, deny_unknown_fields)]\n")
        o.append("pub struct %s {\n" % name)
        for vkn, (f, ty) in members:
            o.append('    #[serde(rename = "%s")]\n    pub %s: %s,\n' % (vkn, f, RUST_TY[ty]))
        for vkn, f, _ in extra:
            o.append('    #[serde(rename = "%s")]\n    pub %s: bool,\n' % (vkn, f))
        o.append("}\n\n")
        o.append("impl Default for %s {\n    fn default() -> Self {\n        super::captured::%s()\n    }\n}\n\n" % (name, default_fn))
    struct("Limits", "`VkPhysicalDeviceLimits`; defaults to lavapipe's values.", limits, "lavapipe_limits")
    struct("Features", "`VkPhysicalDeviceFeatures` plus the extension features the mock models; defaults to lavapipe's values.", feats, "lavapipe_features", EXTRA_FEATURES)
    struct("SparseProperties", "`VkPhysicalDeviceSparseProperties`; defaults to lavapipe's values.", sparse, "lavapipe_sparse")
    for name, vkty, members in (("Limits", "PhysicalDeviceLimits", limits),
                                ("Features", "PhysicalDeviceFeatures", feats),
                                ("SparseProperties", "PhysicalDeviceSparseProperties", sparse)):
        o.append("impl %s {\n" % name)
        o.append("    /// The Vulkan struct.\n    pub fn to_vk(&self) -> vk::%s {\n        vk::%s {\n" % (vkty, vkty))
        for vkn, (f, ty) in members:
            o.append("            %s: %s,\n" % (f, to_vk_expr(f, ty)))
        o.append("        }\n    }\n}\n\n")
    # first requested core feature the profile lacks
    o.append("impl Features {\n    /// The first core feature `requested` enables that the profile does not support.\n")
    o.append("    pub fn first_unsupported(&self, requested: &vk::PhysicalDeviceFeatures) -> Option<&'static str> {\n")
    o.append("        let checks = [\n")
    for vkn, (f, ty) in feats:
        o.append('            ("%s", requested.%s, self.%s),\n' % (vkn, f, f))
    o.append("        ];\n        checks.iter().find(|(_, req, sup)| *req != vk::FALSE && !*sup).map(|(name, _, _)| *name)\n    }\n}\n")
    return "".join(o)

def lit(ty, v):
    if ty == "Bool32":
        return "true" if v else "false"
    if ty == "SampleCountFlags":
        bits = 0
        for n in v:
            bits |= SAMPLES[n]
        return "0x%x" % bits
    if ty in ("f32",):
        s = repr(float(v))
        return s
    if ty == "[f32; 2]":
        return "[%s, %s]" % (repr(float(v[0])), repr(float(v[1])))
    if ty.startswith("["):
        return "[%s]" % ", ".join(str(x) for x in v)
    return str(v)

def flags(names):
    b = 0
    for n in names:
        b |= FF[n]
    return b

def gen_captured():
    o = [HEADER]
    o.append("//! Values captured from real drivers (`/work/shared/drivers/*/vulkaninfo.json`).\n\n")
    o.append("use super::vkstructs::{Features, Limits, SparseProperties};\nuse super::FormatProps;\n\n")
    for key, folder in (("lavapipe", "lavapipe-22.3.6"), ("nvidia", "nvidia-h200-580")):
        j = json.load(open(os.path.join(args.drivers, folder, "vulkaninfo.json")))
        dev = j["capabilities"]["device"]
        props = dev["properties"]["VkPhysicalDeviceProperties"]
        lim = props["limits"]
        o.append("/// `VkPhysicalDeviceLimits` of %s.\n" % folder)
        o.append("pub fn %s_limits() -> Limits {\n    Limits {\n" % key)
        for vkn, (f, ty) in limits:
            o.append("        %s: %s,\n" % (f, lit(ty, lim[vkn])))
        o.append("    }\n}\n\n")
        sp = props["sparseProperties"]
        o.append("/// `VkPhysicalDeviceSparseProperties` of %s.\n" % folder)
        o.append("pub fn %s_sparse() -> SparseProperties {\n    SparseProperties {\n" % key)
        for vkn, (f, ty) in sparse:
            o.append("        %s: %s,\n" % (f, lit(ty, sp[vkn])))
        o.append("    }\n}\n\n")
        fe = dev["features"]["VkPhysicalDeviceFeatures"]
        o.append("/// Features of %s.\n" % folder)
        o.append("pub fn %s_features() -> Features {\n    Features {\n" % key)
        for vkn, (f, ty) in feats:
            o.append("        %s: %s,\n" % (f, lit(ty, fe[vkn])))
        exts = dev["extensions"]
        for vkn, f, src in EXTRA_FEATURES:
            if src is not None:
                val = dev["features"].get(src, {}).get(vkn, False)
            else:
                val = "VK_NV_dedicated_allocation_image_aliasing" in exts
            o.append("        %s: %s,\n" % (f, "true" if val else "false"))
        o.append("    }\n}\n\n")
        o.append("/// Format properties of %s: `(format, linear, optimal, buffer)`.\n" % folder)
        o.append("pub fn %s_formats() -> Vec<FormatProps> {\n    [\n" % key)
        for name, fp in dev["formats"].items():
            p = fp["VkFormatProperties"]
            lin, opt, buf = flags(p["linearTilingFeatures"]), flags(p["optimalTilingFeatures"]), flags(p["bufferFeatures"])
            o.append("        (%d, 0x%x, 0x%x, 0x%x), // %s\n" % (FORMATS[name], lin, opt, buf, name[len("VK_FORMAT_"):]))
        o.append("    ]\n    .into_iter()\n    .map(FormatProps::from_tuple)\n    .collect()\n}\n\n")
    return "".join(o)

open(os.path.join(OUT, "vkstructs.rs"), "w").write(gen_structs())
open(os.path.join(OUT, "captured.rs"), "w").write(gen_captured())
print("wrote", os.path.join(OUT, "vkstructs.rs"), os.path.join(OUT, "captured.rs"))
