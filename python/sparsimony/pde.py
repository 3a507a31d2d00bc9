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


#: The most outer iterations a solve may be asked for (Adam's default is 2000).
MAX_ITERATIONS = 1_000_000

#: The most mixture components per field and axis.
MAX_COMPONENTS = 10_000


def _count(value, name, low=0, high=2**63 - 1):
    """``value`` as a Python int in ``[low, high]``, or a TypeError/ValueError naming ``name``."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be an integer, got {value!r}") from None
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")
    if value > high:
        raise ValueError(f"{name} must be at most {high}, got {value}")
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
        if isinstance(spec, _native.PdeProblem):
            self._native = spec
            self._source = ("native", None)
        else:
            self._native = _native.PdeProblem(spec)
            self._source = ("spec", spec)
        if grid is not None:
            counts = [grid] if np.ndim(grid) == 0 else list(np.asarray(grid, dtype=object).ravel())
            if np.ndim(grid) > 1:
                raise ValueError(f"grid must be a count or one count per axis, got shape {np.shape(grid)}")
            self._native = self._native.with_grid([_count(c, "grid") for c in counts])

    @classmethod
    def benchmark(cls, name, grid=None):
        """The built-in problem ``name`` (see :func:`benchmarks`)."""
        problem = cls(_native.PdeProblem.benchmark(name), grid=grid)
        problem._source = ("benchmark", name)
        return problem

    def __reduce__(self):
        # Pickled as what built it (the description or the benchmark's name) and its grid.
        if self._source[0] == "native":
            raise TypeError("a Problem built from a native problem object cannot be pickled")
        return (_rebuild_problem, (self._source, self.shape))

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


def _rebuild_problem(source, shape):
    kind, value = source
    if kind == "benchmark":
        return Problem.benchmark(value, grid=list(shape))
    return Problem(value, grid=list(shape))


def _coordinates(coordinates):
    out = []
    for c in coordinates:
        arr = np.atleast_1d(np.asarray(c))
        if np.iscomplexobj(arr):
            raise ValueError("Complex data not supported: prediction coordinates are complex")
        if arr.ndim != 1:
            raise ValueError(f"each axis's coordinates must be one-dimensional, got shape {arr.shape}")
        out.append(np.ascontiguousarray(arr, dtype=np.float64))
    return out


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
    residual_indicator : float
        What says whether to trust the solution without an exact one: the largest of ``pde_residual``
        (each equation's residual at the midpoints of the collocation grid's cells, where the training
        never imposed it, tested against binomial bumps seven cells wide — pointwise where the problem
        lives at the grid's scale — as an rms relative to the equation's scale),
        ``boundary_residual`` (the Dirichlet misfit on the faces' cell midpoints) and
        ``error_estimate``. Computed on first use (at construction when warnings are on; not again when
        unpickled).
    pde_residual, boundary_residual : float
        Its two residuals.
    error_estimate : float or None
        The relative L2 error estimated by solving the operator, linearised at the solution, for the
        error that the residuals imply (finite differences on the midpoint grid): it sees an operator
        that amplifies the residual (indefinite Helmholtz). Infinite when the data leave a null space
        (``null_space``); ``None`` outside its scope (systems, first-order or space-time equations, faces
        without data where they are enough).
    null_space : bool
        Whether the data do not determine the solution: too few of them (``missing_data``), or an
        operator with a null space under them (its smallest eigenvalue is zero within the grid's
        discretization error).
    missing_data : str or None
        Where the boundary data are too few, counted against the equations' derivative orders (Laplace's
        equation without data on one face, a fourth derivative with values alone): which axis, and what
        to give.
    trusted : bool
        ``residual_indicator <= 3e-4`` (the command line's default); otherwise a ``UserWarning`` says so
        at construction.
    """

    def __init__(self, problem, native, warn=True):
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
        self._indicator = None
        if warn and self.missing_data is not None:
            warnings.warn(
                f"{self.missing_data}; this solution is one of many and is not to be trusted",
                UserWarning,
                stacklevel=3,
            )
        elif warn and self.null_space:
            warnings.warn(
                "the operator has a null space under the boundary data: the data do not determine the "
                "solution, and this one is not to be trusted",
                UserWarning,
                stacklevel=3,
            )
        elif warn and not self.trusted:
            warnings.warn(
                f"the residual indicator {self.residual_indicator:.2e} is above "
                f"{_native.PDE_TRUST_THRESHOLD:.0e}: the solution does not satisfy the PDE (or its boundary "
                "data) between the collocation points, or the operator amplifies that residual into a "
                "larger error, and is not to be trusted",
                UserWarning,
                stacklevel=3,
            )
        if warn and not self.converged:
            from sklearn.exceptions import ConvergenceWarning

            warnings.warn(
                f"the inner solves stopped at relative residual {reached:.2e}, above their tolerance "
                f"{tolerance:.1e}",
                ConvergenceWarning,
                stacklevel=3,
            )

    def _residuals(self):
        if self._indicator is None:
            self._indicator = self._native.residual_indicator(self.problem._native)
        return self._indicator

    @property
    def pde_residual(self):
        return self._residuals()[0]

    @property
    def boundary_residual(self):
        return self._residuals()[1]

    @property
    def error_estimate(self):
        return self._residuals()[2]

    @property
    def null_space(self):
        return self._residuals()[3]

    @property
    def missing_data(self):
        return self._residuals()[4]

    @property
    def residual_indicator(self):
        residual, boundary, estimate, _, _ = self._residuals()
        return max(residual, boundary, 0.0 if estimate is None else estimate)

    @property
    def trusted(self):
        return self.residual_indicator <= _native.PDE_TRUST_THRESHOLD

    def predict(self, *coordinates):
        """The posterior mean of every field on the tensor grid of ``coordinates`` (one 1D array per
        axis), as ``{field: array}`` shaped ``(len(coordinates[0]), ...)``.

        Points outside the problem's domain are extrapolated: the GP's mean decays there to zero, a
        number that solves nothing. It is still returned, with a ``UserWarning`` naming the axis and how far
        out the farthest point lies. A prediction whose work arrays would exceed the solvers' memory cap
        (16 GiB) is refused with ``ValueError`` before anything is allocated.
        """
        coordinates = _coordinates(coordinates)
        if len(coordinates) == len(self.problem.axes):
            for name, grid, c in zip(self.problem.axes, self.problem.grid, coordinates):
                if c.size == 0 or not np.all(np.isfinite(c)):
                    continue  # refused (non-finite) or nothing to say (empty) by the solver
                lower, upper = float(grid[0]), float(grid[-1])
                slack = 1e-9 * max(upper - lower, 1.0)
                low, high = float(c.min()), float(c.max())
                if low < lower - slack or high > upper + slack:
                    far = max(lower - low, high - upper)
                    warnings.warn(
                        f"predicting outside the domain: axis {name!r} spans [{lower:g}, {upper:g}], and a point "
                        f"lies {far:g} beyond it; the GP's mean there is extrapolated (it decays to 0)",
                        UserWarning,
                        stacklevel=2,
                    )
        return dict(zip(self.problem.fields, self._native.predict(coordinates)))

    def __reduce__(self):
        # Pickled (joblib, multiprocessing) as its problem and the native solution, which pickles as
        # plain data; the derived attributes are recomputed when it is rebuilt, without the warning.
        return (_rebuild_solution, (self.problem, self._native))

    def __repr__(self):
        err = "" if self.rel_l2_error is None else f", rel. L2 error {self.rel_l2_error:.2e}"
        return f"Solution({self.problem.name!r}, {self.n_iter} iterations, {self.seconds:.2f} s{err})"


