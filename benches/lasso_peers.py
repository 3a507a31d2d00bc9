"""Times scikit-learn, celer and skglm on the problems that `examples/lasso_benchmark.rs` wrote, and prints
their times as ratios to sparsimony's (measured in the same run by benches/lasso.sh), single-threaded.

    pip install scikit-learn==1.7.2 celer skglm && bash benches/lasso.sh

Every tool solves 1/(2n)||y - Xw||^2 + alpha*||w||_1 without intercept. scikit-learn and celer stop on the
duality gap relative to ||y||^2/n (tol=1e-8, as sparsimony); skglm stops on its optimality-violation
criterion (tol=1e-8), so its accuracy is reported beside its time: "obj-gap" is the tool's objective minus
sparsimony's, relative to sparsimony's (positive: less accurate than sparsimony).
"""
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")
root = Path(sys.argv[1] if len(sys.argv) > 1 else "target/bench-lasso")
ours = json.loads((root / "sparsimony.json").read_text())


def objective(X, y, w, alpha):
    r = y - X @ w
    return r @ r / (2 * len(y)) + alpha * np.abs(w).sum()


def solvers():
    from sklearn.linear_model import Lasso as SkLasso
    yield "scikit-learn", lambda a: SkLasso(alpha=a, fit_intercept=False, tol=1e-8, max_iter=10**6)
    try:
        from celer import Lasso as CelerLasso
        yield "celer", lambda a: CelerLasso(alpha=a, fit_intercept=False, tol=1e-8, max_iter=10**4)
    except ImportError:
        print("celer not installed: skipped", file=sys.stderr)
    try:
        from skglm import Lasso as SkglmLasso
        yield "skglm", lambda a: SkglmLasso(alpha=a, fit_intercept=False, tol=1e-8, max_iter=10**4)
    except ImportError:
        print("skglm not installed: skipped", file=sys.stderr)


tools = list(solvers())
print(f"{'problem':<22} {'a/amax':>6} {'sparsimony (s)':>15} " + " ".join(f"{t:>24}" for t, _ in tools))
print(f"{'':<22} {'':>6} {'':>15} " + " ".join(f"{'time ratio (obj-gap)':>24}" for _ in tools))
worst = {t: 0.0 for t, _ in tools}
for rec in ours:
    X = np.load(root / rec["problem"] / "X.npy")
    y = np.load(root / rec["problem"] / "y.npy")
    row = []
    for tool, make in tools:
        make(rec["alpha"]).fit(X, y)  # warm-up (numba compilation)
        best = np.inf
        for _ in range(3):
            m = make(rec["alpha"])
            t = time.perf_counter()
            m.fit(X, y)
            best = min(best, time.perf_counter() - t)
        obj = objective(X, y, m.coef_, rec["alpha"])
        rel = (obj - rec["objective"]) / abs(rec["objective"])
        ratio = best / rec["seconds"]
        worst[tool] = min(worst[tool], ratio) if worst[tool] else ratio
        row.append(f"{ratio:>14.2f}x ({rel:+.0e})")
    print(f"{rec['problem']:<22} {rec['frac']:>6} {rec['seconds']:>15.4e} " + " ".join(f"{c:>24}" for c in row))
print("ratio = tool time / sparsimony time (> 1: sparsimony is faster); smallest ratio per tool: "
      + ", ".join(f"{t} {w:.2f}x" for t, w in worst.items()))
