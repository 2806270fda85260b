#!/usr/bin/env bash
# README command (1): install what is missing, build guardian, and run the bundled example
# under it — a FastAPI/uvicorn dev server started and health-checked by guardian, and the
# example's pytest suite run against it (one test crashes the server on purpose: watch
# guardian notice, restart it, and let the suite go on).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh example

launcher=()
command -v ccache >/dev/null && launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DGUARDIAN_BUILD_TESTS=OFF "${launcher[@]}" >/dev/null
cmake --build build -j"$(nproc)" --target guardian

port=${EXAMPLE_PORT:-8765}
echo "== guardian runs the example's tests against a supervised uvicorn server on port $port" >&2
set -x
WEBAPP_URL=http://127.0.0.1:$port build/bin/guardian run --mode dev --timeout 5m \
  --server api="/usr/bin/python3 -m uvicorn app:app --app-dir examples/webapp --port $port" \
  --health api=http://127.0.0.1:$port/health \
  -- /usr/bin/python3 -m pytest -v examples/webapp/tests
