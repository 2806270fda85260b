#!/usr/bin/python3
"""The approach guardian's monitor replaces: a Python/psutil monitor of a process tree (as
the seed project's ProgressiveMonitor did it), sampling the same figures as one guardian
snapshot. Used by run_monitor_bench.py; prints JSON on stdout.

  psutil_monitor.py per-sample --root PID --iterations K [--disk DIR] [--gap-ms MS]
      CPU time of one sample (median of batches of samples --gap-ms apart), "basic" (cpu, memory, threads of every
      process + host cpu/memory/disk/PSI, like guardian's every check) and "full" (+ open
      files and IO of every process, like guardian's report-time walk).
  psutil_monitor.py loop --root PID --interval S --duration S [--disk DIR]
      Samples ("basic") every S seconds for a while; prints its own CPU time and peak RSS
      measured from after the first sample (imports and start-up excluded).
"""
import argparse
import json
import resource
import statistics
import time

import psutil


def sample(root, full, disk):
    try:
        procs = [root] + root.children(recursive=True)
    except psutil.NoSuchProcess:
        procs = []
    cpu = memory = threads = fds = read_bytes = write_bytes = count = 0
    for p in procs:
        try:
            with p.oneshot():
                times = p.cpu_times()
                cpu += times.user + times.system
                memory += p.memory_info().rss
                threads += p.num_threads()
                if full:
                    fds += p.num_fds()
                    io = p.io_counters()
                    read_bytes += io.read_bytes
                    write_bytes += io.write_bytes
            count += 1
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    host_cpu = psutil.cpu_percent(None)
    available = psutil.virtual_memory().available
    used = psutil.disk_usage(disk).percent
    pressure = {}
    for resource_name in ("cpu", "memory", "io"):  # psutil has no PSI: read the files
        try:
            with open(f"/proc/pressure/{resource_name}") as f:
                pressure[resource_name] = f.read()
        except OSError:
            pass
    return count, cpu, memory, threads, fds, read_bytes, write_bytes, host_cpu, available, used, pressure


def per_sample(args):
    root = psutil.Process(args.root)
    out = {}
    for name, full in (("basic", False), ("full", True)):
        for _ in range(3):
            sample(root, full, args.disk)
        batches = []
        for _ in range(7):
            spent = 0
            for _ in range(args.iterations):
                if args.gap_ms > 0:
                    time.sleep(args.gap_ms / 1000.0)
                start = time.process_time_ns()
                count = sample(root, full, args.disk)[0]
                spent += time.process_time_ns() - start
            batches.append(spent / args.iterations / 1000.0)
        out[name + "_us"] = statistics.median(batches)
        out["processes"] = count
    print(json.dumps(out))


def loop(args):
    root = psutil.Process(args.root)
    sample(root, False, args.disk)
    start_cpu = time.process_time()
    start = time.monotonic()
    samples = 0
    next_at = start
    end = start + args.duration
    while True:
        next_at += args.interval
        if next_at > end:
            break
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        sample(root, False, args.disk)
        samples += 1
    if end > time.monotonic():
        time.sleep(end - time.monotonic())
    cpu = time.process_time() - start_cpu
    wall = time.monotonic() - start
    print(json.dumps({"cpu_seconds": cpu, "wall_seconds": wall, "samples": samples,
                      "max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["per-sample", "loop"])
    parser.add_argument("--root", type=int, required=True)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--disk", default=".")
    parser.add_argument("--gap-ms", type=float, default=0.0, help="per-sample: time between two samples")
    args = parser.parse_args()
    per_sample(args) if args.what == "per-sample" else loop(args)


if __name__ == "__main__":
    main()
