"""Times scikit-learn, celer and skglm on the problems that `examples/lasso_benchmark.rs` wrote, and prints
their times as ratios to sparsimony's (measured in the same run by benches/lasso.sh), single-threaded.

    pip install scikit-learn celer skglm pandas && bash benches/lasso.sh

Every tool solves 1/(2n)||y - Xw||^2 + alpha*||w||_1 without intercept, on the same dense (numpy) or
sparse (scipy.sparse CSC) data. scikit-learn and celer stop on the duality gap relative to ||y||^2/n (the
record's tol: 1e-8 for single fits, 1e-6 for paths, as sparsimony); skglm stops on its optimality-violation
criterion at the same tol, so every tool's accuracy is reported beside its time: "obj-gap" is the tool's
objective minus sparsimony's, relative to sparsimony's (positive: less accurate than sparsimony; for a path,
the largest over its 100 alphas).

Paths: scikit-learn's lasso_path, celer's celer_path and skglm's Lasso.path on sparsimony's grid of 100
alphas (alpha_max down to 1e-3 alpha_max), each warm-started along the grid.

Each time is the best of at least 3 runs (up to 7 while they take under a second in all), after a warm-up
run (numba compilation).
"""
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import scipy.sparse as sp

warnings.filterwarnings("ignore")
root = Path(sys.argv[1] if len(sys.argv) > 1 else "target/bench-lasso")
ours = json.loads((root / "sparsimony.json").read_text())


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


def single_fits():
    from sklearn.linear_model import Lasso as SkLasso
    yield "scikit-learn", lambda a, tol: SkLasso(alpha=a, fit_intercept=False, tol=tol, max_iter=10**6)
    try:
        from celer import Lasso as CelerLasso
        yield "celer", lambda a, tol: CelerLasso(alpha=a, fit_intercept=False, tol=tol, max_iter=10**4)
    except ImportError:
        print("celer not installed: skipped", file=sys.stderr)
    try:
        from skglm import Lasso as SkglmLasso
        yield "skglm", lambda a, tol: SkglmLasso(alpha=a, fit_intercept=False, tol=tol, max_iter=10**4)
    except ImportError:
        print("skglm not installed: skipped", file=sys.stderr)


def paths():
    """Each tool's path: a function (X, y, alphas, tol) -> coefficients of shape (len(alphas), d)."""
    from sklearn.linear_model import lasso_path

    yield "scikit-learn", lambda X, y, alphas, tol: lasso_path(X, y, alphas=alphas, tol=tol, max_iter=10**6)[1].T
    try:
        from celer import celer_path

        yield "celer", lambda X, y, alphas, tol: celer_path(
            X, y, "lasso", alphas=alphas, tol=tol, max_iter=100, max_epochs=10**6
        )[1].T
    except ImportError:
        pass
    try:
        from skglm import Lasso as SkglmLasso

        yield "skglm", lambda X, y, alphas, tol: SkglmLasso(fit_intercept=False, tol=tol, max_iter=10**4).path(
            X, y, alphas
        )[1].T
    except ImportError:
        pass


def best_time(run):
    run()  # warm-up (numba compilation)
    best, total, runs = np.inf, 0.0, 0
    while True:
        t = time.perf_counter()
        out = run()
        s = time.perf_counter() - t
        best, total, runs = min(best, s), total + s, runs + 1
        if runs >= 7 or (runs >= 3 and total > 1.0):
            return best, out


