#!/bin/sh
# Runs inside the bare cgroup v2 VM (bare/bare-vm), as root. The real guardian
# supervises a static 13-process tree with the cgroup v2 backend while this script reads the
# tree's cgroup files; monitor_vm_test.cpp compares them with guardian's snapshots.
# Prints sections: @@ name, then content. Asserts nothing.
# Usage: monitor_vm_scenario.sh GUARDIAN TARGET
set -u
G=$1
T=$2
CG=/sys/fs/cgroup
W=/tmp/monitor-vm
mkdir -p $W && cd $W || exit 125
cat > guardian.toml <<'TOML'
[monitor.critical]
check_interval = "200ms"
report_interval = "500ms"
TOML

part() { echo "@@ $1"; }

"$G" run --level critical --cpu 1 --memory 256M --report $W/report.json -- $T fork-tree 2 3 12 12 \
  >$W/out 2>$W/err </dev/null &
gpid=$!
i=0
while [ $i -lt 150 ] && ! grep -q ready $W/out 2>/dev/null; do sleep 0.2; i=$((i + 1)); done
sleep 3  # several reports of the complete tree
dir=$CG/guardian-$gpid/tree/main  # the payload cgroup of `guardian run` (limits/cgroup_run_tree)
part cgroup_dir; echo "$dir"
part procs; wc -l < $dir/cgroup.procs
part threads; wc -l < $dir/cgroup.threads
part memory_current; cat $dir/memory.current
# The ceilings sit on the tree node above the payload's leaf.
part memory_max; cat $(dirname $dir)/memory.max
part cpu_max; cat $(dirname $dir)/cpu.max
part events; cat $W/.guardian/runs/*/events.jsonl
kill -TERM $gpid
wait $gpid
code=$?
part exit; echo $code
part stderr; cat $W/err
part report; cat $W/report.json
