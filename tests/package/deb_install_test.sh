#!/usr/bin/env bash
# The Debian package installs into a clean Debian 12 root and works there (issue 16):
#   1. `cpack -G DEB` makes guardian_<version>_<arch>.deb, whose Depends were computed from the
#      binaries (dpkg-shlibdeps);
#   2. a minimal debootstrap root (python3, pytest, man-db; cached, keyed on this recipe) is
#      overlaid in a private mount namespace, so every run starts from the same clean root;
#   3. `apt-get install ./guardian_*.deb` there must pull in every library guardian needs, then
#      `guardian run -- python3 -m pytest` counts a small suite exactly, `guardian plugins`
#      lists the four bundled plugins and `man guardian` renders.
#   usage: deb_install_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
source_dir=$(realpath "$1")
build_dir=$(realpath "$2")
VM_NAME=guardian-deb
# The cache directory, its lock and recipe keys are the VM harnesses'.
source "$source_dir/tests/vm/common/vm-common.sh"
fail() { echo "FAIL: $*" >&2; exit 1; }

mirror=${GUARDIAN_DEBIAN_MIRROR:-http://deb.debian.org/debian}
root_packages=python3,python3-pytest,man-db
key=$(vm_recipe_key "deb-root v1" bookworm minbase "$root_packages" "$mirror")
clean_root="$VM_CACHE/deb-root-$key"
archives="$VM_CACHE/deb-root-archives"  # downloaded .debs, kept between runs (never the root)

vm_lock
if [ ! -e "$clean_root/.complete" ]; then
  vm_note "making the clean root $clean_root (debootstrap; once per recipe)"
  rm -rf "$clean_root" "$clean_root.partial"
  mkdir -p "$archives"
  vm_as_root debootstrap --variant=minbase --include="$root_packages" --cache-dir="$archives" bookworm \
    "$clean_root.partial" "$mirror" >"$VM_CACHE/deb-root.log" 2>&1 ||
    { tail -20 "$VM_CACHE/deb-root.log" >&2; vm_die "debootstrap failed (log: $VM_CACHE/deb-root.log)"; }
  rm -rf "$clean_root.partial/var/cache/apt/archives"/*.deb
  mv "$clean_root.partial" "$clean_root"
  touch "$clean_root/.complete"
fi
vm_unlock
mkdir -p "$archives/partial"

vm_temp_dir work
cpack -G DEB -B "$work/pkg" --config "$build_dir/CPackConfig.cmake" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log" >&2; fail "cpack failed"; }
version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build_dir/CPackConfig.cmake")
deb="$work/pkg/guardian_${version}_$(dpkg --print-architecture).deb"
[ -f "$deb" ] || fail "no $(basename "$deb") in $(ls "$work/pkg")"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
# Computed from the binaries: the plugins' libraries (libnotify; libstdc++ for every plugin),
# and none of the C++ libraries the guardian executable has compiled in (GUARDIAN_STATIC_CXX).
for library in libc6 libstdc++6 libnotify; do
  [[ "$depends" == *"$library"* ]] || fail "Depends lacks $library (computed from the binaries?)"
done
for library in libboost-filesystem libfmt libtomlplusplus libpugixml; do
  [[ "$depends" != *"$library"* ]] || fail "Depends names $library, which guardian has compiled in"
done

mkdir -p "$work/upper/tmp/suite" "$work/upper/etc" "$work/ovl" "$work/root"
cp "$deb" "$work/upper/tmp/"
cp /etc/resolv.conf "$work/upper/etc/resolv.conf"
cp "$source_dir/tests/install/small_suite/test_small.py" "$work/upper/tmp/suite/"
cat >"$work/upper/tmp/smoke.sh" <<'SH'
set -eu
export DEBIAN_FRONTEND=noninteractive PATH=/usr/sbin:/usr/bin:/sbin:/bin
apt-get update -qq >/tmp/apt.log 2>&1
apt-get install -y -qq --no-install-recommends /tmp/guardian_*.deb >>/tmp/apt.log 2>&1 || { tail -20 /tmp/apt.log; exit 1; }
echo "installed: $(command -v guardian)"
cd /tmp/suite
set +e
guardian run -- python3 -m pytest -q -p no:cacheprovider
echo "run exit: $?"
set -e
python3 - <<'PY'
import glob, json
report = json.load(open(glob.glob("/tmp/suite/.guardian/runs/*/report.json")[0]))
print("tests:", json.dumps(report["tests"]["counts"]))
PY
guardian plugins --json > /tmp/plugins.json
python3 -c 'import json; print("plugins:", " ".join(sorted(p["name"] for p in json.load(open("/tmp/plugins.json"))["plugins"])))'
MANPAGER=cat MANWIDTH=80 man guardian > /tmp/man.txt 2>/tmp/man.err || { cat /tmp/man.err; exit 1; }
echo "man: $(grep -c . /tmp/man.txt) lines; $(grep -m1 -o 'guardian - [a-z ,]*' /tmp/man.txt)"
SH
vm_as_root unshare --mount --propagation private -- /bin/sh -c '
  set -e
  mount -t overlay overlay -o "lowerdir=$1,upperdir=$2/upper,workdir=$2/ovl" "$2/root"
  mount --bind "$3" "$2/root/var/cache/apt/archives"
  mount -t proc proc "$2/root/proc"
  mount --rbind /dev "$2/root/dev"
  exec chroot "$2/root" /bin/sh /tmp/smoke.sh' sh "$clean_root" "$work" "$archives" >"$work/smoke.out" 2>&1 ||
  { cat "$work/smoke.out" >&2; fail "the smoke test in the clean root failed"; }
cat "$work/smoke.out"
grep -qx "run exit: 1" "$work/smoke.out" || fail "guardian run did not pass pytest's exit 1 through"
grep -qx 'tests: {"error": 0, "failed": 1, "passed": 2, "skipped": 0, "xfailed": 0, "xpassed": 0}' "$work/smoke.out" ||
  fail "the report has not the suite's counts (was the pytest plugin found?)"
grep -qx "plugins: jsonfile notify webhook websocket" "$work/smoke.out" || fail "guardian plugins did not list all four"
grep -q "^man: .*guardian - " "$work/smoke.out" || fail "man guardian did not render"
echo "deb install: OK"
