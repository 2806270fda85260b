#!/usr/bin/python3
"""What guardian costs, row by row (issue 17), for two guardian binaries in the same run —
a baseline (e.g. the main branch's) and the one under test — so every row is a ratio
measured side by side on the same shared machine:

  1. start-up: `guardian run --quiet -- true` against `timeout 60 true` (hyperfine, medians);
  2. guardian's whole-process CPU at NORMAL with --no-limits (the monitor alone), and with
     the default ceilings (this host: the /proc watchdog), 100 sleeping processes;
  3. a psutil monitor of the same tree at 500 ms against guardian pinned at CRITICAL;
  4. a CPU breach starting at NORMAL: time until the monitor is at CRITICAL;
  5. idle: guardian supervising uvicorn (run and serve --health), CPU per minute, against
     supervisord (Debian's `supervisor`) supervising the same uvicorn;
  6. the watchdog's memory-ceiling kill: how far past --memory 64M a fast allocator gets;
  7. the watchdog's CPU duty cycle: a spinner's average under --cpu 5% and 10%.

Prints numbers; asserts nothing.
  cost_table.py --build BUILD [--baseline GUARDIAN_BINARY] [--seconds 60] [--rows 1,2,3,4,5]
                [--runs 200] [--breaches 5]
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
import time
from datetime import datetime

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "monitor_overhead"))
import run_monitor_bench  # noqa: E402  (one_run: a pinned-level run beside psutil)

PYTHON = "/usr/bin/python3"
WEBAPP = os.path.normpath(os.path.join(HERE, "..", "..", "examples", "webapp"))


def startup(binaries, runs):
    with tempfile.TemporaryDirectory() as work:
        out = os.path.join(work, "hyperfine.json")
        cmd = ["hyperfine", "-N", "--warmup", "20", "--runs", str(runs), "--style", "none", "--export-json", out,
               "--command-name", "timeout", "timeout 60 true"]
        for name, binary in binaries:
            cmd += ["--command-name", name, f"{binary} run --quiet -- true"]
        subprocess.run(cmd, cwd=work, check=True, stdout=subprocess.DEVNULL)
        with open(out) as f:
            results = {r["command"]: r for r in json.load(f)["results"]}
    base = results["timeout"]["median"] * 1000
    print(f"\n1. start-up, hyperfine -N, {runs} runs, medians: timeout 60 true = {base:.1f} ms")
    for name, _ in binaries:
        r = results[name]
        print(f"   {name:10} guardian run --quiet -- true = {r['median'] * 1000:6.1f} ms (min {r['min'] * 1000:.1f}) "
              f"= {r['median'] * 1000 / base:.2f}x timeout; user+sys {1000 * (r['user'] + r['system']):.1f} ms")
    if len(binaries) == 2:  # the same-run comparison the noise allows: this ÷ baseline
        old, new = results[binaries[0][0]], results[binaries[1][0]]
        print(f"   this / baseline: median {new['median'] / old['median']:.2f}, min {new['min'] / old['min']:.2f}, "
              f"user+sys {(new['user'] + new['system']) / (old['user'] + old['system']):.2f}")


def level_runs(build, binaries, seconds):
    rows = []
    for title, level, interval, flags in [("NORMAL, --no-limits", "normal", 5.0, ["--no-limits"]),
                                          ("NORMAL, default ceilings", "normal", 5.0, []),
                                          ("CRITICAL, default ceilings", "critical", 0.5, [])]:
        for name, binary in binaries:
            r = run_monitor_bench.one_run(build, level, interval, seconds, flags, guardian=binary)
            rows.append((title, name, r))
    print(f"\n2/3. 100 sleeping processes, {seconds} s per run, whole-process CPU of guardian (RUSAGE_SELF); "
          "psutil samples the same tree at the level's interval in the same run")
    print(f"   {'run':28} {'binary':10} {'checks':>6} {'guardian %core':>15} {'psutil %core':>13} {'psutil/guardian':>16}")
    for title, name, r in rows:
        ratio = r["psutil_cpu_percent"] / r["guardian_cpu_percent"] if r["guardian_cpu_percent"] > 0 else float("inf")
        print(f"   {title:28} {name:10} {r['checks']:>6} {r['guardian_cpu_percent']:>14.3f}% "
              f"{r['psutil_cpu_percent']:>12.3f}% {ratio:>15.1f}x")


def iso_ns(ts):
    return int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1e9)


def breach_latency(build, binaries, count):
    target = os.path.join(build, "tests/target/guardian-target")
    print(f"\n4. CPU breach → CRITICAL from NORMAL (--cpu 1, thresholds 10 %/20 % of it so that a 2-thread spinner "
          f"crosses them on a loaded machine; the spinner starts 4 s into the run), {count} runs each")
    for name, binary in binaries:
        latencies = []
        for _ in range(count):
            with tempfile.TemporaryDirectory() as work:
                with open(os.path.join(work, "guardian.toml"), "w") as f:
                    f.write('[thresholds]\ncpu_warning = "10%"\ncpu_critical = "20%"\n')
                stamp = os.path.join(work, "stamp")
                script = f"sleep 4; date +%s%N > {stamp}; exec {target} spin 2 16"
                subprocess.run([binary, "run", "--quiet", "--cpu", "1", "--timeout", "20s", "--", "/bin/sh", "-c",
                                script], cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                start = int(open(stamp).read())
                events = [json.loads(line) for d in os.listdir(os.path.join(work, ".guardian/runs"))
                          for line in open(os.path.join(work, ".guardian/runs", d, "events.jsonl"))]
                critical = [e for e in events if e.get("event") == "level.changed"
                            and str(e.get("context", {}).get("to", "")).lower() == "critical"]
                if critical:
                    latencies.append((iso_ns(critical[0]["ts"]) - start) / 1e6)
        if latencies:
            print(f"   {name:10} median {statistics.median(latencies):7.0f} ms, max {max(latencies):7.0f} ms, "
                  f"reached {len(latencies)}/{count}: {', '.join(f'{x:.0f}' for x in latencies)}")
        else:
            print(f"   {name:10} never reached CRITICAL in {count} runs")


def cpu_ns(pid):
    """CPU time of every thread of `pid` (schedstat, nanoseconds: stat's ticks are too coarse)."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                total += int(f.read().split()[0])
        except OSError:
            pass
    return total


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def idle_supervisors(binaries, seconds):
    print(f"\n5. idle uvicorn (examples/webapp), the supervisor's own CPU (all threads, schedstat) over {seconds} s "
          "after a 5 s settle, per minute")

    def measure(name, argv, pid_of=None, env=None, cwd=None, port=None):
        port = port or free_port()
        argv = [a.replace("{port}", str(port)) for a in argv]
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=cwd, env=env,
                                start_new_session=True)
        try:
            if not wait_http(port):
                print(f"   {name:34} uvicorn did not come up")
                return
            time.sleep(5)
            pid = pid_of() if pid_of else proc.pid
            before = cpu_ns(pid)
            time.sleep(seconds)
            used = cpu_ns(pid) - before
            print(f"   {name:34} {used / 1e6 * 60 / seconds:8.1f} ms per minute")
        finally:
            os.killpg(proc.pid, 15)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                proc.wait()

    uvicorn = [PYTHON, "-m", "uvicorn", "app:app", "--app-dir", WEBAPP, "--port", "{port}"]
    with tempfile.TemporaryDirectory() as work:
        for name, binary in binaries:
            measure(f"{name}: guardian run", [binary, "run", "--quiet", "--", *uvicorn], cwd=work)
            measure(f"{name}: guardian serve --health", [binary, "serve", "--health",
                                                         "http://127.0.0.1:{port}/health", "--", *uvicorn], cwd=work)
        if shutil.which("supervisord"):
            conf = os.path.join(work, "supervisord.conf")
            with open(conf, "w") as f:
                f.write(f"[supervisord]\nnodaemon=true\nlogfile={work}/supervisord.log\npidfile={work}/sd.pid\n"
                        f"[program:api]\ncommand={' '.join(uvicorn)}\nautorestart=true\n")
            # supervisord is started directly (its pid is the supervisor's); its config names the port,
            # which measure() substitutes into argv only: write it with the placeholder replaced.
            port = free_port()
            text = open(conf).read().replace("{port}", str(port))
            with open(conf, "w") as f:
                f.write(text)
            measure("supervisord (Debian supervisor)", ["supervisord", "-c", conf], cwd=work, port=port)
        else:
            print("   supervisord: not installed (apt-get install supervisor)")


