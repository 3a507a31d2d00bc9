"""Writes data/lorenz.csv: the Lorenz system (sigma 10, rho 28, beta 8/3) from (-8, 8, 27), sampled every
0.002 time units for 4 units (2000 samples), integrated by scipy's solve_ivp at tolerance 1e-12, with
columns t, x, y, z. `sparsimony sindy --data data/lorenz.csv --t-column t` should find the equations."""
from pathlib import Path

import numpy as np
from scipy.integrate import solve_ivp

t = np.arange(2000) * 0.002
sol = solve_ivp(lambda _t, u: [10 * (u[1] - u[0]), u[0] * (28 - u[2]) - u[1], u[0] * u[1] - 8 / 3 * u[2]],
                (0, t[-1]), [-8, 8, 27], t_eval=t, rtol=1e-12, atol=1e-12)
out = Path(__file__).parent / "lorenz.csv"
np.savetxt(out, np.column_stack([t, sol.y.T]), delimiter=",", header="t,x,y,z", comments="", fmt="%.17g")
print(f"wrote {out}")
