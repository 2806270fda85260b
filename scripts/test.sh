#!/usr/bin/env bash
# README command (2) and CI: install what is missing, build, run the whole test suite.
#   1. a warnings-as-errors build of everything, all tests (unit, integration, plugins,
#      real cgroup v2 in the VM, browser);
#   2. an AddressSanitizer + UBSan build of the core, its unit and integration tests;
#   3. the fuzz targets (clang, libFuzzer + ASan + UBSan): each over its corpus and regression
#      inputs, then a short burst (ctest -L fuzz).
# Exit status: non-zero if any build or test failed.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh all

jobs=$(nproc)
launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
# Paths relative to the checkout in ccache's keys (and no working directory in them): a fresh
# clone in another folder, as CI makes, reuses what an earlier clone compiled.
export CCACHE_BASEDIR="${CCACHE_BASEDIR:-$PWD}" CCACHE_NOHASHDIR="${CCACHE_NOHASHDIR:-1}"

echo "== build: warnings are errors" >&2
cmake -S . -B build-ci -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGUARDIAN_WERROR=ON "${launcher[@]}" >/dev/null
cmake --build build-ci -j"$jobs"
echo "== tests: everything" >&2
(cd build-ci && ctest --output-on-failure -j"$jobs" --timeout 600)

echo "== build: AddressSanitizer + UndefinedBehaviorSanitizer (core, unit, integration)" >&2
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DGUARDIAN_WERROR=ON -DGUARDIAN_SANITIZE=ON \
  -DGUARDIAN_BUILD_PLUGINS=OFF -DGUARDIAN_BUILD_EXAMPLES=OFF "${launcher[@]}" >/dev/null
cmake --build build-asan -j"$jobs"
echo "== tests under sanitizers: unit and integration" >&2
(cd build-asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
  ctest --output-on-failure -j"$jobs" -L 'unit|integration' --timeout 600)

echo "== build: fuzz targets (clang, libFuzzer + ASan + UBSan; only their parsers' sources)" >&2
CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=Debug -DGUARDIAN_FUZZ=ON \
  -DGUARDIAN_BUILD_TESTS=OFF -DGUARDIAN_BUILD_PLUGINS=OFF -DGUARDIAN_BUILD_EXAMPLES=OFF "${launcher[@]}" >/dev/null
cmake --build build-fuzz -j"$jobs" --target fuzz_targets
echo "== fuzz: corpus and regression inputs, then a short burst per target" >&2
(cd build-fuzz && ctest --output-on-failure -j"$jobs" -L fuzz --timeout 600)
