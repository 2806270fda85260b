#!/usr/bin/env bash
# An install moved away from where it was built works: `cmake --install` into one prefix, the
# prefix copied elsewhere and the original removed, then the source and build trees hidden
# (a private mount namespace puts an empty tmpfs over each), so nothing compiled into the
# binary can be found. The moved `guardian run -- python3 -m pytest` must load its pytest
# plugin (exact counts in report.json), `guardian plugins` must list all four plugins, and
# its sentinel must be the moved libexec/guardian/guardian-sentinel.
#   usage: relocated_install_test.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
source_dir=$(realpath "$1")
build_dir=$(realpath "$2")
work=$(mktemp -d /tmp/guardian-relocated.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --install "$build_dir" --prefix "$work/first" >/dev/null
cp -a "$work/first" "$work/moved"
rm -rf "$work/first"
prefix="$work/moved"

mkdir "$work/suite"
cp "$source_dir/tests/install/small_suite/test_small.py" "$work/suite/"
# Everything below runs with the source and build trees out of sight.
hide="mount -t tmpfs tmpfs '$source_dir'"
case "$build_dir/" in "$source_dir"/*) ;; *) hide="$hide && mount -t tmpfs tmpfs '$build_dir'" ;; esac
in_namespace() {
  unshare --mount --propagation private -- /bin/sh -c "$hide && cd '$work/suite' && exec \"\$@\"" sh "$@"
}
in_namespace test ! -e "$source_dir/CMakeLists.txt" || fail "the source tree is still visible"

set +e
in_namespace env -u PYTHONPATH -u PYTEST_ADDOPTS "$prefix/bin/guardian" run -- /usr/bin/python3 -m pytest -q \
  -p no:cacheprovider >"$work/run.out" 2>"$work/run.err"
status=$?
set -e
cat "$work/run.out" "$work/run.err"
[ "$status" -eq 1 ] || fail "guardian run exited $status, expected pytest's 1 (one failing test)"
grep -q "ImportError" "$work/run.out" "$work/run.err" && fail "pytest could not import guardian's plugin"
report=$(ls "$work"/suite/.guardian/runs/*/report.json)
/usr/bin/python3 - "$report" <<'PY' || fail "report.json has not the suite's counts"
import json, sys
tests = json.load(open(sys.argv[1])).get("tests")
assert tests is not None, "no tests section: the pytest plugin did not report"
assert (tests["counts"]["passed"], tests["counts"]["failed"]) == (2, 1), tests
PY

in_namespace "$prefix/bin/guardian" plugins --json >"$work/plugins.json" || fail "guardian plugins failed: $(cat "$work/plugins.json")"
/usr/bin/python3 - "$work/plugins.json" "$prefix" <<'PY' || fail "guardian plugins did not list the four bundled plugins from the moved prefix"
import json, sys
doc = json.load(open(sys.argv[1]))
names = sorted(p["name"] for p in doc["plugins"] if p["path"].startswith(sys.argv[2]))
assert names == ["jsonfile", "notify", "webhook", "websocket"], doc
PY
# The sentinel is the moved install's own guardian-sentinel, not a fork of guardian.
in_namespace "$prefix/bin/guardian" run --quiet -- /bin/sh -c \
  'for c in $(cat /proc/$PPID/task/*/children); do readlink /proc/$c/exe; done' >"$work/children" ||
  fail "guardian run failed: $(cat "$work/children")"
grep -qx "$prefix/libexec/guardian/guardian-sentinel" "$work/children" ||
  fail "the sentinel is not the moved install's guardian-sentinel: $(cat "$work/children")"
echo "relocated install: pytest counted 2 passed + 1 failed, four plugins listed, its own sentinel"