def _rebuild_solution(problem, native):
    return Solution(problem, native, warn=False)


def solve(problem, *, method="exact", spectrum=None, components=None, iterations=None,
          learning_rate=None, callback=None, refine=True):
    """Solves ``problem`` (a :class:`Problem`, TOML text or a dict) with the command line's settings.

    Parameters
    ----------
    method : {"exact", "adam"}
        ``"exact"``: Gauss–Newton solves for the grid values, the kernel learned around them (ours);
        ``"adam"``: the paper's joint Adam.
    spectrum : {"student_t", "student_t3", "gaussian"}, optional
        The mixture's spectral family: Matérn-5/2 × cosine (the paper's GP-HM-StM), Matérn-3/2 × cosine,
        or squared-exponential × cosine (GP-HM-GM); default the problem's ``[solver] spectrum``, else
        ``"student_t"``.
    components : int, optional
        Mixture components per field and axis (default 30; at most ``MAX_COMPONENTS``, 10 000).
    iterations : int, optional
        Outer iterations (default: exact 30, or 10 above 1000 unknowns; Adam 2000), from 1 to
        ``MAX_ITERATIONS`` (10**6); ``ValueError`` outside that range.
    learning_rate : float, optional
        Adam's learning rate (default: exact 0.01, or 0.001 above 1000 unknowns; Adam 0.01).
    callback : callable, optional
        ``callback(iteration, objective)`` after every outer iteration (of every solve, see ``refine``);
        returning ``True`` stops.
    refine : bool
        As the command line: with the exact method, solve again with the collocation precisions raised
        (``ln v + 4``, at most twice) while the estimated error stays above 1e-5 and falls, then with the
        other spectral family (unless ``spectrum`` or the problem chose one), then from a broadband start
        (components spread over the band the data show, for chirps), and keep the solve with the lowest;
        ``False`` for one solve at the given settings.

    Returns
    -------
    Solution
    """
    if not isinstance(problem, Problem):
        problem = Problem(problem)
    _choice(method, "method", tuple(_native.PDE_METHODS))
    if spectrum is not None:
        _choice(spectrum, "spectrum", tuple(_native.PDE_SPECTRA))
    components = None if components is None else _count(components, "components", 1, MAX_COMPONENTS)
    iterations = None if iterations is None else _count(iterations, "iterations", 1, MAX_ITERATIONS)
    if learning_rate is not None:
        if not isinstance(learning_rate, numbers.Real) or isinstance(learning_rate, bool):
            raise TypeError(f"learning_rate must be a real number, got {learning_rate!r}")
        learning_rate = float(learning_rate)
        if not (np.isfinite(learning_rate) and learning_rate > 0):
            raise ValueError(f"learning_rate must be a finite number > 0, got {learning_rate!r}")
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable, got {callback!r}")
    if not isinstance(refine, bool):
        raise TypeError(f"refine must be True or False, got {refine!r}")
    native = _native.pde_solve(problem._native, method=method, spectrum=spectrum, components=components,
                               iterations=iterations, learning_rate=learning_rate, callback=callback,
                               refine=refine)
    return Solution(problem, native)
