#!/usr/bin/python3
"""Dev-server benchmark: how fast guardian notices a server problem and brings it back.

  process exit -> detection      SIGKILL the server; time until guardian's server.down event
  health loss  -> detection      the example app's /health answers 503 (--uvicorn), or the server
                                 hangs: SIGSTOP (accepts, never answers); time until
                                 server.down, with the monitor pinned at each level
                                 (--level normal / intensive / critical: probes every 5 s / 1 s / 500 ms)
                                 and free (auto: the first failed probe raises the level)
  restart      -> healthy again  server.down to the next server.healthy (restart delay included)

Baseline measured in the same runs: a poller in the style of the seed pytest plugin (GET /health
every 5 s, 1 s timeout) noticing the same failure. Prints medians; never asserts anything.

usage: bench/servers_detection.py --guardian BUILD/bin/guardian --target BUILD/tests/target/guardian-target
       [--rounds 5] [--levels auto,normal,intensive,critical] [--uvicorn]
"""
import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap

HERE = os.path.dirname(os.path.abspath(__file__))
WEBAPP = os.path.join(os.path.dirname(HERE), "examples", "webapp")

# Runs inside guardian as the main command: ROUNDS times, wait until guardian has seen the
# server healthy, break it, and record when guardian (events.jsonl) and the baseline poller
# noticed, and when guardian had it healthy again.
CLIENT = textwrap.dedent(r'''
    import datetime, json, os, signal, sys, threading, time, urllib.request
    url, action, rounds, baseline_s = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    events_path = os.path.join(os.environ["GUARDIAN_RUN_DIR"], "events.jsonl")

    def events(name):
        out = []
        with open(events_path) as f:
            for line in f:
                e = json.loads(line)
                if e["event"] == name and e["context"].get("server") == "api":
                    out.append(e)
        return out

    def ts(e):
        return datetime.datetime.fromisoformat(e["ts"]).timestamp()

    def ok(timeout=1.0):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:
                return r.status == 200
        except Exception:
            return False

    def server_pids():
        pids = []
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/environ", "rb") as f:
                    # Only this run's server (other runs may have one named api too).
                    if f"GUARDIAN_SERVER_ID={os.environ['GUARDIAN_RUN_ID']}/api".encode() in f.read().split(b"\0"):
                        pids.append(int(entry))
            except OSError:
                pass
        return pids

    def wait(pred, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if pred():
                return True
            time.sleep(0.01)
        return False

    results = []
    for i in range(rounds):
        if not wait(lambda: len(events("server.healthy")) >= i + 1 and ok(), 120):
            print("client: server not healthy", file=sys.stderr); sys.exit(1)
        time.sleep(1.2)  # a little uptime (past the bench's stable_uptime: no backoff growth)
        noticed = {}
        stop = threading.Event()
        def poller():
            # The seed's way: poll the health URL on a fixed interval from the test side.
            while not stop.is_set():
                if not ok(timeout=1.0):
                    noticed["baseline"] = time.time(); return
                stop.wait(baseline_s)
        # The failure lands at a different phase of the poller's cycle each round, spread
        # evenly over the interval (a test suite is at no particular phase either).
        t = threading.Thread(target=poller, daemon=True)
        t.start()
        time.sleep(0.05 + baseline_s * (i + 0.5) / rounds)
        pids = server_pids()
        t0 = time.time()
        if action == "fail503":
            base = url.rsplit("/", 1)[0]
            urllib.request.urlopen(urllib.request.Request(base + "/unhealthy", method="POST"), timeout=2).read()
        else:
            for pid in pids:
                os.kill(pid, signal.SIGKILL if action == "kill" else signal.SIGSTOP)
        if not wait(lambda: len(events("server.down")) >= i + 1, 120):
            print("client: guardian did not notice", file=sys.stderr); sys.exit(1)
        down = events("server.down")[i]
        wait(lambda: "baseline" in noticed, baseline_s + 3)
        stop.set()
        if not wait(lambda: len(events("server.healthy")) >= i + 2, 120):
            print("client: not healthy again", file=sys.stderr); sys.exit(1)
        up = events("server.healthy")[i + 1]
        results.append({"detect_ms": (ts(down) - t0) * 1000,
                        "baseline_ms": (noticed["baseline"] - t0) * 1000 if "baseline" in noticed else None,
                        "restart_ms": (ts(up) - ts(down)) * 1000,
                        "startup_ms": up["context"]["startup_ms"]})
    print("RESULTS " + json.dumps(results), flush=True)
''')


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_command(args, server_kind, port):
    if server_kind == "uvicorn":
        return f"/usr/bin/python3 -m uvicorn app:app --app-dir {WEBAPP} --port {port} --log-level warning"
    if server_kind == "uvicorn-reload":
        return (f"/usr/bin/python3 -m uvicorn app:app --app-dir {WEBAPP} --port {port} --log-level warning "
                f"--reload --reload-dir {WEBAPP}")
    return f"{args.target} serve-http {port}"


