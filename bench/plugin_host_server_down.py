#!/usr/bin/python3
"""Issue 14: child exit -> SERVER_DOWN on a WebSocket client, with the plugins in the
supervisor (a baseline binary) and in the plugin host process (this build), in one run.

guardian runs a dev server (guardian-target serve-http) and the websocket plugin; the main
command is a client that, ROUNDS times: waits until the server is healthy, SIGKILLs it, and
takes the time from the kill to the SERVER_DOWN alert arriving on its WebSocket
(python3-websockets). Prints p50 / p99 / max per binary; asserts nothing (goal: p99 <= 20 ms).

usage: bench/plugin_host_server_down.py [--baseline OLD/bin/guardian] --guardian NEW/bin/guardian
       --target BUILD/tests/target/guardian-target --plugins BUILD/plugins [--rounds 30] [--runs 1]
       [--dump ROUNDS.jsonl]
Without --baseline only this build is measured; --runs repeats the measurement (one guardian
run of --rounds kills each) and adds a row for all the rounds together.
"""
import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap

CLIENT = textwrap.dedent(r'''
    import asyncio, json, os, signal, sys, time, urllib.request
    import websockets
    ws_url, health_url, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])

    def healthy():
        try:
            with urllib.request.urlopen(health_url, timeout=1) as r:
                return r.status == 200
        except Exception:
            return False

    def server_pids():
        pids = []
        marker = f"GUARDIAN_SERVER_ID={os.environ['GUARDIAN_RUN_ID']}/api".encode()
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/environ", "rb") as f:
                        if marker in f.read().split(b"\0"):
                            pids.append(int(entry))
                except OSError:
                    pass
        return pids

    async def main():
        for attempt in range(200):
            try:
                ws = await websockets.connect(ws_url, ping_interval=None, max_size=2**22)
                break
            except OSError:
                await asyncio.sleep(0.05)
        latencies = []
        for i in range(rounds):
            while not healthy():
                await asyncio.sleep(0.05)
            await asyncio.sleep(1.2)  # past stable_uptime: no backoff growth
            while True:  # drain what came meanwhile
                try:
                    await asyncio.wait_for(ws.recv(), 0.01)
                except asyncio.TimeoutError:
                    break
            # Found before the clock starts: the scan reads every process's environ (hundreds on
            # a busy machine), which took up to 50 ms and was counted as guardian's.
            pids = server_pids()
            t0 = time.monotonic()
            killed_at = time.time() * 1000
            for pid in pids:
                os.kill(pid, signal.SIGKILL)
            while True:
                message = await asyncio.wait_for(ws.recv(), 30)
                if '"SERVER_DOWN"' in message and '"kind":"alert"' in message.replace(" ", ""):
                    total = (time.monotonic() - t0) * 1000
                    # The alert's own time (ms) splits the path: detection in the supervisor
                    # (kill -> alert raised), delivery (raised -> supervisor -> host -> socket).
                    raised_at = json.loads(message)["alert"]["ts_unix_ms"]
                    latencies.append([total, raised_at - killed_at, time.time() * 1000 - raised_at, killed_at])
                    break
        print("RESULTS " + json.dumps(latencies), flush=True)
        await ws.close()

    asyncio.run(main())
''')


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def measure(guardian, args):
    port, ws_port = free_port(), free_port()
    with tempfile.TemporaryDirectory(prefix="guardian-bench-") as work:
        with open(os.path.join(work, "client.py"), "w") as f:
            f.write(CLIENT)
        with open(os.path.join(work, "guardian.toml"), "w") as f:
            f.write("[servers.api]\nbreaker_failures = 1000\nstop_grace = \"1s\"\nstable_uptime = \"1s\"\n"
                    "restart_delay = \"100ms\"\nflap_downs = 0\n"  # every kill is a SERVER_DOWN, never one SERVER_FLAPPING
                    f"[plugins.websocket]\nport = {ws_port}\n[plugins.jsonfile]\ndirectory = \"{work}/alerts\"\n")
        env = dict(os.environ, GUARDIAN_PLUGIN_PATH=args.plugins)
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        cmd = [guardian, "run", "--quiet", "--server", f"api={args.target} serve-http {port}",
               "--health", f"api=http://127.0.0.1:{port}/health", "--", "/usr/bin/python3",
               os.path.join(work, "client.py"), f"ws://127.0.0.1:{ws_port}/ws", f"http://127.0.0.1:{port}/health",
               str(args.rounds)]
        proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=1800, env=env)
        if args.dump:  # the run's event log, to place each kill among the supervisor's own steps
            runs = os.path.join(work, ".guardian", "runs")
            for run in os.listdir(runs) if os.path.isdir(runs) else []:
                if os.path.isfile(os.path.join(runs, run, "events.jsonl")):
                    shutil.copy(os.path.join(runs, run, "events.jsonl"), f"{args.dump}.{run}.events.jsonl")
        for line in proc.stdout.splitlines():
            if line.startswith("RESULTS "):
                return json.loads(line[len("RESULTS "):])  # [total, detection, delivery, kill time] per round
        sys.stderr.write(f"{guardian} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}\n")
        return []


def p99(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline")
    parser.add_argument("--guardian", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--plugins", required=True)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--dump", help="also write every round's [total, detection, delivery, kill unix ms] (JSON) here, "
                        "and each run's events.jsonl beside it")
    args = parser.parse_args()
    for name in ("baseline", "guardian", "target", "plugins"):  # runs happen in a temporary directory
        if getattr(args, name):
            setattr(args, name, os.path.abspath(getattr(args, name)))
    print(f"SIGKILL of the server -> SERVER_DOWN on a WebSocket client; {args.rounds} rounds each; load "
          f"{os.getloadavg()[0]:.1f}\n")
    print("detection = kill -> the alert's own time (supervisor: pidfd exit, ServerSupervisor, AlertBus);\n"
          "delivery = the alert's time -> the client has it (channel, plugin host, websocket); both ms-granular\n")
    print("| binary | run | load | p50 | p99 | max | detection p50 / p99 | delivery p50 / p99 |")
    print("|---|---|---|---|---|---|---|---|")
    binaries = [("plugin host process", args.guardian)]
    if args.baseline:
        binaries.insert(0, ("baseline: plugins in the supervisor", args.baseline))
    for label, binary in binaries:
        every = []
        for run in range(1, args.runs + 1):
            load = os.getloadavg()[0]
            rounds = measure(binary, args)
            every += rounds
            if not rounds:
                print(f"| {label} | {run} | {load:.1f} | failed | | | | |", flush=True)
                continue
            print(row(label, str(run), f"{load:.1f}", rounds), flush=True)
        if args.runs > 1 and every:
            print(row(label, f"all {len(every)}", "", every), flush=True)
        if args.dump:
            with open(args.dump, "a") as f:
                f.write(json.dumps({"binary": label, "rounds": every}) + "\n")


def row(label, run, load, rounds):
    total = [r[0] for r in rounds]
    detection = [r[1] for r in rounds]
    delivery = [r[2] for r in rounds]
    return (f"| {label} | {run} | {load} | {statistics.median(total):.1f} ms | {p99(total):.1f} ms | "
            f"{max(total):.1f} ms | {statistics.median(detection):.0f} / {p99(detection):.0f} ms | "
            f"{statistics.median(delivery):.0f} / {p99(delivery):.0f} ms |")


if __name__ == "__main__":
    main()
