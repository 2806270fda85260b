#!/usr/bin/env bash
# Installs every Debian package guardian needs to build, test and benchmark.
# Idempotent: packages already present are not fetched again; apt-get update runs
# only when something is missing. Used by both README commands and by CI.
set -euo pipefail

# Build: compilers, CMake and the libraries the core and plugins link. clang-14 builds the
# fuzz targets (tests/fuzz); libFuzzer and the sanitizers' runtimes are in libclang-rt-14-dev.
build_pkgs=(
  build-essential cmake pkg-config ccache
  libboost1.81-dev libboost-filesystem1.81-dev libboost-system1.81-dev
  nlohmann-json3-dev libcli11-dev libtomlplusplus-dev libfmt-dev
  libnotify-dev libglib2.0-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libpugixml-dev
  libssl-dev
  clang-14 libclang-rt-14-dev
)
# Run the bundled examples: real uvicorn/FastAPI/pytest from Debian (no PyPI here).
example_pkgs=(
  python3 python3-pytest python3-pytest-xdist python3-uvicorn python3-fastapi python3-httpx
)
# Tests and benchmarks: real peers for every component (see TESTING.md).
test_pkgs=(
  procps psmisc util-linux hyperfine time python3-psutil python3-websockets python3-dbus
  dbus dunst xvfb libglib2.0-bin
  qemu-system-x86 e2fsprogs xz-utils zstd  # tests/vm: QEMU, the ext4 disk image, kernel modules
  debootstrap  # tests/vm/systemd: the Debian 12 systemd VM
  prometheus prometheus-alertmanager chromium python3-jsonschema nodejs
)

want=("${build_pkgs[@]}" "${example_pkgs[@]}")
case "${1:-all}" in
  example) ;;
  all|test) want+=("${test_pkgs[@]}") ;;
  *) echo "usage: $0 [example|test|all]" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "install-deps: all ${#want[@]} packages present" >&2

# npm (pinned by package-lock.json, `npm ci`): the dashboard's chart library, embedded into
# the websocket plugin at build time, and playwright-core for the browser tests.
# (Debian's npm only when no npm came with nodejs, e.g. NodeSource's, which conflicts with it.)
if ! command -v npm >/dev/null && [[ "${1:-all}" != example ]]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends npm >/dev/null
fi
if command -v npm >/dev/null; then
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
  npm_dirs=(plugins/websocket/dashboard)
  case "${1:-all}" in all|test) npm_dirs+=(tests/browser) ;; esac
  for d in "${npm_dirs[@]}"; do
    [[ -d "$root/$d/node_modules" ]] || (cd "$root/$d" && npm ci --no-audit --no-fund --loglevel=error)
  done
  echo "install-deps: npm packages present" >&2
fi