def memory_overshoot(build, binaries, count):
    helper = os.path.join(build, "bench/limits_ceilings/limits_breach_helper")
    if not os.path.exists(helper):
        print("\n6. memory overshoot: build limits_breach_helper (-DGUARDIAN_BUILD_BENCH=ON)")
        return
    print(f"\n6. memory-ceiling kill on the watchdog, --memory 64M, the payload allocating 1 MiB per ms past the "
          f"ceiling (limits_breach_helper), {count} runs each: how far it got (MiB) and exit codes")
    for name, binary in binaries:
        reached, codes, rates = [], [], []
        for _ in range(count):
            with tempfile.TemporaryDirectory() as work:
                stamp = os.path.join(work, "stamp")
                code = subprocess.run([binary, "run", "--quiet", "--limits-backend", "watchdog", "--memory", "64M",
                                       "--", helper, "64", stamp, "256"], cwd=work, stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL).returncode
                cross, last, mb = open(stamp).read().replace("\0", "").split()[:3]
                reached.append(int(mb))
                codes.append(code)
                if int(mb) > 64 and int(last) > int(cross):
                    rates.append((int(mb) - 64) / ((int(last) - int(cross)) / 1e9))
        over = [100.0 * (r - 64) / 64 for r in reached]
        print(f"   {name:10} median {statistics.median(reached)} MiB (+{statistics.median(over):.0f} %), max "
              f"{max(reached)}; fill past the ceiling ~{statistics.median(rates) if rates else 0:.0f} MiB/s; "
              f"exit {sorted(set(codes))}")


