"""PDEs from Python: a problem as a dict, solved by the spectral-mixture GP, checked against its exact
solution (run as a test by python/tests/test_examples.py).

    python python/examples/gp_pde.py
"""
import numpy as np

import sparsimony.pde as pde

# Poisson on the unit square with a solution that is not a product of functions of x and y:
# u = exp(x y) + sin(6 pi x) sin(4 pi y), so Δu = (x² + y²) exp(x y) − 52 π² sin(6 pi x) sin(4 pi y).
problem = pde.Problem({
    "name": "poisson_nonseparable",
    "axis": [
        {"name": "x", "lower": 0, "upper": 1, "points": 40},
        {"name": "y", "lower": 0, "upper": 1, "points": 40},
    ],
    "equation": [{
        "operator": "u_xx + u_yy",
        "source": "(x^2 + y^2)*exp(x*y) - 52*pi^2*sin(6*pi*x)*sin(4*pi*y)",
    }],
    "exact": {"u": "exp(x*y) + sin(6*pi*x)*sin(4*pi*y)"},
})
print(problem)
solution = pde.solve(problem, callback=lambda i, objective: print(f"  iteration {i}: objective {objective:.6e}"))
print(solution)
for axis, kernel in zip(problem.axes, solution.components["u"]):
    top = kernel[np.argsort(kernel[:, 0])[::-1][:3]]
    print(f"  axis {axis}: strongest components (weight, cycles per unit, length scale):",
          ", ".join(f"({w:.2f}, {f:.2f}, {s:.3f})" for w, f, s in top))

# The solution anywhere in the domain, against the closed form.
x, y = np.linspace(0, 1, 7), np.linspace(0, 1, 5)
u = solution.predict(x, y)["u"]
exact = np.exp(np.outer(x, y)) + np.outer(np.sin(6 * np.pi * x), np.sin(4 * np.pi * y))
print(f"max error on a 7 x 5 grid: {np.max(np.abs(u - exact)):.2e}")

# A built-in problem: Kovasznay flow, three coupled nonlinear fields.
flow = pde.solve(pde.Problem.benchmark("kovasznay"))
print(flow, {f: f"{e:.1e}" for f, e in flow.field_errors.items()})
