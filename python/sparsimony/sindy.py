"""Sparse identification of nonlinear dynamics (SINDy) with PySINDy's names and signatures, fitted in Rust.

    import sparsimony.sindy as ps                 # in place of ``import pysindy as ps``
    model = ps.SINDy(optimizer=ps.STLSQ(threshold=0.1)).fit(x, t=0.01)
    model.print()

What exists is PySINDy's:

- the differentiations ``FiniteDifference``, ``SmoothedFiniteDifference`` (Savitzky–Golay) and
  ``SpectralDerivative``;
- the libraries ``PolynomialLibrary`` and ``FourierLibrary``, combined with ``+`` (concatenation) and
  ``*`` (tensor product);
- the optimizers ``STLSQ``, ``SR3`` (L0, L1, and CEL0 besides) and ``EnsembleOptimizer`` (bagging and
  library ensembles, median aggregation);
- ``SINDy`` with control inputs and several trajectories, and ``DiscreteSINDy``.

Each has PySINDy's parameters and defaults; an option that sparsimony does not implement raises a
``ValueError`` naming it, rather than being ignored. A fitted model's methods run in Rust: ``coefficients``,
``equations``, ``print``, ``predict``, ``simulate``, ``score``. ``export`` gives the model as Rust source
for ``sparsimony-core`` on a microcontroller. Data are ``(n_samples, n_states)`` arrays, samples in rows,
as in PySINDy.
"""

from __future__ import annotations

import numbers

import numpy as np
from sklearn.metrics import r2_score

from . import _chunked, _native
from ._checks import check_bool, check_int, check_real, real_array

__all__ = [
    "FiniteDifference",
    "SmoothedFiniteDifference",
    "SpectralDerivative",
    "PolynomialLibrary",
    "FourierLibrary",
    "STLSQ",
    "SR3",
    "EnsembleOptimizer",
    "SINDy",
    "DiscreteSINDy",
]


def _unsupported(owner, name, value, default):
    # Identity first, so that an array (whose == is elementwise) given for a None default is refused too.
    if value is not default and (default is None or isinstance(value, np.ndarray) or value != default):
        raise ValueError(f"{owner}: {name}={value!r} is not supported by sparsimony (only {default!r})")


# --- differentiation --------------------------------------------------------------------------------


class _Differentiation:
    def __call__(self, x, t=1.0):
        """The derivative of ``x`` (n_samples, n_states) at ``t`` (a step or the sample times); rows the
        method leaves out (``drop_endpoints``) are NaN."""
        return _native.differentiate(_states(x, "x"), _time(t), self._spec())


class FiniteDifference(_Differentiation):
    """Finite differences of accuracy ``order`` for the derivative of order ``d``: centred stencils inside,
    one-sided at the ends, on uniform or non-uniform samples (PySINDy's ``FiniteDifference``)."""

    def __init__(self, order=2, d=1, axis=0, is_uniform=False, drop_endpoints=False, periodic=False):
        self.order, self.d, self.axis = order, d, axis
        self.is_uniform, self.drop_endpoints, self.periodic = is_uniform, drop_endpoints, periodic

    def _spec(self):
        _unsupported("FiniteDifference", "axis", self.axis, 0)
        _unsupported("FiniteDifference", "periodic", self.periodic, False)
        return {"kind": "finite_difference", "order": check_int("order", self.order, 1, 2**31),
                "d": check_int("d", self.d, 1, 2**31), "drop_endpoints": check_bool("drop_endpoints", self.drop_endpoints)}


