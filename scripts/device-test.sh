#!/usr/bin/env bash
# Runs on the GPU machine (no Rust toolchain there), over what scripts/device-pack.sh put in
# .dev/: the loaders from .gl/, a capture of the driver, every test binary with the layer on
# the NVIDIA driver, the examples through the layer, and the CUDA example (its .cu built here
# with nvcc). Everything lands in $OUT: handoff-device.tar.gz (all logs) and summary.txt.
#   device tool: carry [".gl", ".dev"], command `bash scripts/device-test.sh`
# Optional: TESTS="barrier sync" runs only those test binaries; TEST_THREADS (default 4).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
OUT=${OUT:-/tmp/handoff-device-out}
LOG=$(mktemp -d /tmp/handoff-logs.XXXX)
SUMMARY=$LOG/summary.txt
mkdir -p "$OUT"
say() { echo "$*" | tee -a "$SUMMARY"; }

for f in .gl/*.deb; do dpkg -x "$f" /; done
# Files cut out of a package too big to carry whole (Mesa's device_select layer alone).
for f in .gl/*.tar.gz; do [ -e "$f" ] && tar -C / -xzf "$f"; done
ldconfig
if [ -f .dev/tests.tar.xz ] && [ ! -d .dev/tests ]; then tar -C .dev -xJf .dev/tests.tar.xz; fi

NVIDIA_ICD=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export HANDOFF_TEST_ICD=$NVIDIA_ICD HANDOFF_LIB_DIR=$ROOT/.dev
export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
export RUST_BACKTRACE=1

# --- The machine and its driver ----------------------------------------------------------
nvidia-smi >"$LOG/nvidia-smi.txt" 2>&1
GPU=$(nvidia-smi --query-gpu=name,driver_version --format=csv,noheader 2>/dev/null | head -1)
say "device: ${GPU:-unknown}"
VI=.dev/vk-tools/vulkaninfo
if [ -x "$VI" ]; then
    CAP=$LOG/capture
    mkdir -p "$CAP"
    (cd "$CAP" && LD_LIBRARY_PATH=$ROOT/.dev/vk-tools VK_DRIVER_FILES=$NVIDIA_ICD \
        "$ROOT/$VI" --json >json.log 2>&1; mv ./*.json vulkaninfo.json 2>/dev/null)
    LD_LIBRARY_PATH=$ROOT/.dev/vk-tools VK_DRIVER_FILES=$NVIDIA_ICD "$VI" >"$CAP/vulkaninfo.txt" 2>&1
    LD_LIBRARY_PATH=$ROOT/.dev/vk-tools VK_DRIVER_FILES=$NVIDIA_ICD "$VI" --summary >"$CAP/summary.txt" 2>&1
    say "vulkaninfo: $(grep -m1 -E 'deviceName' "$CAP/summary.txt" | sed 's/ *= */=/') $(grep -m1 -E 'driverInfo' "$CAP/summary.txt" | sed 's/ *= */=/')"
    # Same device model and driver as the capture (shared/drivers/nvidia-h200-580, the mock
    # ICD's `nvidia` profile)?
    for kv in "deviceName=NVIDIA H200" "driverInfo=580.159.04" "apiVersion=1.4.312"; do
        key=${kv%%=*} want=${kv#*=}
        got=$(grep -m1 "^[[:space:]]*$key" "$CAP/summary.txt" | sed 's/.*= *//; s/ *(.*//')
        [ "$got" = "$want" ] && say "capture $key: same ($want)" || say "capture $key: DIFFERS (capture $want, here $got)"
    done
else
    say "vulkaninfo: not packed (.dev/vk-tools missing)"
fi

# --- The test binaries -------------------------------------------------------------------
cd "$ROOT/.dev"
mkdir -p "$LOG/tests"
total_pass=0 total_fail=0 total_ign=0
# The GPU machine has no package access and no gdb: the harness self-test that kills a hung
# child and prints its gdb stacks tests the harness, not the driver, and runs everywhere else.
skip=()
if ! command -v gdb >/dev/null; then
    skip=(--skip a_hung_child_is_killed_with_its_stacks)
    say "no gdb here: skipping the harness self-test a_hung_child_is_killed_with_its_stacks"
fi
for t in ${TESTS:-$(ls tests)}; do
    start=$(date +%s%N)
    timeout 600 "./tests/$t" --test-threads="${TEST_THREADS:-4}" "${skip[@]}" >"$LOG/tests/$t.log" 2>&1
    rc=$?
    ms=$((($(date +%s%N) - start) / 1000000))
    secs=$((ms / 1000)).$(printf '%03d' $((ms % 1000)))
    res=$(grep -E '^test result:' "$LOG/tests/$t.log" | tail -1)
    p=$(echo "$res" | sed -n 's/.* \([0-9]*\) passed.*/\1/p'); f=$(echo "$res" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
    i=$(echo "$res" | sed -n 's/.* \([0-9]*\) ignored.*/\1/p')
    total_pass=$((total_pass + ${p:-0})); total_fail=$((total_fail + ${f:-0})); total_ign=$((total_ign + ${i:-0}))
    say "test $t: rc=$rc ${res:-no result line} (${secs}s)"
    grep -E '^    [a-z_0-9:]+$' "$LOG/tests/$t.log" | sed 's/^ */    FAILED /' | tee -a "$SUMMARY" >/dev/null
done
say "tests: $total_pass passed, $total_fail failed, $total_ign ignored"

# --- The examples through the layer on the NVIDIA driver ---------------------------------
cd "$ROOT"
mkdir -p "$LOG/examples"
MAN=$(mktemp -d /tmp/handoff-manifest.XXXX)
.dev/handoff manifest --out "$MAN" >"$LOG/examples/manifest.log" 2>&1
nvcc --version >"$LOG/examples/nvcc.log" 2>&1
if nvcc -O2 -arch=native -shared -Xcompiler -fPIC -o .dev/libhandoff_cuda_peer.so \
    examples/cuda/handoff_cuda_peer.cu >>"$LOG/examples/nvcc.log" 2>&1 ||
    nvcc -O2 -shared -Xcompiler -fPIC -o .dev/libhandoff_cuda_peer.so \
        examples/cuda/handoff_cuda_peer.cu >>"$LOG/examples/nvcc.log" 2>&1; then
    say "nvcc: built .dev/libhandoff_cuda_peer.so ($(nvcc --version | tail -1))"
else
    say "nvcc: FAILED to build the CUDA peer (examples/nvcc.log)"
fi
# name, expected finding of the --bug run
for ex in "roundtrip VUID-VkMemoryGetFdInfoKHR-handleType-00671" \
    "image_handoff HANDOFF-Handoff-layout-not-general" \
    "cuda_interop VUID-VkMemoryGetFdInfoKHR-handleType-00671"; do
    set -- $ex
    for mode in correct bug; do
        arg=; [ $mode = bug ] && arg=--bug
        l=$LOG/examples/$1-$mode.log
        VK_DRIVER_FILES=$NVIDIA_ICD VK_ADD_LAYER_PATH=$MAN VK_INSTANCE_LAYERS=VK_LAYER_HANDOFF_validation \
            timeout 120 ".dev/$1" $arg >"$l" 2>&1
        rc=$?
        findings=$(grep -E '^\[handoff\] (error|warning) ' "$l" | grep -v 'Loader Message' | awk '{print $3}' | tr -d : | sort | uniq -c | xargs)
        verdict=FAIL
        if [ $mode = correct ] && [ $rc = 0 ] && [ -z "$findings" ]; then verdict=ok; fi
        if [ $mode = bug ] && grep -q "$2" "$l"; then verdict=ok; fi
        say "example $1 $mode: $verdict rc=$rc findings: ${findings:-none} | $(grep -E 'bytes matched|needs CUDA|differ|CUDA side' "$l" | head -1)"
    done
done

# `handoff demo`: every bundled example through the layer on the mock ICD, here with CUDA
# present (cuda_interop finds the peer next to `handoff`, and no CUDA device for the mock).
.dev/handoff demo >"$LOG/examples/demo.log" 2>&1
say "demo: rc=$? $(tail -1 "$LOG/examples/demo.log")"

cp "$SUMMARY" "$OUT/summary.txt"
tar -C "$LOG" -czf "$OUT/handoff-device.tar.gz" .
echo "logs: $OUT/handoff-device.tar.gz"
