#!/usr/bin/env bash
# A long fuzzing campaign over every target (figures in RELIABILITY.md), at the lowest CPU
# priority so it never competes with anything else on the machine:
#   tests/fuzz/campaign.sh <build-fuzz dir> <seconds per target> [out dir] [target...]
# Each target fuzzes from its seed corpus and regression inputs into <out>/<target>/corpus;
# libFuzzer's final statistics and the coverage of the grown corpus go to <out>/<target>.log.
set -euo pipefail
build=$(cd "$1" && pwd) seconds=$2
out=${3:-$build/fuzz-campaign}
shift $(($# < 3 ? $# : 3))
only=" $* "  # targets to run (all when none named)
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for fuzzer in "$build"/tests/fuzz/fuzz_*; do
  [[ -x "$fuzzer" && -f "$fuzzer" ]] || continue
  name=${fuzzer##*/fuzz_}
  [[ "$only" == "  " || "$only" == *" $name "* ]] || continue
  mkdir -p "$out/$name/corpus" "$out/$name/crashes"
  seeds=()
  for d in "$here/corpus/$name" "$here/regressions/$name"; do [[ -d "$d" ]] && seeds+=("$d"); done
  echo "== $name: ${seconds}s" >&2
  status=0
  # A slow input is a minute, not CI's 10 s: at nice 19 beside a busy machine a fuzzer is starved
  # for seconds at a time, and every 10 s "timeout" the first campaign hit reran in milliseconds.
  nice -n 19 "$fuzzer" -max_total_time="$seconds" -timeout="${CAMPAIGN_UNIT_TIMEOUT:-60}" -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$out/$name/crashes/" "$out/$name/corpus" "${seeds[@]}" >"$out/$name.log" 2>&1 || status=$?
  # Coverage of everything the campaign found: one pass over the grown corpus.
  nice -n 19 "$fuzzer" -runs=0 -print_coverage=1 -print_final_stats=1 "$out/$name/corpus" "${seeds[@]}" \
    >"$out/$name.coverage.log" 2>&1 || true
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$out/$name.log" | grep -o '[0-9]*$' || echo 0)
  cov=$(grep -o 'cov: [0-9]*' "$out/$name.coverage.log" | tail -1 || true)
  covered=$(grep -c '^COVERED_FUNC' "$out/$name.coverage.log" || true)
  uncovered=$(grep -c '^UNCOVERED_FUNC' "$out/$name.coverage.log" || true)
  echo "$name: exit $status, executions $execs, $cov edges, functions covered $covered / $((covered + uncovered)), crashes $(ls "$out/$name/crashes" | wc -l)" | tee -a "$out/summary.txt"
done