class SmoothedFiniteDifference(_Differentiation):
    """Savitzky–Golay smoothing (``smoother_kws``: ``window_length``, default 11, and ``polyorder``,
    default 3; SciPy's ``mode="interp"``), then finite differences of accuracy ``order``. The library is
    evaluated on the smoothed states, as in PySINDy."""

    def __init__(self, smoother=None, smoother_kws=None, save_smooth=True, order=2, **kwargs):
        if smoother is not None and getattr(smoother, "__name__", "") != "savgol_filter":
            raise ValueError("SmoothedFiniteDifference: only the Savitzky-Golay smoother is supported")
        if kwargs:
            raise ValueError(f"SmoothedFiniteDifference: unsupported arguments {sorted(kwargs)}")
        self.smoother, self.smoother_kws, self.save_smooth, self.order = smoother, smoother_kws, save_smooth, order

    def _spec(self):
        kws = {"window_length": 11, "polyorder": 3, **(self.smoother_kws or {})}
        extra = set(kws) - {"window_length", "polyorder", "mode"}
        if extra or kws.get("mode", "interp") != "interp":
            raise ValueError(f"SmoothedFiniteDifference: unsupported smoother_kws {sorted(extra) or kws['mode']}")
        _unsupported("SmoothedFiniteDifference", "save_smooth", self.save_smooth, True)
        return {"kind": "smoothed_finite_difference",
                "window_length": check_int("window_length", kws["window_length"], 1),
                "polyorder": check_int("polyorder", kws["polyorder"], 0), "order": check_int("order", self.order, 1, 2**31)}


class SpectralDerivative(_Differentiation):
    """The spectral derivative of order ``d`` of a periodic signal on uniform samples (PySINDy's
    ``SpectralDerivative``)."""

    def __init__(self, d=1, axis=0):
        self.d, self.axis = d, axis

    def _spec(self):
        _unsupported("SpectralDerivative", "axis", self.axis, 0)
        return {"kind": "spectral", "d": check_int("d", self.d, 1, 2**31)}


# --- libraries --------------------------------------------------------------------------------------


class _Library:
    def __add__(self, other):
        return _Combined("concat", [self, other])

    def __mul__(self, other):
        return _Combined("tensor", [self, other])


class _Combined(_Library):
    def __init__(self, kind, parts):
        self.kind, self.parts = kind, parts

    def _spec(self):
        return {"kind": self.kind, "parts": [p._spec() for p in self.parts]}


class PolynomialLibrary(_Library):
    """Monomials of total degree ≤ ``degree`` in scikit-learn's ``PolynomialFeatures`` order (PySINDy's
    ``PolynomialLibrary``)."""

    def __init__(self, degree=2, include_interaction=True, interaction_only=False, include_bias=True, order="C"):
        self.degree, self.include_interaction, self.interaction_only = degree, include_interaction, interaction_only
        self.include_bias, self.order = include_bias, order

    def _spec(self):
        _unsupported("PolynomialLibrary", "include_interaction", self.include_interaction, True)
        _unsupported("PolynomialLibrary", "order", self.order, "C")
        return {"kind": "polynomial", "degree": check_int("degree", self.degree, 0, 2**31),
                "include_bias": check_bool("include_bias", self.include_bias),
                "interaction_only": check_bool("interaction_only", self.interaction_only)}


class FourierLibrary(_Library):
    """``sin(k x_i)`` and ``cos(k x_i)`` for ``k = 1..n_frequencies`` (PySINDy's ``FourierLibrary``)."""

    def __init__(self, n_frequencies=1, include_sin=True, include_cos=True):
        self.n_frequencies, self.include_sin, self.include_cos = n_frequencies, include_sin, include_cos

    def _spec(self):
        return {"kind": "fourier", "n_frequencies": check_int("n_frequencies", self.n_frequencies, 1, 2**31),
                "include_sin": check_bool("include_sin", self.include_sin),
                "include_cos": check_bool("include_cos", self.include_cos)}


# --- optimizers -------------------------------------------------------------------------------------


class STLSQ:
    """Sequentially thresholded least squares (PySINDy's ``STLSQ``): ridge regression (``alpha``), drop
    coefficients below ``threshold``, repeat; then least squares on the support (``unbias``)."""

    def __init__(self, threshold=0.1, alpha=0.05, max_iter=20, ridge_kw=None, normalize_columns=False,
                 copy_X=True, initial_guess=None, verbose=False, sparse_ind=None, unbias=True):
        self.threshold, self.alpha, self.max_iter, self.ridge_kw = threshold, alpha, max_iter, ridge_kw
        self.normalize_columns, self.copy_X, self.initial_guess = normalize_columns, copy_X, initial_guess
        self.verbose, self.sparse_ind, self.unbias = verbose, sparse_ind, unbias

    def _spec(self):
        for name in ("ridge_kw", "initial_guess", "sparse_ind"):
            _unsupported("STLSQ", name, getattr(self, name), None)
        return {"kind": "stlsq", "threshold": check_real("threshold", self.threshold, 0.0),
                "alpha": check_real("alpha", self.alpha, 0.0), "max_iter": check_int("max_iter", self.max_iter, 1),
                "normalize_columns": check_bool("normalize_columns", self.normalize_columns),
                "unbias": check_bool("unbias", self.unbias)}


