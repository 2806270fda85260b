#!/usr/bin/env bash
# Time from a memory-ceiling breach to the kill and to the alert, cgroup v2 versus the
# watchdog; and guardian's CPU cost per sample of a tree with each backend.
#   bench/limits_ceilings/limits_breach.sh BUILD_DIR [RUNS]
# BUILD_DIR must be configured with -DGUARDIAN_BUILD_BENCH=ON and have built guardian,
# limits_breach_helper and limits_sample_bench. cgroup v2 runs inside the bare cgroup v2 VM
# (tests/vm/bare/bare-vm; software emulation, ~4x slower than the host: compare v2 and the
# watchdog *inside the VM* for a fair ratio, the host numbers are for the watchdog only).
# Prints numbers (medians over RUNS); asserts nothing.
set -euo pipefail
BUILD=$(readlink -f "${1:?usage: limits_breach.sh BUILD_DIR [RUNS]}")
RUNS=${2:-5}
HERE=$(dirname "$(readlink -f "$0")")
VM_RUN=$(readlink -f "$HERE/../../tests/vm/bare/bare-vm")
G=$BUILD/bin/guardian
H=$BUILD/bench/limits_ceilings/limits_breach_helper
B=$BUILD/bench/limits_ceilings/limits_sample_bench
for f in "$G" "$H" "$B"; do [ -x "$f" ] || { echo "missing $f (build with -DGUARDIAN_BUILD_BENCH=ON)" >&2; exit 2; }; done
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

# One breach run per line: BACKEND CROSS_NS LAST_NS MB EXIT ALERT_TS. Runs where it is called.
cat >"$OUT/runs.sh" <<'INNER'
#!/bin/sh
# runs.sh GUARDIAN HELPER RUNS BACKEND...
G=$1; H=$2; RUNS=$3; shift 3
W=$(mktemp -d)
cd "$W"
for backend in "$@"; do
  i=0
  while [ $i -lt "$RUNS" ]; do
    rm -rf .guardian stamp
    # "<backend>-nohigh": memory.high at the ceiling, so no throttling precedes the kill.
    high=90%
    case $backend in *-nohigh) high=100%;; esac
    "$G" run --quiet --limits-backend "${backend%-nohigh}" --memory 64M --memory-high $high \
      -- "$H" 64 "$W/stamp" 256 >/dev/null 2>&1
    code=$?
    alert=$(grep -h '"MEMORY_CEILING_KILL"' .guardian/runs/*/alerts.jsonl 2>/dev/null | head -1 |
            sed 's/.*"ts":"\([^"]*\)".*/\1/')
    echo "breach $backend $(cat stamp) $code ${alert:-none}"
    i=$((i + 1))
  done
done
INNER
chmod +x "$OUT/runs.sh"

echo "== in the cgroup2 VM (TCG emulation), $RUNS runs per backend" >&2
"$VM_RUN" --timeout 900 --copy "$G" --copy "$H" --copy "$B" --copy "$OUT/runs.sh" -- \
  sh -c "$OUT/runs.sh $G $H $RUNS cgroup_v2 cgroup_v2-nohigh watchdog; $B --benchmark_format=json --benchmark_min_time=0.2 2>/dev/null | sed 's/^/sample /'" \
  >"$OUT/vm.txt" 2>"$OUT/vm.err" || { cat "$OUT/vm.err" >&2; exit 1; }
sed 's/^breach /breach vm:/' -i "$OUT/vm.txt"
echo "== on this host, $RUNS runs" >&2
"$OUT/runs.sh" "$G" "$H" "$RUNS" watchdog | sed 's/^breach /breach host:/' >"$OUT/host.txt"
"$B" --benchmark_format=json --benchmark_min_time=0.2 --benchmark_filter=Watchdog 2>/dev/null | sed 's/^/sample host:/' >>"$OUT/host.txt"

/usr/bin/python3 - "$OUT/vm.txt" "$OUT/host.txt" <<'PY'
import sys, json, statistics, datetime
rows = {}
samples = {"vm": "", "host": ""}
for path in sys.argv[1:]:
    for line in open(path):
        if line.startswith("breach "):
            _, backend, cross, last, mb, code, alert = line.split()
            rows.setdefault(backend, []).append((int(cross), int(last), int(mb), int(code), alert))
        elif line.startswith("sample "):
            where = "host" if line.startswith("sample host:") else "vm"
            samples[where] += line.split(" ", 1)[1].split(":", 1)[1] if where == "host" else line[7:]
def ms(ns): return ns / 1e6
def alert_ns(ts):
    return int(datetime.datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1e9)
print("memory ceiling 64 MiB (memory.high 90 %, or 100 % for -nohigh), payload allocates 1 MiB/ms past the ceiling")
print(f"{'backend':22} {'runs':>4} {'exit 137':>8} {'breach→kill ms':>15} {'breach→alert ms':>16} {'MiB reached':>11}")
for backend, runs in rows.items():
    kill, alert, reached, ok = [], [], [], 0
    for cross, last, mb, code, ts in runs:
        ok += code == 137
        reached.append(mb)
        # cgroup v2: the kernel kills at the allocation that crosses memory.max (the payload
        # may never see 64 MiB of its own: page tables, binary, libc count too).
        start = cross if cross else last
        kill.append(ms(last - start))
        if ts != "none": alert.append(ms(alert_ns(ts) - start))
    med = lambda v: f"{statistics.median(v):.1f}" if v else "-"
    print(f"{backend:22} {len(runs):>4} {ok:>8} {med(kill):>15} {med(alert):>16} {med(reached):>11}")
print()
print("guardian CPU per sample of the tree (µs of CPU time, Google Benchmark)")
for where, text in samples.items():
    try:
        data = json.loads(text)
    except Exception:
        continue
    for b in data.get("benchmarks", []):
        if b.get("error_occurred"):
            print(f"  {where:5} {b['name']:24} skipped: {b.get('error_message','')}")
        else:
            print(f"  {where:5} {b['name']:24} {b['cpu_time']:9.1f} µs  ({int(b.get('processes',0))} processes)")
PY
