#!/bin/sh
# Runs inside the bare cgroup v2 VM (bare/bare-vm), as root in the root cgroup.
# Every scenario runs the real guardian on guardian-target and prints one section:
#   @@@ begin NAME / @@ exit / @@ stdout / @@ stderr / @@ report / @@ <extra> / @@@ end NAME
# limits_vm_test.cpp parses the sections and asserts; this script asserts nothing.
# Usage: limits_scenarios.sh GUARDIAN TARGET [UNSHARE]  (UNSHARE: util-linux unshare(1), which
# has --cgroup; busybox's has not)
set -u
G=$1
T=$2
UNSHARE=${3:-unshare}
CG=/sys/fs/cgroup
W=/tmp/limits-vm
mkdir -p $W && cd $W || exit 125

part() { echo "@@ $1"; }
dump() { part "$1"; cat "$2" 2>/dev/null; echo; }
# Lists guardian's cgroups anywhere in the hierarchy (there should be none between runs).
leftover_cgroups() { find $CG -type d -name 'guardian-*' 2>/dev/null | sort; }

# scenario NAME [guardian run options] -- COMMAND...: runs guardian, dumps everything.
scenario() {
  name=$1; shift
  echo "@@@ begin $name"
  start=$(date +%s)
  "$G" run --report $W/$name.json "$@" >$W/$name.out 2>$W/$name.err </dev/null
  code=$?
  end=$(date +%s)
  part exit; echo $code
  part wall_seconds; echo $((end - start))
  dump stdout $W/$name.out
  dump stderr $W/$name.err
  dump report $W/$name.json
  part leftover_cgroups; leftover_cgroups
}
end_scenario() { echo "@@@ end $1"; }
# scenario_in CGROUP NAME [options] -- COMMAND...: the same, with guardian started inside CGROUP
# (relative to the mount), the way a unit or a container places it.
scenario_in() {
  within=$1; shift
  name=$1; shift
  echo "@@@ begin $name"
  sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG/$within" "$G" run --report $W/$name.json "$@" \
    >$W/$name.out 2>$W/$name.err </dev/null
  code=$?
  part exit; echo $code
  dump stdout $W/$name.out
  dump stderr $W/$name.err
  dump report $W/$name.json
  part leftover_cgroups; leftover_cgroups
}

part_nproc() { part vm_cpus; grep -c ^processor /proc/cpuinfo; }

# 1. A child allocating 4x its memory ceiling is OOM-killed, named, guardian survives.
scenario memory --memory 64M -- $T alloc 256 10
end_scenario memory

# 1b. A slow leak (10 MB every 50 ms) of a program on a disk-backed filesystem (the ext4 disk
#     at /disk): reclaim keeps evicting and refaulting its file pages, so memory.high below the
#     ceiling would throttle it forever. Default ceilings: killed at memory.max within seconds.
scenario memory_disk --memory 64M -- chroot /disk $T alloc 400 120 10 0.05
end_scenario memory_disk
# 1c. The same with memory.high asked for at 90 %: the kernel throttles the tree there; guardian
#     ends it after limits.memory_high_stall (2 s) and names it.
# --timeout is only a safety net (the test asserts killed_by memory_ceiling, within seconds).
scenario memory_high_stall --memory 64M --memory-high 90% --timeout 60s -- chroot /disk $T alloc 400 120 10 0.05
end_scenario memory_high_stall

# 2. cpu.max holds a two-thread spinner at its ceiling.
scenario cpu --cpu 0.5 -- $T spin 2 8
part_nproc
end_scenario cpu

# 3. A fork bomb stops at pids.max (85 processes wanted, 16 allowed).
scenario forkbomb --pids 16 -- $T fork-tree 3 4 3 2
end_scenario forkbomb

# 3b. A fork bomb that keeps forking against the ceiling (guardian-target fork-bomb: every
#     process forks forever and retries a refused fork), without --timeout of its own: ended by
#     itself. (A shell's `bomb & bomb` dies at its first refused fork and can burn itself out:
#     a tree that hit the ceiling once and carried on, which guardian rightly leaves alone.)
#     --timeout 60s is only a safety net: the test asserts killed_by pids_ceiling.
scenario forkbomb_endless --pids 64 --timeout 60s -- $T fork-bomb
end_scenario forkbomb_endless