class SR3:
    """Sparse relaxed regularized regression (PySINDy's ``SR3``): ``1/2 ||X' - Theta w||^2 +
    reg_weight_lam R(u) + 1/(2 nu) ||w - u||^2``, ``R`` being ``"L0"``, ``"L1"`` or ``"CEL0"``."""

    def __init__(self, reg_weight_lam=0.005, regularizer="L0", relax_coeff_nu=1.0, tol=1e-5,
                 trimming_fraction=0.0, trimming_step_size=1.0, max_iter=30, copy_X=True, initial_guess=None,
                 normalize_columns=False, verbose=False, unbias=False):
        self.reg_weight_lam, self.regularizer, self.relax_coeff_nu, self.tol = reg_weight_lam, regularizer, relax_coeff_nu, tol
        self.trimming_fraction, self.trimming_step_size, self.max_iter = trimming_fraction, trimming_step_size, max_iter
        self.copy_X, self.initial_guess, self.normalize_columns = copy_X, initial_guess, normalize_columns
        self.verbose, self.unbias = verbose, unbias

    @staticmethod
    def calculate_l0_weight(threshold, relax_coeff_nu):
        """The L0 weight that thresholds at ``threshold``: ``threshold**2 / (2 relax_coeff_nu)``."""
        return threshold**2 / (2 * relax_coeff_nu)

    def _spec(self):
        _unsupported("SR3", "trimming_fraction", self.trimming_fraction, 0.0)
        _unsupported("SR3", "initial_guess", self.initial_guess, None)
        if not isinstance(self.regularizer, str):
            raise ValueError(f"regularizer must be 'L0', 'L1' or 'CEL0', got {self.regularizer!r}")
        return {"kind": "sr3", "reg_weight_lam": check_real("reg_weight_lam", self.reg_weight_lam, 0.0),
                "regularizer": self.regularizer, "relax_coeff_nu": check_real("relax_coeff_nu", self.relax_coeff_nu, 0.0),
                "tol": check_real("tol", self.tol, 0.0), "max_iter": check_int("max_iter", self.max_iter, 1),
                "normalize_columns": check_bool("normalize_columns", self.normalize_columns),
                "unbias": check_bool("unbias", self.unbias)}


class EnsembleOptimizer:
    """Ensembles of ``opt`` (PySINDy's ``EnsembleOptimizer``; E-SINDy): ``n_models`` fits on bootstrap
    samples (``bagging``) and/or with ``n_candidates_to_drop`` library terms dropped (``library_ensemble``),
    aggregated by the median. ``random_state`` seeds the resampling (ChaCha8: the same seed gives the same
    ensemble on every machine). After a fit, ``coef_list`` holds the members' coefficients."""

    def __init__(self, opt=None, bagging=False, library_ensemble=False, n_models=20, n_subset=None,
                 n_candidates_to_drop=1, replace=True, ensemble_aggregator=None, random_state=0):
        self.opt, self.bagging, self.library_ensemble, self.n_models = opt, bagging, library_ensemble, n_models
        self.n_subset, self.n_candidates_to_drop, self.replace = n_subset, n_candidates_to_drop, replace
        self.ensemble_aggregator, self.random_state = ensemble_aggregator, random_state

    def _spec(self):
        if not (self.bagging or self.library_ensemble):
            raise ValueError("EnsembleOptimizer: at least one of bagging or library_ensemble must be True")
        _unsupported("EnsembleOptimizer", "ensemble_aggregator", self.ensemble_aggregator, None)
        check_int("random_state", self.random_state, 0, 2**64 - 1)
        base = self.opt if self.opt is not None else STLSQ()
        if isinstance(base, EnsembleOptimizer):
            raise ValueError("EnsembleOptimizer: the base optimizer cannot itself be an ensemble")
        return {"kind": "ensemble", "opt": base._spec(), "n_models": check_int("n_models", self.n_models, 1),
                "bagging": check_bool("bagging", self.bagging),
                "n_subset": check_int("n_subset", self.n_subset, 1, allow_none=True),
                "replace": check_bool("replace", self.replace),
                "n_candidates_to_drop": check_int("n_candidates_to_drop", self.n_candidates_to_drop, 0)
                if check_bool("library_ensemble", self.library_ensemble) else 0,
                "seed": int(self.random_state)}