# Defaults everywhere except a generous breaker, no flap detection and a short stable uptime
# for repeated rounds (every round is one down of the same server).
ROUNDS_TOML = "breaker_failures = 100\nflap_downs = 0\nstop_grace = \"1s\"\nstable_uptime = \"1s\"\n"


def scenario(args, action, level, server_kind, restart_delay, server_toml='probe_timeout = "1s"\n'):
    port = free_port()
    url = f"http://127.0.0.1:{port}/health"
    with tempfile.TemporaryDirectory(prefix="guardian-bench-") as work:
        with open(os.path.join(work, "client.py"), "w") as f:
            f.write(CLIENT)
        with open(os.path.join(work, "guardian.toml"), "w") as f:
            f.write(f"[servers.api]\n{ROUNDS_TOML}restart_delay = \"{restart_delay}\"\n{server_toml}")
        server = server_command(args, server_kind, port)
        cmd = [args.guardian, "run", "--quiet", "--level", level, "--server", f"api={server}",
               "--health", f"api={url}", "--", "/usr/bin/python3", os.path.join(work, "client.py"), url,
               action, str(args.rounds), str(args.baseline_interval)]
        proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=1800)
        for line in proc.stdout.splitlines():
            if line.startswith("RESULTS "):
                return json.loads(line[len("RESULTS "):])
        sys.stderr.write(f"scenario {action}/{level} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}\n")
        return []


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def ms(value):
    if value != value:
        return "—"
    return "<1 ms" if value < 1 else f"{value:.0f} ms"


def show_detection(title, results):
    if not results:
        print(f"| {title} | failed | |", flush=True)
        return
    d = median([r["detect_ms"] for r in results])
    b = median([r["baseline_ms"] for r in results])
    print(f"| {title} | {ms(d)} | {ms(b)} |", flush=True)


def show_restart(title, results):
    if not results:
        print(f"| {title} | failed | |", flush=True)
        return
    r = median([r["restart_ms"] for r in results])
    s = median([r["startup_ms"] for r in results])
    print(f"| {title} | {ms(r)} | {ms(s)} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--guardian", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--levels", default="auto,normal,intensive,critical")
    parser.add_argument("--baseline-interval", type=float, default=5.0)
    parser.add_argument("--uvicorn", action="store_true", help="also measure with the real uvicorn example")
    parser.add_argument("--rows", default="exit,hang,503,restart", help="which measurements (503 needs --uvicorn)")
    args = parser.parse_args()
    rows = set(args.rows.split(","))

    kinds = ["serve-http"] + (["uvicorn"] if args.uvicorn else [])
    print(f"rounds per row: {args.rounds}; medians; baseline = GET /health every {args.baseline_interval:g} s "
          "from the test side (the seed plugin's way)\n")
    # Detection: the restart is delayed 6 s so the baseline poller can see the outage too.
    print("| failure → detection | guardian (server.down) | baseline poller |")
    print("|---|---|---|")
    for kind in kinds:
        if "exit" in rows:
            show_detection(f"{kind}: process exit (SIGKILL)", scenario(args, "kill", "normal", kind, "6s"))
        if "hang" in rows:
            for level in args.levels.split(","):
                show_detection(f"{kind}: hung (SIGSTOP), level {level}", scenario(args, "freeze", level, kind, "6s"))
        if "503" in rows and kind == "uvicorn":
            for level in args.levels.split(","):
                show_detection(f"{kind}: /health answers 503, level {level}",
                               scenario(args, "fail503", level, kind, "6s"))
    # Recovery with the default restart delay (500 ms).
    print("\n| restart → healthy again (defaults) | server.down → server.healthy | of which startup |")
    print("|---|---|---|")
    for kind in kinds:
        if "restart" in rows:
            show_restart(f"{kind}: after SIGKILL", scenario(args, "kill", "normal", kind, "500ms"))


if __name__ == "__main__":
    main()
