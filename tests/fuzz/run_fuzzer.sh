#!/usr/bin/env bash
# Runs one libFuzzer target for ctest (tests/fuzz/CMakeLists.txt):
#   run_fuzzer.sh regression <fuzzer> <corpus dir> <regressions dir>
#       every checked-in input once (seeds, and the inputs that once crashed); fails on any crash
#   run_fuzzer.sh burst <fuzzer> <seconds> <corpus dir> <regressions dir>
#       fuzzes for <seconds> from those inputs; new inputs go to a scratch dir, never the tree;
#       a crash leaves its input in the scratch dir (named in the log) and fails the test
set -euo pipefail
mode=$1 fuzzer=$2
shift 2
name=$(basename "$fuzzer")
scratch="${TMPDIR:-/tmp}/guardian-fuzz-$name-$$"
mkdir -p "$scratch"
# Sanitizers: stop at the first error; leaks count as errors.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
common=(-timeout=10 -rss_limit_mb=2048 -artifact_prefix="$scratch/")
case "$mode" in
  regression)
    existing=()
    for d in "$@"; do [[ -d "$d" ]] && existing+=("$d"); done
    status=0
    "$fuzzer" "${common[@]}" -runs=0 "${existing[@]}" || status=$?
    ;;
  burst)
    seconds=$1
    shift
    existing=()
    for d in "$@"; do [[ -d "$d" ]] && existing+=("$d"); done
    mkdir -p "$scratch/corpus"
    echo "crash inputs, if any, are kept in $scratch" >&2
    status=0
    "$fuzzer" "${common[@]}" -max_total_time="$seconds" -print_final_stats=1 \
      "$scratch/corpus" "${existing[@]}" || status=$?
    rm -rf "$scratch/corpus"
    ;;
  *) echo "usage: $0 regression|burst ..." >&2; exit 2 ;;
esac
# Keep the scratch dir only when it holds a crash input.
if ((status == 0)); then rm -rf "$scratch"; else echo "$name failed ($status); inputs in $scratch" >&2; fi
exit "$status"