# --- the model ----------------------------------------------------------------------------------------


#: The most decimals ``equations`` and ``print`` write (beyond it a double has no more digits to show).
MAX_PRECISION = 100


def _states(x, what, lazy=False):
    """``x`` as an (n_samples, n_features) float64 array; with ``lazy``, a dask array stays one (a fit reads
    it chunk by chunk on the workers)."""
    if lazy and _chunked.is_dask_collection(x):
        # Kept lazy: read chunk by chunk on the workers (``_chunked.sindy_fit``).
        if x.ndim == 1:
            x = x[:, None]
        if x.ndim != 2:
            raise ValueError(f"{what} must be (n_samples, n_features), got shape {x.shape}")
        return x
    x = real_array(what, x)
    if x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2:
        raise ValueError(f"{what} must be (n_samples, n_features), got shape {x.shape}")
    return x


def _control_values(u):
    """``u`` as the integrator calls it: a list of finite floats at each time (a scalar is one control)."""

    def values(time):
        v = np.atleast_1d(np.asarray(u(time), dtype=np.float64))
        if v.ndim != 1:
            raise ValueError(f"u(t) must return one value per control input, got shape {v.shape} at t = {time}")
        if not np.all(np.isfinite(v)):
            raise ValueError(f"u(t) is not finite at t = {time}: {v}")
        return v.tolist()

    return values


def _time(t, lazy=False):
    if isinstance(t, (bool, np.bool_)):
        raise TypeError(f"t must be a time step or the sample times, got {t!r}")
    if isinstance(t, numbers.Real):
        return float(t)
    if lazy and _chunked.is_dask_collection(t):
        return t
    return np.ascontiguousarray(real_array("t", t))


def _as_list(v, multiple):
    if v is None:
        return None
    return list(v) if multiple else [v]