single, path_tools = list(single_fits()), dict(paths())
names = [t for t, _ in single]
print(f"{'problem':<22} {'a/amax':>6} {'sparsimony (s)':>15} " + " ".join(f"{t:>24}" for t in names))
print(f"{'':<22} {'':>6} {'':>15} " + " ".join(f"{'time ratio (obj-gap)':>24}" for _ in names))
worst = {t: None for t in names}
for rec in ours:
    X, y = load(rec["problem"])
    row = []
    for tool, make in single:
        if rec["kind"] == "single":
            best, m = best_time(lambda: make(rec["alpha"], rec["tol"]).fit(X, y))
            obj = objective(X, y, m.coef_, rec["alpha"])
            rel = (obj - rec["objective"]) / abs(rec["objective"])
        else:
            alphas = np.array(rec["alphas"])
            best, coefs = best_time(lambda: path_tools[tool](X, y, alphas, rec["tol"]))
            rel = max(
                (objective(X, y, w, a) - o) / abs(o) for w, a, o in zip(coefs, alphas, rec["objectives"])
            )
        ratio = best / rec["seconds"]
        worst[tool] = ratio if worst[tool] is None else min(worst[tool], ratio)
        row.append(f"{ratio:>14.2f}x ({rel:+.0e})")
    print(f"{rec['problem']:<22} {rec['frac']:>6} {rec['seconds']:>15.4e} " + " ".join(f"{c:>24}" for c in row),
          flush=True)
print("ratio = tool time / sparsimony time (> 1: sparsimony is faster); smallest ratio per tool: "
      + ", ".join(f"{t} {w:.2f}x" for t, w in worst.items()))

# End to end, as users run each tool: `sparsimony regress` from the command line against a Python script
# (interpreter start, imports, reading the files, the fit, printing the coefficients), from .npy and from
# CSV (numpy.load; pandas.read_csv, the usual fast reader), each timed process start to exit by
# cli_time.py (best of 5). Needs the binary's path as the second argument.
if len(sys.argv) > 2:
    import subprocess

    binary = sys.argv[2]
    timer = Path(__file__).with_name("cli_time.py")

    def timed(cmd):
        out = subprocess.run([sys.executable, str(timer), "5", *cmd], check=True, capture_output=True, text=True)
        return json.loads(out.stdout)

    readers = {
        "npy": "X = np.load('{d}/X.npy'); y = np.load('{d}/y.npy')",
        "csv": "X = pd.read_csv('{d}/X.csv').to_numpy(); y = pd.read_csv('{d}/y.csv').to_numpy().ravel()",
    }
    scripts = {"scikit-learn": "from sklearn.linear_model import Lasso", "celer": "from celer import Lasso",
               "skglm": "from skglm import Lasso"}
    scripts = {t: s for t, s in scripts.items() if t in names}
    print(f"\nEnd to end (process start to exit, best of 5), alpha = 0.1 alpha_max, tol = 1e-8:")
    print(f"{'problem':<18} {'input':>5} {'file':>9} {'sparsimony (s)':>15} {'peak RSS':>9} "
          + " ".join(f"{t + ' / ours':>20}" for t in scripts))
    for problem in ["10000x100_rho0.6", "100x10000_rho0.6"]:
        rec = next(r for r in ours if r["problem"] == problem and r["frac"] == 0.1)
        d = root / problem
        X, y = load(problem)
        if not (d / "X.csv").exists():
            header = ",".join(f"x{j}" for j in range(X.shape[1]))
            np.savetxt(d / "X.csv", X, delimiter=",", header=header, comments="", fmt="%.17g")
            np.savetxt(d / "y.csv", y, header="y", comments="", fmt="%.17g")
        for ext in ["npy", "csv"]:
            ours_cmd = [binary, "regress", "--x", str(d / f"X.{ext}"), "--y", str(d / f"y.{ext}"), "--alpha",
                        repr(rec["alpha"]), "--no-intercept", "--tol", "1e-8", "--max-iter", "1000000", "--json"]
            mine = timed(ours_cmd)
            row = []
            for tool, imp in scripts.items():
                script = (f"import numpy as np, pandas as pd; {imp}; " + readers[ext].format(d=d)
                          + f"; m = Lasso(alpha={rec['alpha']!r}, fit_intercept=False, tol=1e-8, max_iter=10**6)"
                          + ".fit(X, y); print(m.coef_.tolist())")
                theirs = timed([sys.executable, "-c", script])
                row.append(f"{theirs['seconds'] / mine['seconds']:>19.2f}x")
            size = (d / f"X.{ext}").stat().st_size
            print(f"{problem:<18} {ext:>5} {size / 1e6:>6.1f} MB {mine['seconds']:>15.4f} "
                  f"{mine['peak_bytes'] / 1e6:>6.1f} MB " + " ".join(row), flush=True)