def duty_cycle_accuracy(build, binaries, seconds=10):
    target = os.path.join(build, "tests/target/guardian-target")
    print(f"\n7. CPU duty cycle on the watchdog: a 2-thread spinner for {seconds} s under --cpu 5% and 10% of a core; "
          "the tree's CPU (the report's usage_usec) over the run's wall time")
    for share in ("5%", "10%"):
        for name, binary in binaries:
            with tempfile.TemporaryDirectory() as work:
                report = os.path.join(work, "report.json")
                start = time.monotonic()
                subprocess.run([binary, "run", "--quiet", "--limits-backend", "watchdog", "--cpu", share, "--report",
                                report, "--", target, "spin", "2", str(seconds)], cwd=work,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                wall = time.monotonic() - start
                usage = json.load(open(report))["enforcement"]["cpu"]["usage_usec"] / 1e6
                print(f"   --cpu {share:4} {name:10} {100 * usage / wall:5.1f} % of a core")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", required=True)
    parser.add_argument("--baseline", help="a second guardian binary measured in the same run (e.g. main's)")
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--rows", default="1,2,4,5,6,7")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--breaches", type=int, default=5)
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    binaries = ([("baseline", os.path.abspath(args.baseline))] if args.baseline else []) + \
        [("this", os.path.join(build, "bin/guardian"))]
    rows = set(args.rows.split(","))
    print(f"host: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f} at start")
    if "1" in rows:
        startup(binaries, args.runs)
    if "2" in rows or "3" in rows:
        level_runs(build, binaries, args.seconds)
    if "4" in rows:
        breach_latency(build, binaries, args.breaches)
    if "5" in rows:
        idle_supervisors(binaries, args.seconds)
    if "6" in rows:
        memory_overshoot(build, binaries, args.breaches * 2)
    if "7" in rows:
        duty_cycle_accuracy(build, binaries)
    print(f"\nload {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
