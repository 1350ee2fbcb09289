#!/usr/bin/env bash
# Runs integration tests with every scenario child (handoff-scenario, and the processes it
# starts) under valgrind memcheck, then sums the reports up by library.
#
#   .ci/memcheck.sh                      the CI subset (mock ICD; a few lavapipe cases)
#   .ci/memcheck.sh --full               every integration test of handoff-tests, both drivers
#   .ci/memcheck.sh -- CARGO TEST ARGS   your own selection
#
# Exit status: 0 when no child reported a memcheck error and the tests passed.
# Leaks are not counted as errors: the loader dlclose()s the layer at vkDestroyInstance, which
# makes the layer's process-lifetime statics (the tracing subscriber, the dispatch tables'
# dashmap shards) unreachable; they are listed with --leaks for the lifecycle work of issue 7.
set -uo pipefail
cd "$(dirname "$0")/.."

mode=subset
leaks=no
extra=()
while [ $# -gt 0 ]; do
    case "$1" in
        --full) mode=full ;;
        --leaks) leaks=full ;;
        --) shift; extra=("$@"); mode=custom; break ;;
        *) echo "usage: $0 [--full] [--leaks] [-- CARGO TEST ARGS]" >&2; exit 64 ;;
    esac
    shift
done

command -v valgrind >/dev/null || { echo "memcheck: valgrind is not installed (apt-get install valgrind)" >&2; exit 1; }
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"

logs="${MEMCHECK_LOG_DIR:-$(mktemp -d /tmp/handoff-memcheck.XXXXXX)}"
mkdir -p "$logs"
rm -f "$logs"/vg.*.log

leak_opts="--leak-check=no"
if [ "$leaks" = full ]; then
    leak_opts="--leak-check=full --errors-for-leak-kinds=none --show-leak-kinds=definite"
fi
# --trace-children: the share-process and image-handoff scenarios start a second process.
# --keep-debuginfo: the loader unloads the layer and the driver before exit; without it the
# frames of a report made earlier in them would print as ???.
export HANDOFF_TEST_WRAPPER="valgrind --tool=memcheck --error-exitcode=99 --trace-children=yes \
--keep-debuginfo=yes --num-callers=40 --suppressions=$PWD/.ci/memcheck.supp $leak_opts \
--log-file=$logs/vg.%p.log"
export HANDOFF_TEST_TIMEOUT_SCALE="${HANDOFF_TEST_TIMEOUT_SCALE:-40}"

cargo build --release -p handoff-layer -p handoff-mock-icd -p handoff-tests -q || exit 1

start=$(date +%s)
status=0
case "$mode" in
    subset)
        # The mock ICD runs the scenarios fast enough under memcheck for CI (lavapipe is ~5x
        # slower there): the import/export registry (payload), queue-family ownership, and the
        # hostile cases of issue 7 (bad handles and fds).
        cargo test -q --release -p handoff-tests --no-fail-fast \
            --test payload --test ownership --test hostile_handles -- mock \
            || status=1
        ;;
    full)
        cargo test -q --release -p handoff-tests --tests --no-fail-fast -- --test-threads=2 || status=1
        ;;
    custom)
        cargo test -q --release -p handoff-tests --no-fail-fast "${extra[@]}" || status=1
        ;;
esac
end=$(date +%s)

# One line per error context: the library of the first frame that names one of ours, else the
# object of the top frame.
summary=$(awk -f .ci/memcheck-summary.awk "$logs"/vg.*.log 2>/dev/null | sort | uniq -c | sort -rn)

children=$(ls "$logs"/vg.*.log 2>/dev/null | wc -l)
errors=$(grep -h "ERROR SUMMARY" "$logs"/vg.*.log 2>/dev/null | awk '{s += $4} END {print s + 0}')
suppressed=$(grep -h "ERROR SUMMARY" "$logs"/vg.*.log 2>/dev/null | sed 's/.*suppressed: \([0-9,]*\).*/\1/' | tr -d , | awk '{s += $1} END {print s + 0}')
echo "== memcheck ($mode): $children processes, $errors errors, $suppressed suppressed, $((end - start)) s; logs in $logs"
if [ -n "$summary" ]; then
    echo "errors by library:"
    echo "$summary"
    status=1
fi
if [ "$leaks" = full ]; then
    echo "definitely lost, by first Handoff frame:"
    grep -h -A12 "definitely lost in" "$logs"/vg.*.log | grep -oE '\((accounting|[a-z_]+)\.rs:[0-9]+\)' | sort | uniq -c | sort -rn | head -20
fi
exit $status
