"""Cost of serving the status API and /metrics with a full snapshot ring.

Starts a real `guardian run` (websocket plugin, monitor checking every 10 ms so the
1000-snapshot ring fills in ~10 s), waits until the ring is full, then times N requests
per endpoint over one keep-alive connection and prints median / p90 latency and the ratio
to GET /healthz on the same server (the baseline: same socket, no work). Numbers only;
nothing is asserted.

usage: /usr/bin/python3 bench/status_dashboard/status_api_bench.py BUILD_DIR [N]
"""
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

BUILD = os.path.abspath(sys.argv[1])
N = int(sys.argv[2]) if len(sys.argv) > 2 else 200
ENDPOINTS = [
    "/healthz",
    "/metrics",
    "/api/monitoring/snapshots/recent?minutes=60",
    "/api/monitoring/snapshots/recent?minutes=60&limit=100",
    "/api/monitoring/status",
    "/api/monitoring/health",
    "/api/monitoring/infra/metrics",
    "/api/monitoring/alerts/active",
]


def main():
    work = tempfile.mkdtemp(prefix="guardian-status-bench-")
    port_file = os.path.join(work, "port")
    with open(os.path.join(work, "guardian.toml"), "w", encoding="utf-8") as f:
        for level in ("idle", "normal", "intensive", "critical"):
            f.write(f'[monitor.{level}]\ncheck_interval = "10ms"\nreport_interval = "10m"\n')
        f.write(f'[plugins.websocket]\nport = 0\nport_file = "{port_file}"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUARDIAN_")}
    guardian = subprocess.Popen(
        [os.path.join(BUILD, "bin/guardian"), "--config", os.path.join(work, "guardian.toml"), "run",
         "--runs-dir", os.path.join(work, "runs"), "--quiet", "--", "sleep", "600"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not os.path.exists(port_file):
            time.sleep(0.05)
        port = int(open(port_file, encoding="utf-8").read())
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

        def get(path):
            conn.request("GET", path)
            response = conn.getresponse()
            return response.status, response.read()

        started = time.time()
        while True:
            status, body = get("/api/monitoring/snapshots/recent?minutes=60")
            count = json.loads(body)["count"]
            if count >= 1000:
                break
            time.sleep(0.5)
        print(f"ring full (1000 snapshots) after {time.time() - started:.1f} s; {N} requests per endpoint")
        results = {}
        for path in ENDPOINTS:
            get(path)  # warm-up
            times = []
            size = 0
            for _ in range(N):
                t0 = time.perf_counter()
                status, body = get(path)
                times.append((time.perf_counter() - t0) * 1000)
                assert status == 200, (path, status)
                size = len(body)
            times.sort()
            results[path] = (statistics.median(times), times[int(len(times) * 0.9)], size)
        base = results["/healthz"][0]
        print(f"{'endpoint':55} {'median ms':>10} {'p90 ms':>8} {'bytes':>9} {'x healthz':>10}")
        for path, (median, p90, size) in results.items():
            print(f"{path:55} {median:10.3f} {p90:8.3f} {size:9d} {median / base:10.1f}")
    finally:
        guardian.send_signal(signal.SIGTERM)
        guardian.wait(timeout=30)


if __name__ == "__main__":
    main()
