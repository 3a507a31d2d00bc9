"""PDEs solved with spectral-mixture Gaussian processes (Fang et al., ICLR 2024), as ``sparsimony pde``.

A problem is TOML text (the format of the command line's ``--problem`` files, described in the Rust
documentation of ``sparsimony_solvers::gp_pde::problem``) or the same structure as a dict::

    import numpy as np
    import sparsimony.pde as pde

    problem = pde.Problem({
        "name": "poisson",
        "axis": [{"name": "x", "lower": 0, "upper": 1, "points": 64}],
        "equation": [{"operator": "u_xx", "source": "-pi^2*sin(pi*x)"}],
        "exact": {"u": "sin(pi*x)"},
    })
    solution = pde.solve(problem)
    u = solution.predict(np.linspace(0, 1, 300))["u"]
    print(solution.rel_l2_error)

``pde.benchmarks()`` lists the built-in problems (the paper's table, Helmholtz, heat, Burgers, Kovasznay);
``pde.benchmark(name)`` gives one's TOML text to start from, and ``Problem.benchmark(name)`` the problem.

Arrays on a grid are shaped ``(len(x), len(y), ...)`` in the problem's axis order (C order, the first
axis slowest); fields are returned as dicts keyed by the field names. The solve releases the GIL; a
``callback(iteration, objective)`` sees every outer iteration and stops the solve by returning ``True``,
and Ctrl-C stops it with ``KeyboardInterrupt`` (both when the current outer iteration ends). Bad input raises ``ValueError`` with the solver's message;
inner solves that stopped short of their tolerance warn with ``ConvergenceWarning``.
"""
import numbers
import operator
import warnings

import numpy as np

from . import _native

__all__ = ["Problem", "Solution", "solve", "benchmarks", "benchmark"]


def benchmarks():
    """The built-in problems, ``{name: description}``."""
    return dict(_native.pde_benchmarks())


def benchmark(name):
    """The TOML text of the built-in problem ``name``."""
    return _native.pde_benchmark_toml(name)


def _count(value, name):
    """``value`` as a non-negative Python int, or a TypeError/ValueError naming ``name``."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {value!r}") from None
    if value < 0:
        raise ValueError(f"{name} must be non-negative, got {value}")
    if value >= 2**63:
        raise ValueError(f"{name} is too large: {value}")
    return value


def _choice(value, name, options):
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")
    return value


class Problem:
    """A PDE problem from TOML text or a dict: domain, grid, equations, boundary data, exact solution.

    Parameters
    ----------
    spec : str or dict
        The problem description.
    grid : int or sequence of int, optional
        Collocation points per axis (one count for every axis, or one per axis), replacing the
        description's.
    """

    def __init__(self, spec, grid=None):
        self._native = spec if isinstance(spec, _native.PdeProblem) else _native.PdeProblem(spec)
        if grid is not None:
            counts = [grid] if np.ndim(grid) == 0 else list(np.asarray(grid, dtype=object).ravel())
            if np.ndim(grid) > 1:
                raise ValueError(f"grid must be a count or one count per axis, got shape {np.shape(grid)}")
            self._native = self._native.with_grid([_count(c, "grid") for c in counts])

    @classmethod
    def benchmark(cls, name, grid=None):
        """The built-in problem ``name`` (see :func:`benchmarks`)."""
        return cls(_native.PdeProblem.benchmark(name), grid=grid)

    @property
    def name(self):
        """The problem's name."""
        return self._native.name

    @property
    def description(self):
        """The problem's description."""
        return self._native.description

    @property
    def fields(self):
        """The names of the unknown fields."""
        return list(self._native.fields)

    @property
    def axes(self):
        """The names of the axes."""
        return list(self._native.axes)

    @property
    def shape(self):
        """Points per axis of the collocation grid."""
        return tuple(self._native.shape)

    @property
    def grid(self):
        """The collocation grid: equispaced coordinates per axis (a tuple of arrays), ends included."""
        return tuple(self._native.grid)

    @property
    def has_exact(self):
        """Whether the description gives the exact solution."""
        return self._native.has_exact

    def exact(self, *coordinates):
        """The exact solution on the tensor grid of ``coordinates`` (one 1D array per axis), as
        ``{field: array}``; ``None`` when the description gives none."""
        values = self._native.exact(_coordinates(coordinates))
        return None if values is None else dict(zip(self.fields, values))

    def __repr__(self):
        shape = "x".join(map(str, self.shape))
        return f"Problem({self.name!r}, grid {shape}, fields {self.fields})"