class SINDy:
    """``x' = Xi theta(x, u)`` found by sparse regression of the derivatives on a library of candidate
    functions (PySINDy's ``SINDy``; defaults: ``FiniteDifference()``, ``PolynomialLibrary(degree=2)``,
    ``STLSQ()``)."""

    _discrete = False

    def __init__(self, optimizer=None, feature_library=None, differentiation_method=None):
        self.optimizer = optimizer
        self.feature_library = feature_library
        self.differentiation_method = differentiation_method

    def _parts(self):
        optimizer = self.optimizer if self.optimizer is not None else STLSQ()
        library = self.feature_library if self.feature_library is not None else PolynomialLibrary()
        diff = self.differentiation_method if self.differentiation_method is not None else FiniteDifference()
        return optimizer, library, diff

    def _trajectories(self, x, t, target, u, lazy=False):
        multiple = isinstance(x, (list, tuple))
        xs = _as_list(x, multiple)
        if not xs:
            raise ValueError("x holds no trajectories")
        if multiple and isinstance(t, (list, tuple)):
            ts = list(t)
        else:
            ts = [t] * len(xs)
        if len(ts) != len(xs):
            raise ValueError(f"{len(xs)} trajectories but {len(ts)} time arrays")
        targets = _as_list(target, multiple) or [None] * len(xs)
        us = _as_list(u, multiple) or [None] * len(xs)
        for what, given in (("x_dot", targets), ("u", us)):
            if len(given) != len(xs):
                raise ValueError(f"{len(xs)} trajectories but {len(given)} {what} arrays")
        out = []
        for xi, ti, di, ui in zip(xs, ts, targets, us):
            xi = _states(xi, "x", lazy)
            ti = 1.0 if ti is None else _time(ti, lazy)
            ui = None if ui is None else _states(ui, "u", lazy)
            di = None if di is None else _states(di, "x_dot", lazy)
            out.append((xi, ti, ui, di))
        return out

    def _fit(self, x, t, target, u, feature_names):
        optimizer, library, diff = self._parts()
        spec = {"differentiation": diff._spec(), "library": library._spec(), "optimizer": optimizer._spec(),
                "discrete_time": self._discrete}
        trajectories = self._trajectories(x, t, target, u, lazy=True)
        n_states = trajectories[0][0].shape[1]
        n_controls = 0 if trajectories[0][2] is None else trajectories[0][2].shape[1]
        names = controls = None
        if feature_names is not None:
            if isinstance(feature_names, str) or not all(isinstance(f, str) for f in feature_names):
                raise ValueError(f"feature_names must be a list of strings, got {feature_names!r}")
            feature_names = list(feature_names)
            if len(feature_names) != n_states + n_controls:
                raise ValueError(
                    f"feature_names has {len(feature_names)} names for {n_states} states and {n_controls} "
                    f"control inputs: give one name per state, then one per control"
                )
            names, controls = feature_names[:n_states], feature_names[n_states:] or None
        if any(_chunked.is_dask_collection(v) for tr in trajectories for v in tr):
            self.model_ = _chunked.sindy_fit(trajectories, spec, names, controls)
        else:
            self.model_ = _native.sindy_fit(trajectories, spec, names, controls)
        self._differentiation_ = diff  # the one the fit used, for score with another metric
        self.n_control_features_ = 0 if trajectories[0][2] is None else trajectories[0][2].shape[1]
        self.feature_names = self.model_.state_names()
        self.n_features_in_ = n_states + self.n_control_features_
        optimizer.coef_ = self.model_.coefficients()
        ensemble = self.model_.ensemble()
        if ensemble is not None:
            optimizer.coef_list = ensemble[0]
        return self

    def fit(self, x, t, x_dot=None, u=None, feature_names=None):
        """Fits ``x`` (n_samples, n_states), or a list of trajectories, sampled at ``t`` (a step, the sample
        times, or a list of them), with optional given derivatives ``x_dot`` and control inputs ``u``;
        ``feature_names`` names the states, then the controls.

        Any of the arrays may be dask arrays chunked along time: the fit then never gathers them. Each chunk,
        widened by the samples its derivatives read, is reduced on its worker to its normal equations,
        these are summed in a fixed order and the optimizer runs once on the sums (see
        ``sparsimony._chunked``): the same model as the in-memory fit, up to rounding. The spectral
        derivative and ensembles that resample rows (``bagging``) need the whole data and are refused."""
        return self._fit(x, t, x_dot, u, feature_names)

    def coefficients(self):
        """The coefficients, (n_states, n_features)."""
        return self.model_.coefficients()

    def get_feature_names(self):
        """The library's term names."""
        return self.model_.feature_names()

    def equations(self, precision=3):
        """The right-hand sides as strings, PySINDy's format."""
        return self.model_.equations(check_int("precision", precision, 0, MAX_PRECISION))

    def print(self, lhs=None, precision=3, **kwargs):
        """Prints ``lhs = rhs`` for each state, as PySINDy's ``print``."""
        lhs = lhs if lhs is not None else self.model_.lhs()
        for name, eq in zip(lhs, self.equations(precision)):
            print(f"{name} = {eq}", **kwargs)

    def predict(self, x, u=None):
        """The model's output ``Xi theta(x, u)`` for each sample (derivatives; next states for
        ``DiscreteSINDy``)."""
        return self.model_.predict(_states(x, "x"), None if u is None else _states(u, "u"))

    def score(self, x, t, x_dot=None, u=None, metric=r2_score, **metric_kws):
        """R² of the predicted against the computed (or given) derivatives, averaged over the states; another
        ``metric(x_dot, predicted, **metric_kws)`` is computed in Python."""
        trajectories = self._trajectories(x, t, x_dot, u)
        if metric is r2_score and not metric_kws:
            return self.model_.score(trajectories)
        truth, pred = [], []
        for xi, ti, ui, di in trajectories:
            if self._discrete and di is None:
                # The next states, against the map applied to each state but the last.
                truth.append(xi[1:])
                pred.append(self.model_.predict(xi[:-1], None if ui is None else ui[:-1]))
                continue
            d = di if di is not None else self._differentiation_(xi, ti)
            keep = ~np.isnan(d).any(axis=1)
            truth.append(d[keep])
            pred.append(self.model_.predict(xi, ui)[keep])
        return metric(np.vstack(truth), np.vstack(pred), **metric_kws)

    def simulate(self, x0, t, u=None, integrator="solve_ivp", interpolator=None, integrator_kws=None,
                 interpolator_kws=None):
        """Integrates the model from ``x0`` over the times ``t`` (adaptive Dormand–Prince at
        ``integrator_kws`` ``rtol``/``atol``, default 1e-12 as PySINDy's). ``u``: a function of time, or
        samples at ``t`` interpolated by a cubic spline (PySINDy's default interpolator)."""
        if integrator != "solve_ivp":
            raise ValueError("simulate: only integrator='solve_ivp' (Dormand-Prince in Rust) is supported")
        extra = set(integrator_kws or {}) - {"rtol", "atol"}
        if extra:
            raise ValueError(f"simulate: integrator_kws {sorted(extra)} are not supported (only rtol, atol)")
        if interpolator is not None:
            raise ValueError("simulate: interpolator is not supported (control samples are interpolated by a "
                             "cubic spline, PySINDy's default)")
        kws = {"rtol": 1e-12, "atol": 1e-12, **(integrator_kws or {})}
        if np.ndim(t) == 0:
            raise ValueError(
                f"t must be the array of times to integrate over (the first is x0's), got the scalar {t!r}: "
                "for a duration T use e.g. np.linspace(0, T, n). (Only DiscreteSINDy.simulate takes a count.)"
            )
        t = np.ascontiguousarray(real_array("t", t))
        for name in ("rtol", "atol"):
            if not (isinstance(kws[name], numbers.Real) and np.isfinite(kws[name]) and kws[name] > 0):
                raise ValueError(f"integrator_kws {name} must be a finite number > 0, got {kws[name]!r}")
        if u is not None and self.n_control_features_ == 0:
            raise ValueError("the model was fitted without control inputs: u must be None")
        control = u
        if u is not None and not callable(u):
            from scipy.interpolate import interp1d

            samples = _states(u, "u")
            control = interp1d(t, samples, axis=0, kind="cubic", **(interpolator_kws or {}))
        if control is not None:
            control = _control_values(control)
        return self.model_.simulate(np.ascontiguousarray(real_array("x0", x0)), t, control,
                                    rtol=float(kws["rtol"]), atol=float(kws["atol"]))

    def export(self, name="model", ty="f32"):
        """The model as Rust source for ``sparsimony-core``: statics and a ``model()`` constructor in scalar
        type ``ty``, for a microcontroller (only the terms with a non-zero coefficient)."""
        return self.model_.export(name, ty)


