#!/usr/bin/env bash
# Builds everything the GPU machine needs (it has no Rust toolchain) and gathers it, stripped,
# into .dev/ at the repository root:
#   .dev/libVkLayer_handoff.so .dev/libhandoff_mock_icd.so .dev/handoff .dev/handoff-scenario
#   .dev/roundtrip .dev/image_handoff .dev/cuda_interop      the layer, the mock, the programs
#   .dev/tests/NAME                                           one test binary per test target
#   .dev/vk-tools/                                            vulkaninfo and its libraries
# The test binaries find the libraries and `handoff` in their parent directory (.dev/) or in
# $HANDOFF_LIB_DIR. When .dev/ exceeds 60 MiB the tests go into .dev/tests.tar.xz instead
# (the device tool carries at most 64 MiB); scripts/device-test.sh unpacks it.
# Then, with the device tool: carry [".gl", ".dev"], command `bash scripts/device-test.sh`.
set -euo pipefail
cd "$(dirname "$0")/.."
DEV=.dev
PACKAGES=(-p handoff-layer -p handoff-mock-icd -p handoff-tests -p handoff-cli -p handoff-examples)

cargo build --release "${PACKAGES[@]}"
# Test executables: the JSON messages name each one with its target and package.
cargo test --release --no-run -p handoff-tests -p handoff-mock-icd -p handoff-cli \
    --message-format=json 2>/dev/null |
    jq -r 'select(.reason == "compiler-artifact" and .profile.test == true and .executable != null
                  and (.target.kind | index("test")))
           | "\(.package_id) \(.target.name) \(.executable)"' >"$DEV.list.tmp" || true

rm -rf "$DEV"
mkdir -p "$DEV/tests" "$DEV/vk-tools"
for f in libVkLayer_handoff.so libhandoff_mock_icd.so handoff handoff-scenario \
    roundtrip image_handoff cuda_interop; do
    strip -o "$DEV/$f" "target/release/$f"
done
while read -r package target exe; do
    case "$package" in
    *handoff-tests* | *"/tests#"*) name="$target" ;;
    *mock-icd*) name="mock-icd-$target" ;;
    *cli*) name="cli-$target" ;;
    *) name="$target" ;;
    esac
    # settings_doc reads README.md at a build-time path: nothing to do with a driver.
    [ "$target" = settings_doc ] && continue
    strip -o "$DEV/tests/$name" "$exe"
done <"$DEV.list.tmp"
rm -f "$DEV.list.tmp"

# vulkaninfo for the re-capture, with the libraries the GPU machine's image may lack.
if command -v vulkaninfo >/dev/null; then
    cp "$(command -v vulkaninfo)" "$DEV/vk-tools/"
    ldd "$(command -v vulkaninfo)" | awk '/=> \// {print $3}' |
        grep -Ev '/(libc|libm|libpthread|libdl|librt|libstdc\+\+|libgcc_s)\.so' |
        while read -r lib; do cp -L "$lib" "$DEV/vk-tools/"; done
fi

size=$(du -sb "$DEV" | cut -f1)
if [ "$size" -gt $((60 * 1024 * 1024)) ]; then
    tar -C "$DEV" -cf - tests | xz -6 -T2 >"$DEV/tests.tar.xz"
    rm -rf "$DEV/tests"
fi
ls "$DEV/tests" 2>/dev/null | wc -l | xargs echo "test binaries:"
du -sh "$DEV"