def _coordinates(coordinates):
    return [np.ascontiguousarray(np.atleast_1d(c), dtype=np.float64) for c in coordinates]


class Solution:
    """A solved problem (returned by :func:`solve`).

    Attributes
    ----------
    problem : Problem
    values : dict of str to ndarray
        Every field on the collocation grid ``problem.grid``.
    seconds : float
        Wall-clock time of the solve.
    n_iter : int
        Outer iterations performed.
    converged : bool
        Whether every inner solve of the kept iterate reached its tolerance.
    objective : tuple of float
        ``(total, residual_rms, boundary_rms)`` of the kept iterate.
    components : dict of str to list of ndarray
        The learned kernel per field and axis: rows ``(weight, frequency, length_scale)`` per mixture
        component, frequency in cycles per unit of the axis.
    components_kept : dict of str to list of int
        Components per axis with weight above 1e-6 of the largest.
    rel_l2_error, field_errors : float and dict, or None
        ``||u - u*|| / ||u*||`` over all fields and per field on the command line's test grid (300
        points in 1D, 100 per axis above), when the problem gives the exact solution.
    """

    def __init__(self, problem, native):
        self.problem = problem
        self._native = native
        fields = problem.fields
        self.values = dict(zip(fields, native.values()))
        self.seconds = native.seconds
        self.n_iter, self.converged, reached, tolerance = native.report()
        self.objective = native.objective()
        self.components = {f: [np.array(axis).reshape(-1, 3) for axis in c] for f, c in zip(fields, native.components())}
        self.components_kept = dict(zip(fields, native.components_kept()))
        self.rel_l2_error, self.field_errors = None, None
        errors = native.test_errors(problem._native)
        if errors is not None:
            self.rel_l2_error, per_field = errors
            self.field_errors = dict(zip(fields, per_field))
        if not self.converged:
            from sklearn.exceptions import ConvergenceWarning

            warnings.warn(
                f"the inner solves stopped at relative residual {reached:.2e}, above their tolerance "
                f"{tolerance:.1e}",
                ConvergenceWarning,
                stacklevel=3,
            )

    def predict(self, *coordinates):
        """The posterior mean of every field on the tensor grid of ``coordinates`` (one 1D array per
        axis), as ``{field: array}`` shaped ``(len(coordinates[0]), ...)``."""
        return dict(zip(self.problem.fields, self._native.predict(_coordinates(coordinates))))

    def __repr__(self):
        err = "" if self.rel_l2_error is None else f", rel. L2 error {self.rel_l2_error:.2e}"
        return f"Solution({self.problem.name!r}, {self.n_iter} iterations, {self.seconds:.2f} s{err})"


def solve(problem, *, method="exact", spectrum=None, components=None, iterations=None,
          learning_rate=None, callback=None):
    """Solves ``problem`` (a :class:`Problem`, TOML text or a dict) with the command line's settings.

    Parameters
    ----------
    method : {"exact", "adam"}
        ``"exact"``: Gauss–Newton solves for the grid values, the kernel learned around them (ours);
        ``"adam"``: the paper's joint Adam.
    spectrum : {"student_t", "gaussian"}, optional
        The mixture's spectral family (the paper's GP-HM-StM or GP-HM-GM); default the problem's
        ``[solver] spectrum``, else ``"student_t"``.
    components : int, optional
        Mixture components per field and axis (default 30).
    iterations : int, optional
        Outer iterations (default: exact 30, or 10 above 1000 unknowns; Adam 2000).
    learning_rate : float, optional
        Adam's learning rate (default: exact 0.01, or 0.001 above 1000 unknowns; Adam 0.01).
    callback : callable, optional
        ``callback(iteration, objective)`` after every outer iteration; returning ``True`` stops.

    Returns
    -------
    Solution
    """
    if not isinstance(problem, Problem):
        problem = Problem(problem)
    _choice(method, "method", ("exact", "adam"))
    if spectrum is not None:
        _choice(spectrum, "spectrum", ("student_t", "gaussian"))
    components = None if components is None else _count(components, "components")
    iterations = None if iterations is None else _count(iterations, "iterations")
    if learning_rate is not None:
        if not isinstance(learning_rate, numbers.Real) or isinstance(learning_rate, bool):
            raise TypeError(f"learning_rate must be a real number, got {learning_rate!r}")
        learning_rate = float(learning_rate)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {callback!r}")
    native = _native.pde_solve(problem._native, method=method, spectrum=spectrum, components=components,
                               iterations=iterations, learning_rate=learning_rate, callback=callback)
    return Solution(problem, native)
