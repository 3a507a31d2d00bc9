"""Times a command as a user meets it, process start to exit: the best wall time of N runs and the largest
peak resident memory (the kernel's maxrss of the child, which counts the pages of memory-mapped input
files it touched). Standard library only, and run as its own small process, because a child forked from a
large process (numpy, PySINDy) inherits that process's memory high-water mark. Prints JSON:
{"seconds", "peak_bytes", "floor_bytes"}, where floor_bytes is what the same measurement gives for
`true`, the interpreter's own share of every figure.

    python3 benches/cli_time.py N COMMAND [ARGS...]
"""
import json
import os
import shutil
import subprocess
import sys
import time


def run(argv):
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(p.pid, 0)
    seconds = time.perf_counter() - t0
    if status != 0:
        sys.exit(f"{argv[0]} failed: {p.stderr.read().decode()}")
    return seconds, usage.ru_maxrss * 1024


n, argv = int(sys.argv[1]), sys.argv[2:]
best, peak = float("inf"), 0
for _ in range(n):
    seconds, rss = run(argv)
    best, peak = min(best, seconds), max(peak, rss)
_, floor = run([shutil.which("true") or "/bin/true"])
print(json.dumps({"seconds": best, "peak_bytes": peak, "floor_bytes": floor}))