# 4. A setsid double-forked daemon is gone after the run.
scenario daemon --kill-after 2s -- $T setsid-escape 1 120
escapee=$(sed -n 's/^escapee //p' $W/daemon.out)
part escapee_alive
if [ -n "$escapee" ] && kill -0 "$escapee" 2>/dev/null; then echo yes; else echo no; fi
end_scenario daemon

# 5. The payload is in its cgroup from its first instruction.
scenario first_instruction -- $T print-cgroup
end_scenario first_instruction

# 6. The pre-5.14 way to end a tree: freeze, SIGKILL each process, thaw (forced), after a
#    timeout whose SIGTERM is ignored, with a daemon that escaped the session.
export GUARDIAN_CGROUP_KILL=freeze
scenario freeze_kill --timeout 2s --kill-after 1s -- $T ignore-term 60
unset GUARDIAN_CGROUP_KILL
end_scenario freeze_kill

# 7. guardian SIGKILLed: the sentinel writes cgroup.kill, nothing of the run survives, and it
#    removes the run's cgroups.
echo "@@@ begin guardian_sigkill"
"$G" run -- $T setsid-escape 120 120 >$W/sigkill.out 2>$W/sigkill.err </dev/null &
gpid=$!
i=0
while [ $i -lt 100 ] && ! grep -q ready $W/sigkill.out 2>/dev/null; do sleep 0.2; i=$((i + 1)); done
part pids_before; cat $CG/guardian-$gpid/tree/main/cgroup.procs 2>/dev/null | tr '\n' ' '; echo
part children_exe  # the sentinel is its own small executable, not a fork of guardian
for c in $(cat /proc/$gpid/task/*/children); do basename "$(readlink /proc/$c/exe)"; done | sort | tr '\n' ' '; echo
kill -9 $gpid
wait $gpid 2>/dev/null
i=0
while [ $i -lt 50 ] && [ -d $CG/guardian-$gpid ]; do sleep 0.2; i=$((i + 1)); done
part escapee_alive
escapee=$(sed -n 's/^escapee //p' $W/sigkill.out)
if [ -n "$escapee" ] && kill -0 "$escapee" 2>/dev/null; then echo yes; else echo no; fi
part leftover_cgroups; leftover_cgroups
end_scenario guardian_sigkill
# The next run removes what a guardian killed together with its sentinel left (a stand-in:
# the run node of a pid that does not exist).
mkdir -p $CG/guardian-999999/tree/main
scenario after_sigkill -- $T exit 0
end_scenario after_sigkill

# 7b. The same in a cgroup that guardian shares with nobody (a delegated "box"): guardian moves
#     into a leaf and enables controllers in box; SIGKILLed, its sentinel gives box back as it
#     was, so box takes a process again (issue 12's repro).
echo "@@@ begin sigkill_box"
mkdir $CG/box
sh -c "echo \$\$ >$CG/box/cgroup.procs && exec $G run -- $T setsid-escape 120 120" >$W/box.out 2>$W/box.err </dev/null &
gpid=$!
i=0
while [ $i -lt 100 ] && ! grep -q ready $W/box.out 2>/dev/null; do sleep 0.2; i=$((i + 1)); done
part box_before; find $CG/box -mindepth 1 -type d | sort; cat $CG/box/cgroup.subtree_control
kill -9 $gpid
wait $gpid 2>/dev/null
i=0
while [ $i -lt 50 ] && [ -n "$(find $CG/box -mindepth 1 -type d)" ]; do sleep 0.2; i=$((i + 1)); done
part box_children; find $CG/box -mindepth 1 -type d
part box_subtree_control; cat $CG/box/cgroup.subtree_control
part box_takes_a_process; sh -c "echo \$\$ >$CG/box/cgroup.procs && echo yes" 2>&1
part escapee_alive
escapee=$(sed -n 's/^escapee //p' $W/box.out)
if [ -n "$escapee" ] && kill -0 "$escapee" 2>/dev/null; then echo yes; else echo no; fi
part stderr; cat $W/box.err
i=0
while [ $i -lt 25 ] && ! rmdir $CG/box 2>/dev/null; do sleep 0.2; i=$((i + 1)); done
end_scenario sigkill_box

# 7c. Never escape the caller's limits. An admin's box with memory.max 128M, guardian alone in
#     it, asked for 600M: the run nests in box and its ceiling is lowered to box's, in one line.
mkdir $CG/box
echo 128M >$CG/box/memory.max
scenario_in box box_cap --memory 600M -- $T alloc 300 10
part box_after; find $CG/box -mindepth 1 -type d; cat $CG/box/cgroup.procs
end_scenario box_cap
rmdir $CG/box

# 7d. The same box inside an admin's /admin, shared with a shell: box cannot enable controllers
#     while the shell is in it, so guardian (root) nests the run beside box, inside /admin — not
#     at the top — moving only itself; the shell stays where it was.
mkdir -p $CG/admin/box
echo "+memory +cpu +pids" >$CG/admin/cgroup.subtree_control
echo 200M >$CG/admin/memory.max
echo 128M >$CG/admin/box/memory.max
sh -c "echo \$\$ >$CG/admin/box/cgroup.procs && exec sleep 300" </dev/null >/dev/null 2>&1 &
shell=$!
scenario_in admin/box nest_shared --memory 600M -- sh -c "cat /proc/self/cgroup; exec $T alloc 300 10"
part shell_cgroup; cat /proc/$shell/cgroup
part admin_children; find $CG/admin -mindepth 1 -type d | sort
part box_procs; cat $CG/admin/box/cgroup.procs
end_scenario nest_shared
kill $shell; wait $shell 2>/dev/null
i=0
while [ $i -lt 25 ] && ! rmdir $CG/admin/box 2>/dev/null; do sleep 0.2; i=$((i + 1)); done
rmdir $CG/admin

# 7e. A process that writes itself out of the run's cgroup (root may write anywhere) is still
#     the run's: guardian is its subreaper, and it ends with the command.
scenario escape_cgroup -- sh -c "sh -c 'echo \$\$ >$CG/cgroup.procs; echo escapee \$\$; exec sleep 120' & sleep 1"
part escapee_alive
escapee=$(sed -n 's/^escapee //p' $W/escape_cgroup.out)
if [ -n "$escapee" ] && kill -0 "$escapee" 2>/dev/null; then echo yes; kill -9 "$escapee"; else echo no; fi
end_scenario escape_cgroup

# 7f. Containers: a cgroup namespace like Docker's and Kubernetes' (the container's cgroup is
#     the namespace's root), guardian the container's first process. cgroup2 mounted rw: kernel
#     ceilings inside it; ro: the watchdog, and doctor names the container options that give more.
mkdir $CG/container
# container MODE COMMAND...: COMMAND as the first process of a fresh "container" (its own cgroup
# and mount namespaces, cgroup2 mounted with MODE: rw or ro), alone in its cgroup.
container() {
  mode=$1; shift
  sh -c 'echo $$ >"$0/cgroup.procs" && exec "$@"' "$CG/container" $UNSHARE --cgroup --mount sh -c \
    'mode=$0
     umount /sys/fs/cgroup && mount -t cgroup2 -o "$mode" cgroup2 /sys/fs/cgroup || exit 125
     exec "$@"' "$mode" "$@"
}
in_container() {  # in_container rw|ro NAME [guardian run options] -- COMMAND...
  mode=$1; name=$2; shift 2
  # doctor as the container's first process too: it predicts the run below.
  container "$mode" "$G" doctor --json >$W/$name.doctor 2>&1 </dev/null
  container "$mode" "$G" run --report $W/$name.json "$@" >$W/$name.out 2>$W/$name.err </dev/null
  code=$?
  container "$mode" cat /proc/self/cgroup >$W/$name.cgroup
  echo "@@@ begin $name"
  part exit; echo $code
  dump stdout $W/$name.out
  dump stderr $W/$name.err
  dump report $W/$name.json
  dump doctor $W/$name.doctor
  dump cgroup_in_namespace $W/$name.cgroup
  part container_children; find $CG/container -mindepth 1 -type d
  part leftover_cgroups; leftover_cgroups
  echo "@@@ end $name"
}
in_container rw container_rw --memory 64M -- $T alloc 256 10
in_container ro container_ro --memory 64M -- $T alloc 256 10
rmdir $CG/container

# 8. Non-root in a delegated subtree, the way systemd delegates: /delegated belongs to the
#    user; their shell lives in one leaf (shell), each guardian starts alone in another (job).
echo "runner:x:1000:1000:runner:/tmp/runner:/bin/sh" >>/etc/passwd
echo "runner:x:1000:" >>/etc/group
mkdir -p /tmp/runner && chown 1000:1000 /tmp/runner
mkdir $CG/delegated $CG/delegated/shell
# As systemd delegates: the directory and its three delegation files, not its own limits.
chown 1000:1000 $CG/delegated $CG/delegated/cgroup.procs $CG/delegated/cgroup.subtree_control $CG/delegated/cgroup.threads
chown -R 1000:1000 $CG/delegated/shell
cat >/tmp/runner/runs.sh <<INNER
cd /tmp/runner
echo "+cpu +memory +pids" >$CG/delegated/cgroup.subtree_control || echo "cannot enable controllers" >&2
mkdir $CG/delegated/job
for run in "memory --memory 64M -- $T alloc 256 10" "first_instruction -- $T print-cgroup" "cpu --cpu 0.5 -- $T spin 2 8"; do
  set -- \$run
  name=\$1; shift
  sh -c 'echo \$\$ >$CG/delegated/job/cgroup.procs && exec "\$0" "\$@"' "$G" run --report /tmp/runner/\$name.json "\$@" \
    >/tmp/runner/\$name.out 2>/tmp/runner/\$name.err </dev/null
  echo \$? >/tmp/runner/\$name.exit
done
# Beside the user's shell (this script, in /delegated/shell): guardian moves only itself and
# nests the run in /delegated, which is the user's.
$G run --report /tmp/runner/beside_shell.json --memory 64M -- sh -c 'cat /proc/self/cgroup; exec $T alloc 256 10' \
  >/tmp/runner/beside_shell.out 2>/tmp/runner/beside_shell.err </dev/null
echo \$? >/tmp/runner/beside_shell.exit
cat /proc/\$\$/cgroup >/tmp/runner/beside_shell.shell_cgroup
INNER
# This shell moves into the user's shell leaf, then becomes the user.
sh -c "echo \$\$ >$CG/delegated/shell/cgroup.procs && exec su -s /bin/sh runner -c 'sh /tmp/runner/runs.sh'"
for name in memory first_instruction cpu beside_shell; do
  echo "@@@ begin delegated_$name"
  part exit; cat /tmp/runner/$name.exit
  dump stdout /tmp/runner/$name.out
  dump stderr /tmp/runner/$name.err
  dump report /tmp/runner/$name.json
  part leftover_cgroups; leftover_cgroups
  part job_children; find $CG/delegated/job -mindepth 1 -type d
  part delegated_children; find $CG/delegated -mindepth 1 -type d | sort
  dump shell_cgroup /tmp/runner/$name.shell_cgroup
  echo "@@@ end delegated_$name"
done
# 9. Non-root in a cgroup that is not delegated: a permission problem, said and alerted,
#    and the watchdog enforces instead.
mkdir $CG/plain
sh -c "echo \$\$ >$CG/plain/cgroup.procs && exec su -s /bin/sh runner -c 'cd /tmp/runner && $G run --report /tmp/runner/plain.json --memory 64M -- $T exit 0 >/tmp/runner/plain.out 2>/tmp/runner/plain.err; echo \$? >/tmp/runner/plain.exit'"
echo "@@@ begin not_delegated"
part exit; cat /tmp/runner/plain.exit
dump stdout /tmp/runner/plain.out
dump stderr /tmp/runner/plain.err
dump report /tmp/runner/plain.json
part plain_children; find $CG/plain -mindepth 1 -type d
echo "@@@ end not_delegated"
echo "@@@ begin final"
part leftover_cgroups; leftover_cgroups
echo "@@@ end final"
exit 0
