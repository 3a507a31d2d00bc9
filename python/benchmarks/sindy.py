"""SINDy from Python: sparsimony.sindy against PySINDy on Lorenz trajectories of 10^4 to 10^6 samples, each
called as a PySINDy user calls it, single-threaded, in the same run.

    pip install pysindy==2.1.0 && bash benches/python.sh

The data: the Lorenz system (sigma 10, rho 28, beta 8/3) from (-8, 8, 27), sampled every dt = 0.002 by SciPy's
DOP853 (rtol 1e-10), the samples as benches/sindy.sh uses them. Both tools fit PySINDy's defaults:
FiniteDifference(order=2), PolynomialLibrary(degree=2), STLSQ(threshold=0.1); a second row per size bags
an ensemble of 20 STLSQ fits (EnsembleOptimizer(bagging=True, n_models=20)), whose subsamples differ
between the tools (so the coefficients are compared on the plain fit only). The time is the best of
several runs after a warm-up, and includes each tool's input checks; the ratio is PySINDy's time over
sparsimony's (above 1: sparsimony is faster).
"""
import time
import warnings

import numpy as np
import pysindy
from scipy.integrate import solve_ivp

import sparsimony.sindy as ours

warnings.filterwarnings("ignore")
DT = 0.002


def lorenz(_, s):
    return [10.0 * (s[1] - s[0]), s[0] * (28.0 - s[2]) - s[1], s[0] * s[1] - 8.0 / 3.0 * s[2]]


def trajectory(n):
    t = np.arange(n) * DT
    return solve_ivp(lorenz, (0, t[-1]), [-8.0, 8.0, 27.0], t_eval=t, method="DOP853", rtol=1e-10, atol=1e-10).y.T


def best_time(fit, budget=2.0):
    fit()  # warm-up
    best, total, runs = np.inf, 0.0, 0
    while runs < 10 and (runs < 3 or total < budget):
        t = time.perf_counter()
        model = fit()
        s = time.perf_counter() - t
        best, total, runs = min(best, s), total + s, runs + 1
    return best, model


def plain(ps):
    return lambda x: ps.SINDy().fit(x, t=DT)


def ensemble(ps):
    def fit(x):
        opt = ps.EnsembleOptimizer(opt=ps.STLSQ(threshold=0.1), bagging=True, n_models=20)
        return ps.SINDy(optimizer=opt).fit(x, t=DT)

    return fit


print(f"PySINDy {pysindy.__version__} against sparsimony.sindy, single-threaded, best of several runs")
print(f"{'samples':>9} {'fit':<12} {'sparsimony (s)':>15} {'PySINDy (s)':>12} {'ratio':>8} {'max |dcoef|':>12}")
for n in (10_000, 100_000, 1_000_000):
    x = trajectory(n)
    for name, make in (("plain", plain), ("ensemble 20", ensemble)):
        t_ours, m_ours = best_time(lambda: make(ours)(x))
        t_peer, m_peer = best_time(lambda: make(pysindy)(x))
        diff = np.max(np.abs(m_ours.coefficients() - m_peer.coefficients())) if name == "plain" else float("nan")
        print(f"{n:>9} {name:<12} {t_ours:>15.4f} {t_peer:>12.4f} {t_peer / t_ours:>7.1f}x {diff:>12.1e}", flush=True)
