#!/usr/bin/python3
"""Issue 14: child exit -> SERVER_DOWN on a WebSocket client, with the plugins in the
supervisor (a baseline binary) and in the plugin host process (this build), in one run.

guardian runs a dev server (guardian-target serve-http) and the websocket plugin; the main
command is a client that, ROUNDS times: waits until the server is healthy, SIGKILLs it, and
takes the time from the kill to the SERVER_DOWN alert arriving on its WebSocket
(python3-websockets). Prints p50 / p99 / max per binary; asserts nothing (goal: p99 <= 20 ms).

usage: bench/plugin_host_server_down.py --baseline OLD/bin/guardian --guardian NEW/bin/guardian
       --target BUILD/tests/target/guardian-target --plugins BUILD/plugins [--rounds 30]
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
            t0 = time.monotonic()
            for pid in server_pids():
                os.kill(pid, signal.SIGKILL)
            while True:
                message = await asyncio.wait_for(ws.recv(), 30)
                if '"SERVER_DOWN"' in message and '"kind":"alert"' in message.replace(" ", ""):
                    latencies.append((time.monotonic() - t0) * 1000)
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
                    "restart_delay = \"100ms\"\n"
                    f"[plugins.websocket]\nport = {ws_port}\n[plugins.jsonfile]\ndirectory = \"{work}/alerts\"\n")
        env = dict(os.environ, GUARDIAN_PLUGIN_PATH=args.plugins)
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        cmd = [guardian, "run", "--quiet", "--server", f"api={args.target} serve-http {port}",
               "--health", f"api=http://127.0.0.1:{port}/health", "--", "/usr/bin/python3",
               os.path.join(work, "client.py"), f"ws://127.0.0.1:{ws_port}/ws", f"http://127.0.0.1:{port}/health",
               str(args.rounds)]
        proc = subprocess.run(cmd, cwd=work, capture_output=True, text=True, timeout=1800, env=env)
        for line in proc.stdout.splitlines():
            if line.startswith("RESULTS "):
                return json.loads(line[len("RESULTS "):])
        sys.stderr.write(f"{guardian} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}\n")
        return []


def p99(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", required=True)
    parser.add_argument("--guardian", required=True)
    parser.add_argument("--target", required=True)
    parser.add_argument("--plugins", required=True)
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    for name in ("baseline", "guardian", "target", "plugins"):  # runs happen in a temporary directory
        setattr(args, name, os.path.abspath(getattr(args, name)))
    print(f"SIGKILL of the server -> SERVER_DOWN on a WebSocket client; {args.rounds} rounds each; load "
          f"{os.getloadavg()[0]:.1f}\n")
    print("| binary | p50 | p99 | max |")
    print("|---|---|---|---|")
    for label, binary in (("baseline: plugins in the supervisor", args.baseline),
                          ("plugin host process", args.guardian)):
        values = measure(binary, args)
        if not values:
            print(f"| {label} | failed | | |", flush=True)
            continue
        print(f"| {label} | {statistics.median(values):.1f} ms | {p99(values):.1f} ms | {max(values):.1f} ms |",
              flush=True)


if __name__ == "__main__":
    main()
