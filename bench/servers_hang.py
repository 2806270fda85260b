#!/usr/bin/python3
"""Hung-server detection with guardian's defaults, before and after, beside a naive poller.

  hung server -> SERVER_DOWN   SIGSTOP every process of the server (it still accepts: the kernel
                               queues the connection, nobody answers); time until guardian's
                               server.down event. Servers: the test helper `serve-http`, and real
                               uvicorn --reload (reloader and worker both stopped).
  false alarms                 uvicorn --reload whose /health takes 0.6 s (slow but alive), its
                               app edited every 2 s for 40 s (a reload each time): how many
                               server.down events guardian wrongly raised.

"after" = this build's defaults (probe timeout 1 s, a failed probe followed by the next at once,
healthy servers probed at least every 2 s). "before" = the previous defaults' settings on this
build (probe_timeout = "10s", slow_warning/critical 2 s/5 s); the cadence changes cannot be
turned off, so "before" is a lower bound of the old build's time (issue 13 measured 31-33 s).
Baseline in the same runs: a naive poller, GET /health every second with a 1 s timeout, from the
test side. Prints medians; asserts nothing.

usage: bench/servers_hang.py --guardian BUILD/bin/guardian --target BUILD/tests/target/guardian-target
       [--rounds 3] [--no-uvicorn]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import textwrap

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import servers_detection as sd  # noqa: E402  (the rounds client, the scenario runner)

OLD_DEFAULTS = 'probe_timeout = "10s"\nslow_warning = "2s"\nslow_critical = "5s"\n'

# Runs inside guardian: edits the app every 2 s for 40 s, then reports guardian's server.down
# events (there should be none: a reload is not an outage).
SLOW_APP = textwrap.dedent('''
    import asyncio
    EDIT = 0

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        await asyncio.sleep(0.6)  # slow but alive
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
        await send({"type": "http.response.body", "body": b"ok"})
''')
EDITOR = textwrap.dedent(r'''
    import json, os, sys, time
    app_file, seconds = sys.argv[1], float(sys.argv[2])
    events_path = os.path.join(os.environ["GUARDIAN_RUN_DIR"], "events.jsonl")
    def events(name):
        with open(events_path) as f:
            return [e for e in map(json.loads, f) if e["event"] == name]
    end = time.monotonic() + 120
    while not events("server.healthy") and time.monotonic() < end:
        time.sleep(0.05)
    edits = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(2)
        with open(app_file) as f:
            text = f.read()
        edits += 1
        with open(app_file, "w") as f:
            f.write(text.replace(text.splitlines()[2], f"EDIT = {edits}"))
    time.sleep(3)
    print("RESULTS " + json.dumps({"edits": edits, "downs": len(events("server.down")),
                                   "probe_failures": len(events("server.probe_failed")),
                                   "slow": len(events("server.slow"))}), flush=True)
''')


def false_alarms(args, server_toml, seconds=40):
    port = sd.free_port()
    with tempfile.TemporaryDirectory(prefix="guardian-bench-") as work:
        app_dir = os.path.join(work, "app")
        os.mkdir(app_dir)
        with open(os.path.join(app_dir, "slowapp.py"), "w") as f:
            f.write(SLOW_APP)
        with open(os.path.join(work, "editor.py"), "w") as f:
            f.write(EDITOR)
        with open(os.path.join(work, "guardian.toml"), "w") as f:
            f.write(f"[servers.api]\n{server_toml}")
        server = (f"/usr/bin/python3 -m uvicorn slowapp:app --app-dir {app_dir} --port {port} --log-level warning "
                  f"--reload --reload-dir {app_dir}")
        cmd = [args.guardian, "run", "--quiet", "--server", f"api={server}", "--health",
               f"api=http://127.0.0.1:{port}/health", "--", "/usr/bin/python3", os.path.join(work, "editor.py"),
               os.path.join(app_dir, "slowapp.py"), str(seconds)]
        proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=600)
        for line in proc.stdout.splitlines():
            if line.startswith("RESULTS "):
                return json.loads(line[len("RESULTS "):])
        sys.stderr.write(f"false-alarm run failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}\n")
        return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--guardian", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--no-uvicorn", action="store_true")
    args = parser.parse_args()
    args.baseline_interval = 1.0  # the naive poller: every second, 1 s timeout

    kinds = ["serve-http"] + ([] if args.no_uvicorn else ["uvicorn-reload"])
    print(f"rounds per row: {args.rounds}; medians; naive poller = GET /health every 1 s, 1 s timeout\n")
    print("| hung (SIGSTOP) → server.down | guardian | naive poller | poller / guardian |")
    print("|---|---|---|---|")
    for kind in kinds:
        for label, toml in (("before: probe_timeout 10 s", OLD_DEFAULTS), ("after: defaults", "")):
            results = sd.scenario(args, "freeze", "auto", kind, "6s", server_toml=toml)
            if not results:
                print(f"| {kind}, {label} | failed | | |", flush=True)
                continue
            d = sd.median([r["detect_ms"] for r in results])
            b = sd.median([r["baseline_ms"] for r in results])
            print(f"| {kind}, {label} | {sd.ms(d)} | {sd.ms(b)} | {b / d:.2f}× |", flush=True)
    if not args.no_uvicorn:
        print("\n| uvicorn --reload, /health 0.6 s, edited every 2 s for 40 s | edits | server.down (false alarms) "
              "| failed probes | SERVER_SLOW events |")
        print("|---|---|---|---|---|")
        for label, toml in (("before: probe_timeout 10 s", OLD_DEFAULTS), ("after: defaults", "")):
            r = false_alarms(args, toml)
            if r is None:
                print(f"| {label} | failed | | | |", flush=True)
            else:
                print(f"| {label} | {r['edits']} | {r['downs']} | {r['probe_failures']} | {r['slow']} |", flush=True)


if __name__ == "__main__":
    main()
