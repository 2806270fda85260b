#!/usr/bin/env bash
# Breach → kill of a slow leak (10 MB every 50 ms, --memory 64M) whose program lives on a
# disk-backed filesystem (ext4 on NVMe in the bare VM), where memory.high below the ceiling
# used to throttle the tree forever (issue 12):
#   default      memory.high = the ceiling (no swap): the kernel kills at memory.max
#   high90       --memory-high 90%: guardian kills after limits.memory_high_stall (2 s)
#   high90-old   --memory-high 90% with the stall watch pushed to 600 s: the old behaviour
#                (stopped with SIGTERM after 40 s: exit 143)
# "breach" is the first memory.events high/max event of the ceilings node (polled every 20 ms
# by the VM's shell), "kill" the end of guardian's run.
#   bench/limits_ceilings/memory_stall_bench.sh BUILD_DIR [RUNS]
# Prints numbers (medians); asserts nothing.
set -euo pipefail
BUILD=$(readlink -f "${1:?usage: memory_stall_bench.sh BUILD_DIR [RUNS]}")
RUNS=${2:-5}
HERE=$(dirname "$(readlink -f "$0")")
G=$BUILD/bin/guardian
T=$BUILD/tests/target/guardian-target
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

cat >"$OUT/runs.sh" <<'INNER'
# runs.sh GUARDIAN TARGET RUNS: one line per run: VARIANT EXIT BREACH_CS KILL_CS (centiseconds of uptime)
G=$1; T=$2; RUNS=$3
now() { read -r up _ </proc/uptime; echo "${up%.*}${up#*.}"; }
cd /tmp
for variant in default high90 high90-old; do
  i=0
  while [ $i -lt "$RUNS" ]; do
    case $variant in
      default) set -- ;;
      high90) set -- --memory-high 90% ;;
      high90-old) set -- --memory-high 90% ;;
    esac
    stall=2s; [ $variant = high90-old ] && stall=600s
    GUARDIAN_MEMORY_HIGH_STALL=$stall timeout -s TERM 40 "$G" run --quiet --memory 64M "$@" -- \
      chroot /disk "$T" alloc 400 120 10 0.05 >/dev/null 2>&1 &
    gpid=$!
    breach=
    while kill -0 $gpid 2>/dev/null; do
      if [ -z "$breach" ]; then
        for f in /sys/fs/cgroup/guardian-*/tree/memory.events; do
          [ -f "$f" ] || continue
          while read -r key value; do
            case $key in high | max) [ "$value" -gt 0 ] && breach=$(now) ;; esac
          done <"$f"
        done
      fi
      sleep 0.02
    done
    wait $gpid; code=$?
    echo "run $variant $code ${breach:-0} $(now)"
    for d in /sys/fs/cgroup/guardian-*; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null; done
    i=$((i + 1))
  done
done
INNER

"$HERE/../../tests/vm/bare/bare-vm" --timeout 1500 --copy "$G" --copy "$T" --copy "$OUT/runs.sh" --disk-copy "$T" -- \
  sh "$OUT/runs.sh" "$G" "$T" "$RUNS" >"$OUT/runs.txt"
/usr/bin/python3 - "$OUT/runs.txt" <<'PY'
import sys, statistics
rows = {}
for line in open(sys.argv[1]):
    if line.startswith("run "):
        _, variant, code, breach, end = line.split()
        rows.setdefault(variant, []).append((int(code), int(breach), int(end)))
print("slow leak (10 MB / 50 ms) from an ext4 disk, --memory 64M, bare VM (TCG); medians")
print(f"{'variant':12} {'runs':>4} {'exit 137':>8} {'breach→kill ms':>15}")
for variant, runs in rows.items():
    kills = [(end - breach) * 10 for code, breach, end in runs if breach]
    ok = sum(code == 137 for code, _, _ in runs)
    med = f"{statistics.median(kills):.0f}" if kills else "-"
    print(f"{variant:12} {len(runs):>4} {ok:>8} {med:>15}   exits: {sorted(c for c, _, _ in runs)}")
PY
