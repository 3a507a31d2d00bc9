"""Lasso from Python: sparsimony.linear_model.Lasso against scikit-learn, celer and skglm, each called as a
Python user calls it, on the problems of benches/lasso.sh (written by examples/lasso_benchmark.rs).

    bash benches/python.sh          # builds the data and the release wheel, then runs this

Every tool fits 1/(2n)||y - Xw||^2 + alpha*||w||_1 without intercept at the record's alpha and tol (the
duality gap relative to ||y||^2/n for sparsimony, scikit-learn and celer; skglm's own criterion at the same
tol), single-threaded. The time is the best of at least 3 runs after a warm-up (numba compilation), and
includes each estimator's input checks. Ratios are the tool's time over sparsimony's in the same run (above
1: sparsimony is faster); "obj-gap" is the tool's objective minus sparsimony's, relative.
"""
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from sparsimony.linear_model import Lasso

warnings.filterwarnings("ignore")
root = Path(sys.argv[1] if len(sys.argv) > 1 else "target/bench-lasso")
records = [r for r in json.loads((root / "sparsimony.json").read_text()) if r["kind"] == "single"]


def load(problem):
    d = root / problem
    y = np.load(d / "y.npy")
    if (d / "X.npy").exists():
        return np.load(d / "X.npy"), y
    shape = tuple(np.load(d / "shape.npy"))
    X = sp.csc_matrix((np.load(d / "data.npy"), np.load(d / "indices.npy"), np.load(d / "indptr.npy")), shape=shape)
    return X, y


def objective(X, y, w, alpha):
    r = y - X @ w
    return r @ r / (2 * len(y)) + alpha * np.abs(w).sum()


def tools():
    yield "sparsimony", lambda a, tol: Lasso(alpha=a, fit_intercept=False, tol=tol, max_iter=10**6)
    from sklearn.linear_model import Lasso as SkLasso

    yield "scikit-learn", lambda a, tol: SkLasso(alpha=a, fit_intercept=False, tol=tol, max_iter=10**6)
    for name, module in (("celer", "celer"), ("skglm", "skglm")):
        try:
            cls = __import__(module).Lasso
        except ImportError:
            print(f"{name} not installed: skipped", file=sys.stderr)
            continue
        yield name, lambda a, tol, cls=cls: cls(alpha=a, fit_intercept=False, tol=tol, max_iter=10**4)


def best_time(run):
    run()  # warm-up
    best, total, runs = np.inf, 0.0, 0
    while True:
        t = time.perf_counter()
        out = run()
        s = time.perf_counter() - t
        best, total, runs = min(best, s), total + s, runs + 1
        if runs >= 7 or (runs >= 3 and total > 1.0):
            return best, out


makers = list(tools())
others = [name for name, _ in makers[1:]]
print(f"{'problem':<22} {'a/amax':>6} {'sparsimony (ms)':>16} " + " ".join(f"{t + ' ratio (obj-gap)':>28}" for t in others))
for rec in records:
    X, y = load(rec["problem"])
    times, objectives = {}, {}
    for name, make in makers:
        times[name], model = best_time(lambda: make(rec["alpha"], rec["tol"]).fit(X, y))
        objectives[name] = objective(X, y, model.coef_, rec["alpha"])
    ours = objectives["sparsimony"]
    cells = [f"{times[t] / times['sparsimony']:>12.2f}x ({(objectives[t] - ours) / abs(ours):+.0e})" for t in others]
    print(f"{rec['problem']:<22} {rec['frac']:>6} {1e3 * times['sparsimony']:>16.2f} " + " ".join(f"{c:>28}" for c in cells), flush=True)
