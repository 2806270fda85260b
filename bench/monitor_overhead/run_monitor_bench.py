#!/usr/bin/python3
"""guardian's monitor against a psutil monitor of the same tree, in the same run.

1. Cost of one sample of a tree of 10, 100 and 1000 processes (monitor_sample_bench):
   guardian's check through this host's process-tree backend, its per-process walk with
   open files and IO, and psutil_monitor.py's equivalent samples; all asleep or some of
   them waking every millisecond; samples back to back and 5 ms apart. With --vm, also the
   cgroup v2 backend inside the bare VM, tests/vm/bare/bare-vm (software-emulated: compare ratios only).
2. A run at each level (pinned with --level) supervising a 100-process tree: guardian's own
   CPU and peak RSS against psutil_monitor.py sampling the same tree at the same interval,
   started on the same tree at the same time. Runs last --seconds (default 20; IDLE, whose
   checks are 30 s apart, runs 3x longer), with --no-limits (the monitor alone) and with
   this host's default backend (the /proc watchdog, which has its own 200 ms sampling).

Prints numbers; asserts nothing.
  run_monitor_bench.py --build BUILD_DIR [--seconds 20] [--vm] [--skip-sample] [--skip-run]
                       [--levels normal,idle] [--no-limits-only]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PSUTIL = os.path.join(HERE, "psutil_monitor.py")
VM_RUN = os.path.normpath(os.path.join(HERE, "../../tests/vm/bare/bare-vm"))  # the project's own VM
LEVELS = [("idle", 30.0), ("normal", 5.0), ("intensive", 1.0), ("critical", 0.5)]


def sample_costs(build, sizes, gap_ms):
    """sizes: (processes, how many of them wake every millisecond)"""
    bench = os.path.join(build, "bench/monitor_overhead/monitor_sample_bench")
    rows = []
    for n, busy in sizes:
        out = subprocess.run([bench, str(n), PSUTIL, "--busy", str(busy), "--gap-ms", str(gap_ms)], capture_output=True, text=True,
                             cwd=tempfile.gettempdir())
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return rows


def vm_sample_costs(build, sizes):
    bench = os.path.join(build, "bench/monitor_overhead/monitor_sample_bench")
    script = "; ".join(f"{bench} {n} {PSUTIL} --cgroup" for n in sizes)
    cmd = [VM_RUN, "--mem", "1G", "--timeout", "1500", "--copy", bench, "--copy", PSUTIL,
           "--copy", "/usr/bin/python3.11", "--copy", "/usr/lib/python3.11",
           "--copy", "/usr/lib/python3/dist-packages/psutil", "--env", "PYTHON=/usr/bin/python3.11",
           "--env", "PYTHONPATH=/usr/lib/python3/dist-packages", "--env", "MONITOR_BENCH_WORK=2000", "--cwd", "/", "--", "sh", "-c", script]
    out = subprocess.run(cmd, capture_output=True, text=True)
    rows = []
    for line in out.stdout.splitlines():
        if line.startswith("{"):
            rows.append(json.loads(line))
    if not rows:
        print("VM run failed:", out.stderr[-2000:], file=sys.stderr)
    return rows


def print_sample_table(title, rows):
    print(f"\n{title}")
    print(f"{'procs':>6} {'busy':>5} {'guardian check':>15} {'tree only':>10} {'walk+fds+io':>12} "
          f"{'psutil basic':>13} {'psutil full':>12} {'ratio check':>12} {'ratio walk':>11}")
    for r in rows:
        print(f"{r['processes']:>6} {r.get('busy', 0):>5} {r['guardian_check_us']:>12.0f} us "
              f"{r['guardian_tree_sample_us']:>7.0f} us "
              f"{r['guardian_walk_files_io_us']:>9.0f} us {r.get('psutil_basic_us', float('nan')):>10.0f} us "
              f"{r.get('psutil_full_us', float('nan')):>9.0f} us {r.get('ratio_check', float('nan')):>11.1f}x "
              f"{r.get('ratio_walk', float('nan')):>10.1f}x")


def children_of(pid):
    out = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def one_run(build, level, interval, seconds, extra_flags, guardian=None):
    guardian = guardian or os.path.join(build, "bin/guardian")
    target = os.path.join(build, "tests/target/guardian-target")
    with tempfile.TemporaryDirectory() as work:
        report = os.path.join(work, "report.json")
        # 100 processes: a shell running two fork-trees (1 + 49 and 1 + 48); the children end
        # first so each tree's root reaps them itself.
        tree = f'"{target}" fork-tree 1 {{}} {seconds + 2} {seconds + 3}'
        script = f"{tree.format(49)} & {tree.format(48)}; wait"
        cmd = [guardian, "run", "--level", level, "--quiet", "--report", report, *extra_flags, "--",
               "/bin/sh", "-c", script]
        proc = subprocess.Popen(cmd, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        ready = 0
        for line in proc.stdout:
            ready += line.strip() == "ready"
            if ready == 2:
                break
        root = next(p for p in children_of(proc.pid) if cmdline(p).startswith("/bin/sh -c"))
        ps = subprocess.run([sys.executable, PSUTIL, "loop", "--root", str(root), "--interval", str(interval),
                             "--duration", str(seconds), "--disk", work], capture_output=True, text=True)
        proc.stdout.read()
        proc.wait()
        with open(report) as f:
            section = json.load(f)["monitor"]
        psutil_result = json.loads(ps.stdout)
        cost = section["cost"]
        watched_s = cost["watched_ms"] / 1000.0
        return {
            "level": level,
            "processes": section["peak"]["processes"],
            "checks": section["checks"],
            "monitor_cpu_percent": 100.0 * cost["check_cpu_usec"] / 1e6 / watched_s,
            "guardian_cpu_percent": 100.0 * cost["guardian_cpu_usec_while_watching"] / 1e6 / watched_s,
            "guardian_rss_mib": cost["guardian_max_rss_bytes"] / 2**20,
            "check_us": cost["check_cpu_usec_mean"],
            "psutil_samples": psutil_result["samples"],
            "psutil_us_per_sample": 1e6 * psutil_result["cpu_seconds"] / max(1, psutil_result["samples"]),
            "psutil_cpu_percent": 100.0 * psutil_result["cpu_seconds"] / psutil_result["wall_seconds"],
            "psutil_rss_mib": psutil_result["max_rss_bytes"] / 2**20,
            "seconds": watched_s,
        }


def print_run_table(title, rows):
    print(f"\n{title}")
    print(f"{'level':>10} {'procs':>5} {'secs':>5} {'checks':>6} {'us/check':>9} {'monitor %core':>14} {'guardian %core':>15} "
          f"{'RSS':>8} {'psutil %core':>13} {'psutil RSS':>11} {'ratio':>7} {'psutil us/sample':>17} {'per check':>10}")
    for r in rows:
        ratio = r["psutil_cpu_percent"] / r["guardian_cpu_percent"] if r["guardian_cpu_percent"] > 0 else float("inf")
        per_check = r["psutil_us_per_sample"] / r["check_us"] if r["check_us"] > 0 else float("inf")
        print(f"{r['level'].upper():>10} {r['processes']:>5} {r['seconds']:>5.0f} {r['checks']:>6} {r['check_us']:>9.0f} "
              f"{r['monitor_cpu_percent']:>13.4f}% {r['guardian_cpu_percent']:>14.4f}% {r['guardian_rss_mib']:>5.1f} MiB "
              f"{r['psutil_cpu_percent']:>12.4f}% {r['psutil_rss_mib']:>7.1f} MiB {ratio:>6.1f}x "
              f"{r['psutil_us_per_sample']:>14.0f} us {per_check:>9.1f}x")
    print("  us/check: guardian's whole check (sample, thresholds, snapshot ring; the open-files/IO walk at report"
          " time included); ratio: psutil's CPU over all of guardian's")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", required=True)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--vm", action="store_true")
    parser.add_argument("--skip-sample", action="store_true")
    parser.add_argument("--skip-run", action="store_true")
    parser.add_argument("--levels", default="idle,normal,intensive,critical", help="runs: which levels")
    parser.add_argument("--no-limits-only", action="store_true", help="runs: only the monitor alone")
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    print(f"host: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}; psutil {subprocess.run([sys.executable, '-c', 'import psutil; print(psutil.__version__)'], capture_output=True, text=True).stdout.strip()}")
    if not args.skip_sample:
        sizes = [(10, 0), (100, 0), (1000, 0), (10, 9), (100, 10)]
        print_sample_table("Cost of one sample (CPU time, median of 7 batches), process-tree backend (this host), "
                           "samples back to back", sample_costs(build, sizes, 0))
        print_sample_table("The same, samples 5 ms apart (cold caches; busy processes have run between samples)",
                           sample_costs(build, sizes, 5))
        if args.vm:
            print_sample_table("Cost of one sample, cgroup v2 backend (QEMU TCG VM: everything ~10x slower, "
                               "compare ratios)", vm_sample_costs(build, [10, 100]))
    if not args.skip_run:
        backends = [("--no-limits (the monitor alone)", ["--no-limits"]),
                    ("default backend (this host: /proc watchdog, 200 ms enforcement ticks)", [])]
        wanted = args.levels.split(",")
        for title, flags in backends[:1] if args.no_limits_only else backends:
            rows = []
            for level, interval in [(name, interval) for name, interval in LEVELS if name in wanted]:
                seconds = args.seconds * 3 if level == "idle" else args.seconds
                rows.append(one_run(build, level, interval, seconds, flags))
            print_run_table(f"Run with a 100-process tree, {title}; psutil samples the same tree at the level's "
                            f"interval", rows)


if __name__ == "__main__":
    main()