class DiscreteSINDy(SINDy):
    """``x[k+1] = Xi theta(x[k], u[k])`` (PySINDy's ``DiscreteSINDy``)."""

    _discrete = True

    def __init__(self, optimizer=None, feature_library=None):
        super().__init__(optimizer=optimizer, feature_library=feature_library)

    def get_feature_names(self):
        """The library's term names, without the ``[k]`` the equations carry (as PySINDy's)."""
        return [name.replace("[k]", "") for name in self.model_.feature_names()]

    def fit(self, x, t=1, x_next=None, u=None, feature_names=None):
        """Fits the map from each sample of ``x`` to the next (or to ``x_next``)."""
        return self._fit(x, t, x_next, u, feature_names)

    def simulate(self, x0, t, u=None, stop_condition=None):
        """``t`` states from ``x0`` (the first is ``x0``: ``t - 1`` steps of the map; ``u``: a row of
        controls per step, row ``k`` for step ``k`` — extra rows, such as the ``t``-th of controls sampled
        beside the states, are not used), as PySINDy's. Fewer rows come back when the map diverges: the
        states up to the last one the model could still be evaluated at."""
        if stop_condition is not None:
            raise ValueError("DiscreteSINDy.simulate: stop_condition is not supported")
        check_int("t (the number of states)", t, 1)
        if u is not None:
            u = _states(u, "u")
            if len(u) < t - 1:
                raise ValueError(f"u has {len(u)} rows for {t - 1} steps")
            u = np.ascontiguousarray(u[: t - 1])
        return self.model_.simulate(np.ascontiguousarray(real_array("x0", x0)), int(t) - 1, u)
