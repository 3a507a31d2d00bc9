"""Times PySINDy on the Lorenz data that `examples/sindy_benchmark.rs` wrote and prints its time as a ratio
to sparsimony's (measured in the same run by benches/sindy.sh), single-threaded, with the largest
coefficient difference between the two fits.

    pip install pysindy==2.1.0 && bash benches/sindy.sh

Both fit PySINDy's defaults: FiniteDifference(order=2), PolynomialLibrary(degree=2), STLSQ(threshold=0.1).
The best of several runs is reported for each tool; PySINDy's peak traced Python memory (tracemalloc, which
sees numpy's buffers) is reported beside sparsimony's peak heap.

Then the command line end to end, as a user times it: `sparsimony sindy --data lorenz_1000000.npy` and the
same samples as CSV (process start, reading, fit, score, printing), best of 5, with the process's peak
resident memory (the kernel's maxrss, which counts the mapped input file's pages), beside PySINDy's fit
of the same data in this run. The binary is the one benches/sindy.sh builds (argument 2).
"""
import json
import subprocess
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np
import pysindy as ps

warnings.filterwarnings("ignore")
root = Path(sys.argv[1] if len(sys.argv) > 1 else "target/bench-sindy")
ours = json.loads((root / "sparsimony.json").read_text())
dt = ours["dt"]
print(f"\nPySINDy {ps.__version__} vs sparsimony ({ours['threads']} thread(s)), best of several runs")
print(f"{'samples':>9} {'PySINDy (s)':>12} {'ours (s)':>10} {'speed-up':>9} {'PySINDy peak':>13} {'our peak':>9} {'max |dcoef|':>12}")
for run in ours["runs"]:
    n = run["n"]
    x = np.load(root / f"lorenz_{n}.npy")
    reps = 3 if n >= 1_000_000 else 10
    best = float("inf")
    for _ in range(reps):
        model = ps.SINDy()
        t0 = time.perf_counter()
        model.fit(x, t=dt)
        best = min(best, time.perf_counter() - t0)
    tracemalloc.start()
    ps.SINDy().fit(x, t=dt)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    diff = np.max(np.abs(model.coefficients().ravel() - np.array(run["coef"])))
    print(f"{n:>9} {best:>12.4f} {run['seconds']:>10.4f} {best / run['seconds']:>8.1f}x "
          f"{peak / 1e6:>10.1f} MB {run['peak_bytes'] / 1e6:>6.1f} MB {diff:>12.1e}")

binary = Path(sys.argv[2] if len(sys.argv) > 2 else "target/release/sparsimony")
n = 1_000_000
x = np.load(root / f"lorenz_{n}.npy")
pysindy = float("inf")
for _ in range(3):
    t0 = time.perf_counter()
    ps.SINDy().fit(x, t=dt)
    pysindy = min(pysindy, time.perf_counter() - t0)
fit = next(r["seconds"] for r in ours["runs"] if r["n"] == n)
print(f"\nThe command line end to end on {n} samples (best of 7), against PySINDy's fit {pysindy:.3f} s in this run")
print(f"{'input':>6} {'file':>9} {'end to end (s)':>15} {'PySINDy fit / ours':>19} {'peak RSS':>9} {'peak / file':>12}")
timer = Path(__file__).with_name("cli_time.py")
for ext in ["npy", "csv"]:
    path = root / f"lorenz_{n}.{ext}"
    cmd = [str(binary), "sindy", "--data", str(path), "--dt", str(dt), "--json"]
    r = json.loads(subprocess.run([sys.executable, str(timer), "7", *cmd], check=True,
                                  capture_output=True, text=True).stdout)
    size = path.stat().st_size
    print(f"{ext:>6} {size / 1e6:>6.1f} MB {r['seconds']:>15.4f} {pysindy / r['seconds']:>18.1f}x "
          f"{r['peak_bytes'] / 1e6:>6.1f} MB {r['peak_bytes'] / size:>11.2f}x")
print(f"(peak RSS includes the timer's own {r['floor_bytes'] / 1e6:.1f} MB high-water mark inherited at fork; "
      f"the library's fit alone: {fit:.4f} s, {pysindy / fit:.1f}x)")
