#!/usr/bin/env bash
# Runs every mock-ICD test of every test binary in .dev/tests/ (scripts/device-pack.sh) with
# each scenario child under valgrind memcheck, on a machine with many cores and no Rust
# toolchain (the GPU machine): the full suite's memcheck run of issue 7, which takes hours on
# the 2-core CI machine. The real-driver variants are left out (the NVIDIA driver is not
# what is being checked, and lavapipe is not on that machine); .ci/memcheck.sh runs lavapipe
# cases of the subset in CI.
#   pack:   scripts/device-pack.sh && scripts/device-memcheck.sh --pack   (valgrind into .gl/)
#   device: carry [".gl", ".dev"], command `bash scripts/device-memcheck.sh`
# Optional: TESTS="payload sync" runs only those binaries; THREADS (default: the core count);
# SKIP="--skip NAME ..." passes test skips (the 1000-cycle lifecycle tests take hours here).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

if [ "${1:-}" = --pack ]; then
    # memcheck alone, from this machine's valgrind package (2.7 MiB).
    files=$(dpkg -L valgrind | grep -E '/usr/bin/valgrind(.bin)?$|/default.supp$|memcheck-amd64-linux|vgpreload_(core|memcheck)-amd64-linux.so$')
    mkdir -p .gl
    # shellcheck disable=SC2086
    tar -C / -czf .gl/valgrind-memcheck.tar.gz $(echo "$files" | sed 's#^/##')
    # memcheck must find symbols in the dynamic linker; the GPU machine's (Ubuntu) ships
    # none and has no debug package. So the children run on this machine's glibc, whose
    # dynamic linker has its detached symbols in libc6-dbg, from /opt/handoff-glibc.
    ldso=$(readlink -f /lib64/ld-linux-x86-64.so.2)
    id=$(readelf -n "$ldso" | sed -n 's/.*Build ID: //p')
    dbg=usr/lib/debug/.build-id/${id:0:2}/${id:2}.debug
    [ -f "/$dbg" ] || { echo "no /$dbg: apt-get install libc6-dbg" >&2; exit 1; }
    tmp=$(mktemp -d)
    mkdir -p "$tmp/opt/handoff-glibc" "$tmp/$(dirname "$dbg")"
    for l in "$ldso" /lib/x86_64-linux-gnu/libc.so.6 /lib/x86_64-linux-gnu/libm.so.6 \
        /lib/x86_64-linux-gnu/libgcc_s.so.1; do
        cp -L "$l" "$tmp/opt/handoff-glibc/$(basename "$l")"
    done
    cp "/$dbg" "$tmp/$dbg"
    tar -C "$tmp" -czf .gl/handoff-glibc.tar.gz opt usr
    rm -rf "$tmp"
    ls -la .gl/valgrind-memcheck.tar.gz .gl/handoff-glibc.tar.gz
    exit 0
fi

OUT=${OUT:-/tmp/handoff-memcheck-out}
mkdir -p "$OUT/vg" "$OUT/tests"
for f in .gl/*.deb; do dpkg -x "$f" /; done
for f in .gl/*.tar.gz; do [ -e "$f" ] && tar -C / -xzf "$f"; done
ldconfig
if [ -f .dev/tests.tar.xz ] && [ ! -d .dev/tests ]; then tar -C .dev -xJf .dev/tests.tar.xz; fi
command -v valgrind >/dev/null || { echo "no valgrind: run scripts/device-memcheck.sh --pack first" >&2; exit 1; }

export XDG_RUNTIME_DIR=/tmp HANDOFF_LIB_DIR=$ROOT/.dev RUST_BACKTRACE=1
# The scenario runs through the packed dynamic linker (see --pack): `ld.so --library-path`.
GLIBC=/opt/handoff-glibc
export HANDOFF_TEST_WRAPPER="valgrind --tool=memcheck --error-exitcode=99 --trace-children=yes \
--keep-debuginfo=yes --num-callers=40 --suppressions=$ROOT/.ci/memcheck.supp --leak-check=no \
--log-file=$OUT/vg/vg.%p.log $GLIBC/ld-linux-x86-64.so.2 --library-path $GLIBC"
export HANDOFF_TEST_TIMEOUT_SCALE=${HANDOFF_TEST_TIMEOUT_SCALE:-40}
threads=${THREADS:-$(nproc)}

start=$(date +%s)
pass=0 fail=0
cd "$ROOT/.dev"
for t in ${TESTS:-$(ls tests)}; do
    # Test names carry their driver (`…_mock_icd`, `…::mock_icd`, `…_on_the_mock`): "mock"
    # selects the mock-ICD variants.
    timeout 1200 "./tests/$t" mock ${SKIP:-} --test-threads="$threads" >"$OUT/tests/$t.log" 2>&1
    res=$(grep -E '^test result:' "$OUT/tests/$t.log" | tail -1)
    p=$(echo "$res" | sed -n 's/.* \([0-9]*\) passed.*/\1/p'); f=$(echo "$res" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
    pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0}))
    echo "test $t: ${res:-no result line}"
done
end=$(date +%s)

cd "$ROOT"
children=$(ls "$OUT"/vg/vg.*.log 2>/dev/null | wc -l)
errors=$(grep -h "ERROR SUMMARY" "$OUT"/vg/vg.*.log 2>/dev/null | awk '{s += $4} END {print s + 0}')
suppressed=$(grep -h "ERROR SUMMARY" "$OUT"/vg/vg.*.log 2>/dev/null | sed 's/.*suppressed: \([0-9,]*\).*/\1/' | tr -d , | awk '{s += $1} END {print s + 0}')
echo "== memcheck (device, mock ICD, every test binary): $pass tests passed, $fail failed; $children processes, $errors errors, $suppressed suppressed, $((end - start)) s on $threads threads"
summary=$(awk -f .ci/memcheck-summary.awk "$OUT"/vg/vg.*.log 2>/dev/null | sort | uniq -c | sort -rn)
if [ -n "$summary" ]; then
    echo "errors by library:"
    echo "$summary"
fi
# Keep what comes back small: logs of processes with errors only.
grep -L "ERROR SUMMARY: 0 errors" "$OUT"/vg/vg.*.log 2>/dev/null | head -50 | tar -czf "$OUT/vg-errors.tar.gz" -T - 2>/dev/null
rm -rf "$OUT/vg"
