"""Times PySINDy on the Lorenz data that `examples/sindy_benchmark.rs` wrote and prints its time as a ratio
to sparsimony's (measured in the same run by benches/sindy.sh), single-threaded, with the largest
coefficient difference between the two fits.

    pip install pysindy==2.1.0 && bash benches/sindy.sh

Both fit PySINDy's defaults: FiniteDifference(order=2), PolynomialLibrary(degree=2), STLSQ(threshold=0.1).
The best of several runs is reported for each tool; PySINDy's peak traced Python memory (tracemalloc, which
sees numpy's buffers) is reported beside sparsimony's peak heap.
"""
import json
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
