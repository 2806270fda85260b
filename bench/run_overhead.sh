#!/usr/bin/env bash
# Measures what `guardian run` costs on top of the command it supervises:
#   1. start-up + tear-down time: `guardian run -- true` vs bare `true` (hyperfine,
#      medians, the ratio and the milliseconds added per run);
#   2. guardian's memory while it supervises `sleep 2`: peak RSS (/usr/bin/time -v)
#      and RSS / private memory of the live guardian process (/proc/PID/smaps_rollup).
# Prints numbers only; it asserts nothing (the machine is shared and noisy: compare
# the two medians of one run, never absolute times across runs).
#
# usage: bench/run_overhead.sh BUILD_DIR [RUNS]   (RUNS defaults to 300, at least 200)
set -euo pipefail

die() { echo "run_overhead: $*" >&2; exit 2; }

build_dir=${1:-}
runs=${2:-300}
[[ -n $build_dir ]] || die "usage: $0 BUILD_DIR [RUNS]"
build_dir=$(cd "$build_dir" 2>/dev/null && pwd) || die "no such build directory: ${1}"
guardian=$build_dir/bin/guardian
[[ -x $guardian ]] || guardian=$build_dir/guardian
[[ -x $guardian ]] || die "no guardian binary in $build_dir/bin or $build_dir: build it first (cmake --build $build_dir --target guardian)"
[[ $runs =~ ^[0-9]+$ ]] && ((runs >= 200)) || die "RUNS must be a number >= 200, got '$runs'"
for tool in hyperfine /usr/bin/time jq; do
  command -v "$tool" >/dev/null || die "$tool is missing: run scripts/install-deps.sh test"
done
true_bin=$(type -P true)
sleep_bin=$(type -P sleep)

# Runs write .guardian/runs/<id>/ into the working directory: keep them out of the tree.
work=$(mktemp -d /tmp/guardian-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
results=${GUARDIAN_BENCH_OUT:-$work}/run_overhead.json

echo "== start-up overhead: $runs runs each (hyperfine, no shell) =="
hyperfine --shell=none --warmup 20 --runs "$runs" --style basic \
  --export-json "$results" \
  --command-name "bare true" "$true_bin" \
  --command-name "guardian run -- true" "$guardian run -- $true_bin" >&2

median_ms() { jq -r --arg name "$1" '.results[] | select(.command == $name) | .median * 1000' "$results"; }
bare_ms=$(median_ms "bare true")
guarded_ms=$(median_ms "guardian run -- true")

echo "== memory while supervising sleep 2 =="
# Peak RSS of guardian (GNU time reports the largest of guardian and the children it
# waited for; sleep is far smaller than guardian, so this is guardian's own peak).
time_log=$work/time.log
/usr/bin/time -v -o "$time_log" "$guardian" run --quiet -- "$sleep_bin" 2
max_rss_kib=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$time_log")

# RSS and private memory of the running guardian, sampled one second into the run.
"$guardian" run --quiet -- "$sleep_bin" 2 &
guardian_pid=$!
sleep 1
rollup=/proc/$guardian_pid/smaps_rollup
if [[ -r $rollup ]]; then
  rss_kib=$(awk '/^Rss:/ {print $2}' "$rollup")
  private_kib=$(awk '/^Private_(Clean|Dirty):/ {sum += $2} END {print sum}' "$rollup")
  pss_kib=$(awk '/^Pss:/ {print $2}' "$rollup")
else
  rss_kib=n/a private_kib=n/a pss_kib=n/a
fi
wait "$guardian_pid" || true

mib() { [[ $1 == n/a ]] && echo n/a || awk -v k="$1" 'BEGIN {printf "%.1f MiB", k / 1024}'; }
echo
printf '%-48s %s\n' "metric" "value"
printf '%-48s %s\n' "------------------------------------------------" "----------"
printf '%-48s %.3f ms\n' "bare true (median)" "$bare_ms"
printf '%-48s %.3f ms\n' "guardian run -- true (median)" "$guarded_ms"
awk -v g="$guarded_ms" -v b="$bare_ms" 'BEGIN {
  printf "%-48s %.1fx\n", "ratio guardian / bare", g / b
  printf "%-48s %.3f ms\n", "added per run (median difference)", g - b }'
printf '%-48s %s\n' "guardian peak RSS, sleep 2 (time -v)" "$(mib "$max_rss_kib")"
printf '%-48s %s\n' "guardian RSS at 1 s (smaps_rollup)" "$(mib "$rss_kib")"
printf '%-48s %s\n' "guardian private memory at 1 s (smaps_rollup)" "$(mib "$private_kib")"
printf '%-48s %s\n' "guardian PSS at 1 s (smaps_rollup)" "$(mib "$pss_kib")"
echo
echo "hyperfine JSON: $results$([[ -z ${GUARDIAN_BENCH_OUT:-} ]] && echo ' (deleted on exit; set GUARDIAN_BENCH_OUT=DIR to keep it)')"
