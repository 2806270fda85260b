#!/bin/sh
# Runs inside the Debian 12 systemd VM (vm-systemd), as root in the system service
# guardian-vm-test.service. Every situation a user runs guardian in — a user service, a
# terminal-like scope (a shell beside guardian), guardian alone in a scope, a Delegate=yes
# scope, a PAM login session (su -l), a user without a bus, root in a system service — runs
# the real guardian on guardian-target: a memory hog under --memory 64M, a spinner under
# --cpu 25%, and `guardian doctor --json`. One section per run:
#   @@@ begin NAME / @@ exit / @@ wall_seconds / @@ output / @@ report / @@@ end NAME
# systemd_vm_test.cpp parses the sections and asserts; this script asserts nothing.
# Usage: systemd_scenarios.sh DIR (holding guardian and guardian-target)
set -u
D=$1
G=$D/guardian
T=$D/guardian-target
W=/tmp/systemd-vm
mkdir -p $W && chmod 1777 $W && cd $W || exit 125   # every user may write reports and runs here

UPTIME_AT_START=$(cut -d' ' -f1 /proc/uptime)
# The lingering user's manager and bus come up with the machine; wait (bounded) for them.
for _ in $(seq 1 100); do [ -S /run/user/1000/bus ] && break; sleep 0.2; done
USER_ENV="XDG_RUNTIME_DIR=/run/user/1000 DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus"
as_tester() { runuser -u tester -- env $USER_ENV "$@"; }

echo "@@@ begin facts"
echo "@@ boot_seconds"; echo "$UPTIME_AT_START"   # kernel start to the test unit's start
echo "@@ kernel"; uname -r
echo "@@ systemd"; systemctl --version | head -n 1
echo "@@ user_manager_controllers"; cat /sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/cgroup.controllers
echo "@@ app_slice_subtree_control"
cat /sys/fs/cgroup/user.slice/user-1000.slice/user@1000.service/app.slice/cgroup.subtree_control
echo "@@ user_manager_delegate"; systemctl show -p Delegate,DelegateControllers user@1000.service
echo "@@@ end facts"

# how NAME COMMAND...: how a situation starts a command (as which user, in which unit). Each
# user situation has a slice of its own: a slice enables cpu for its children only once some
# unit in it asks for cpu, so one situation's scope must not give the next one cpu.
how() {
  slice=--slice=$1
  case $1 in
    root_service) shift; "$@" ;;
    user_service) shift; as_tester systemd-run --user $slice --wait --pipe --quiet -p WorkingDirectory=$W -- "$@" ;;
    nested_service)
      shift; as_tester systemd-run --user $slice --wait --pipe --quiet -p WorkingDirectory=$W -p MemoryMax=100M -- "$@" ;;
    terminal_scope) shift; as_tester systemd-run --user $slice --scope --quiet -- /bin/sh -c '"$@"; exit $?' sh "$@" ;;
    alone_scope) shift; as_tester systemd-run --user $slice --scope --quiet -- "$@" ;;
    delegate_scope) shift; as_tester systemd-run --user $slice --scope --quiet -p Delegate=yes -- "$@" ;;
    # su -l goes through PAM (common-session: pam_systemd), so the command runs in a new login
    # session's scope with the session's XDG_RUNTIME_DIR, like a user logged in on a terminal.
    login_session) shift; su -l tester -c "cd $W && $(printf '%s ' "$@")" ;;
    # A user whose manager does not run, in a system service: no user bus at all.
    no_bus) shift; runuser -u nobus -- "$@" ;;
  esac
}

# run SITUATION KIND GUARDIAN-ARGS...: one guardian run in one situation, dumped as a section.
run() {
  situation=$1 kind=$2; shift 2
  name=${situation}.${kind}
  report=$W/$name.json
  echo "@@@ begin $name"
  start=$(date +%s.%N)
  how "$situation" "$G" run --report "$report" --runs-dir $W/$name.runs "$@" >$W/$name.out 2>&1 </dev/null
  code=$?
  # KNOWN BUG (issue 12, open): from a fresh PAM login session the transient scope is sometimes
  # emptied by systemd right after guardian moved into it (seen 2 runs in 6), and guardian falls
  # back to the watchdog. Until it is fixed, one retry; the first attempt stays in the output.
  retried=""
  if [ "$situation" = login_session ] && grep -q '"backend": *"watchdog"' "$report" 2>/dev/null; then
    retried=$(cat $W/$name.out)
    start=$(date +%s.%N)
    how "$situation" "$G" run --report "$report" --runs-dir $W/$name.runs2 "$@" >$W/$name.out 2>&1 </dev/null
    code=$?
  fi
  end=$(date +%s.%N)
  echo "@@ exit"; echo $code
  echo "@@ wall_seconds"; echo "$start $end" | awk '{ printf "%.1f\n", $2 - $1 }'
  echo "@@ output"; cat $W/$name.out
  echo "@@ report"; cat "$report" 2>/dev/null; echo
  [ -n "$retried" ] && { echo "@@ first_attempt_fell_back"; echo "$retried"; }
  echo "@@ journal"; journalctl --no-pager -q --since "@${start%.*}" -o cat 2>/dev/null | grep -iE 'guardian-|scope' | tail -n 20
  echo "@@@ end $name"
}

doctor() {
  situation=$1
  echo "@@@ begin $situation.doctor"
  how "$situation" "$G" doctor --json >$W/$situation.doctor.out 2>/dev/null </dev/null
  echo "@@ exit"; echo $?
  echo "@@ report"; cat $W/$situation.doctor.out
  echo "@@@ end $situation.doctor"
}

for situation in root_service user_service terminal_scope alone_scope delegate_scope login_session no_bus; do
  doctor $situation
  # The hog touches 10 MiB every 50 ms up to 400 MiB; --timeout bounds a run that hangs.
  run $situation memory --memory 64M --timeout 30s -- $T alloc 400 30 10 0.05
  # One thread spinning for 6 s under a quarter of a core.
  run $situation cpu --cpu 25% --timeout 30s -- $T spin 1 6
done
# A user service with MemoryMax=100M: its limit holds guardian's run even with --memory 600M.
# First, while its slice lacks cpu: guardian then runs in a scope of its own beside the service.
doctor nested_service
run nested_service memory --memory 600M --timeout 30s -- $T alloc 400 30 10 0.05
exit 0
