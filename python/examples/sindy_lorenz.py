"""Equation discovery from Python with PySINDy's names (run as a test by python/tests/test_examples.py).

    python python/examples/sindy_lorenz.py

Code written for PySINDy changes its import: ``import sparsimony.sindy as ps``.
"""
import numpy as np
from scipy.integrate import solve_ivp

import sparsimony.sindy as ps


def lorenz(_, s, sigma=10.0, rho=28.0, beta=8.0 / 3.0):
    return [sigma * (s[1] - s[0]), s[0] * (rho - s[2]) - s[1], s[0] * s[1] - beta * s[2]]


dt = 0.002
t = np.arange(0, 10, dt)
x = solve_ivp(lorenz, (t[0], t[-1]), [-8, 8, 27], t_eval=t, rtol=1e-12, atol=1e-12).y.T

model = ps.SINDy(optimizer=ps.STLSQ(threshold=0.1), feature_library=ps.PolynomialLibrary(degree=2))
model.fit(x, t=dt, feature_names=["x", "y", "z"])
model.print()
print(f"R^2 of the derivatives: {model.score(x, t=dt):.8f}")

# Noisy data: smoothed differences and a bagged ensemble (E-SINDy), whose members give inclusion
# probabilities.
noisy = x + 0.01 * np.std(x, axis=0) * np.random.default_rng(0).standard_normal(x.shape)
ensemble = ps.EnsembleOptimizer(opt=ps.STLSQ(threshold=0.5), bagging=True, n_models=20, random_state=1)
robust = ps.SINDy(optimizer=ensemble, differentiation_method=ps.SmoothedFiniteDifference()).fit(noisy, t=dt)
inclusion = np.mean([np.abs(c) > 0 for c in ensemble.coef_list], axis=0)
print(f"ensemble of {len(ensemble.coef_list)}: terms kept by every member: {int(np.sum(inclusion == 1))}")
robust.print(precision=2)

# The model forward in time, and as Rust source for the no_std core on a microcontroller.
sim = model.simulate(x[0], t[:1000])
print(f"simulated 2 time units: max deviation from the data {np.max(np.abs(sim - x[:1000])):.2e}")
print(f"exported: {len(model.export('lorenz', 'f32').splitlines())} lines of Rust")
