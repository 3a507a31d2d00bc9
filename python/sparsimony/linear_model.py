"""Sparse linear regression: scikit-learn estimators with sparsimony's Rust solvers underneath.

``Lasso``, ``ElasticNet``, ``LassoCV``, ``ElasticNetCV`` and ``OrthogonalMatchingPursuit`` take
scikit-learn's parameters, defaults and objective,

    1 / (2 n_samples) * ||y - X w - b||^2 + alpha * (l1_ratio * ||w||_1 + (1 - l1_ratio) / 2 * ||w||^2),

and give its attributes (``coef_``, ``intercept_``, ``n_iter_``, ``dual_gap_``, ``alpha_``, ``alphas_``,
``mse_path_``). They can replace scikit-learn's estimators in existing code. ``IHT``, ``BestSubset`` and
``RandomSupport`` are sparsimony's own estimators in the same shape.

Input: dense arrays in any memory order, and scipy.sparse matrices for the elastic-net family.
Conversions, each at most one copy:

- float64 arrays are read in place (C or Fortran order, strided);
- other dtypes are converted to float64 once;
- sparse matrices are converted to CSC with sorted indices, then read in place, except for SciPy's int32
  indices, which are widened once.

``tol`` bounds the duality gap relative to ``||y - mean(y)||^2 / n_samples``, scikit-learn's stopping
rule. The Rust solver (coordinate descent with working sets and gap-safe screening) visits features in its
own order, so ``selection`` and ``random_state`` are accepted and have no effect: the solution is the same
optimum to ``tol``.

The GIL is released during every fit, so folds (``n_jobs``) and separate fits on Python threads run in
parallel. A fit that stops at ``max_iter`` keeps its last iterate and issues scikit-learn's
``ConvergenceWarning``. Bad input raises ``ValueError`` with the solver's message.
"""

from __future__ import annotations

import numbers
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import check_cv
from sklearn.utils.validation import check_is_fitted, validate_data

from . import _chunked, _native
from ._checks import check_bool, check_int, check_memory, check_real, real_array

__all__ = [
    "ElasticNet",
    "Lasso",
    "ElasticNetCV",
    "LassoCV",
    "OrthogonalMatchingPursuit",
    "IHT",
    "BestSubset",
    "RandomSupport",
    "enet_path",
    "lasso_path",
]


# --- input helpers ------------------------------------------------------------------------------------


def _design(X):
    """The design as ``_native`` takes it: a float64 array as it is, or a CSC matrix's parts."""
    if sp.issparse(X):
        X = X.tocsc()
        if not X.has_sorted_indices or not X.has_canonical_format:
            X = X.copy()
            X.sum_duplicates()
            X.sort_indices()
        # Read in place by the solver; only SciPy's int32 indices are widened to the machine's usize.
        return (
            np.ascontiguousarray(X.data, dtype=np.float64),
            np.ascontiguousarray(X.indices, dtype=np.uintp),
            np.ascontiguousarray(X.indptr, dtype=np.uintp),
            X.shape,
        )
    return X


def _sample_weight(sample_weight, n):
    """Weights checked (finite, ≥ 0, not all 0) and scaled to sum ``n``, as scikit-learn scales them
    (divided by the largest first, so that tiny, even subnormal, weights scale without overflow)."""
    sw = real_array("sample_weight", sample_weight)
    if sw.ndim == 0:
        sw = np.full(n, float(sw))
    if sw.shape != (n,):
        raise ValueError(f"sample_weight.shape == {sw.shape}, expected {(n,)}!")
    if not np.all(np.isfinite(sw)):
        raise ValueError("sample_weight holds NaN or infinity")
    if np.any(sw < 0):
        raise ValueError("Negative values in data passed to `sample_weight`")
    top = sw.max()
    if top <= 0:
        raise ValueError("Sample weights must contain at least one non-zero number (they sum to 0)")
    sw = sw / top
    return sw * (n / sw.sum())


class _Weighted:
    """A weighted dense problem reduced to an unweighted one with the same minimiser.

    scikit-learn's reduction: centre X and y on their weighted means (with an intercept), then scale each
    row by ``sqrt(w_i)``. This minimises ``1/(2n) sum_i w_i (y_i - x_i w - b)^2`` with ``sum_i w_i = n``.
    ``fit_intercept`` is then passed to the solver as false. A sparse design is not reduced here: the
    weights go to the Rust solver, which centres on the weighted means implicitly (the design stays
    sparse).
    """

    def __init__(self, X, y, sw, fit_intercept):
        root = np.sqrt(sw)
        self.fit_intercept = fit_intercept
        self.y_offset = np.average(y, axis=0, weights=sw) if fit_intercept else 0.0
        yc = (y - self.y_offset) * (root if y.ndim == 1 else root[:, None])
        self.X_offset = np.average(X, axis=0, weights=sw) if fit_intercept else np.zeros(X.shape[1])
        self.X, self.y = (X - self.X_offset) * root[:, None], yc

    def coef_intercept(self, coef, target=0):
        """The original problem's ``(coef, intercept)`` for ``target`` from the reduced problem's
        coefficients."""
        if not self.fit_intercept:
            return coef, 0.0
        y_offset = self.y_offset[target] if np.ndim(self.y_offset) else self.y_offset
        return coef, y_offset - self.X_offset @ coef


def _warn_unconverged(name, gap, tol):
    warnings.warn(
        f"{name}: objective did not converge. You might want to increase the number of iterations "
        f"(max_iter). Duality gap: {gap:.3e}, tolerance: {tol:.3e}",
        ConvergenceWarning,
        stacklevel=3,
    )


def _check_int(name, value, low, allow_none=False):
    return check_int(name, value, low, allow_none=allow_none)


def _check_real(name, value, low, high=None):
    return check_real(name, value, low, high)


def _check_n_jobs(n_jobs):
    """``n_jobs`` as scikit-learn takes it: None, or a non-zero integer (-1 for all processors)."""
    if n_jobs is None:
        return None
    n_jobs = check_int("n_jobs", n_jobs, -(2**31), 2**31)
    if n_jobs == 0:
        raise ValueError("n_jobs == 0 has no meaning: give None, a positive count, or -1 for all processors")
    return n_jobs


def _precompute(value):
    """``precompute`` as ``_native`` takes it: None for 'auto', else a bool."""
    if isinstance(value, str):
        if value != "auto":
            raise ValueError(f"precompute must be 'auto', True or False, got {value!r}")
        return None
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise ValueError(
        "precompute must be 'auto', True or False: a precomputed Gram matrix is not taken "
        "(precompute=True forms it in Rust)"
    )


def _tol(tol):
    # scikit-learn allows tol = 0 (run to max_iter); the solver needs a positive tolerance.
    return max(float(tol), np.finfo(np.float64).tiny)


class _LinearModel(RegressorMixin, BaseEstimator):
    """``predict`` and the attributes every linear model here shares."""

    def _supports_sparse(self):
        return False

    def predict(self, X):
        """Predictions ``X @ coef_.T + intercept_``, shape ``(n_samples,)`` or ``(n_samples, n_targets)``;
        for a dask array, a dask array (computed lazily, chunk by chunk)."""
        check_is_fitted(self)
        if _chunked.is_dask_collection(X):
            if X.ndim != 2 or X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has shape {X.shape}, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input"
                )
            return X.astype(np.float64) @ self.coef_.T + self.intercept_
        X = validate_data(self, X, accept_sparse="csr" if self._supports_sparse() else False, reset=False)
        return X @ self.coef_.T + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = self._supports_sparse()
        return tags

    @property
    def sparse_coef_(self):
        """``coef_`` as a scipy.sparse CSR matrix."""
        return sp.csr_matrix(self.coef_)

    def _validate(self, X, y, multi_output=True):
        if not sp.issparse(X) and hasattr(X, "shape") and hasattr(X, "dtype"):
            # The solvers copy a dense X once (column-major): refused before anything is allocated, as
            # scikit-learn's own copy fails at once (a broadcast view of a huge shape takes no memory).
            check_memory("X", X.shape)
        return validate_data(
            self,
            X,
            y,
            accept_sparse="csc" if self._supports_sparse() else False,
            dtype=np.float64,
            multi_output=multi_output,
            y_numeric=True,
        )

    def _store(self, coefs, intercepts, squeeze):
        coef = np.asarray(coefs)
        intercept = np.asarray(intercepts, dtype=np.float64)
        self.coef_ = coef[0] if squeeze else coef
        self.intercept_ = float(intercept[0]) if squeeze else intercept


# --- the elastic net and the Lasso ------------------------------------------------------------------


class ElasticNet(_LinearModel):
    """Linear regression with combined L1 and L2 priors, scikit-learn's ``ElasticNet``.

    Minimises ``1/(2 n_samples) ||y - Xw - b||^2 + alpha * l1_ratio * ||w||_1
    + 0.5 * alpha * (1 - l1_ratio) * ||w||^2``.

    Parameters are scikit-learn's. ``precompute`` may be 'auto', True or False; a precomputed Gram array
    is not taken. ``copy_X`` has no effect, because X is never modified. ``selection`` and
    ``random_state`` are accepted for compatibility (see the module docs).

    Attributes: ``coef_`` (n_features,) or (n_targets, n_features), ``intercept_``, ``n_iter_``
    (coordinate-descent epochs), ``dual_gap_`` (the duality gap in the objective's scaling above),
    ``sparse_coef_``, ``n_features_in_``, ``feature_names_in_``.
    """

    def __init__(
        self,
        alpha=1.0,
        *,
        l1_ratio=0.5,
        fit_intercept=True,
        precompute=False,
        max_iter=1000,
        copy_X=True,
        tol=1e-4,
        warm_start=False,
        positive=False,
        random_state=None,
        selection="cyclic",
    ):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.copy_X = copy_X
        self.tol = tol
        self.warm_start = warm_start
        self.positive = positive
        self.random_state = random_state
        self.selection = selection

    def _supports_sparse(self):
        return True

    def _check_params(self):
        _check_real("alpha", self.alpha, 0.0)
        _check_real("l1_ratio", self.l1_ratio, 0.0, 1.0)
        _check_int("max_iter", self.max_iter, 1)
        _check_real("tol", self.tol, 0.0)
        for name in ("fit_intercept", "positive", "warm_start", "copy_X"):
            check_bool(name, getattr(self, name))
        if self.selection not in ("cyclic", "random"):
            raise ValueError(f"selection should be either 'random' or 'cyclic', got {self.selection!r}")
        return _precompute(self.precompute)

    def fit(self, X, y, sample_weight=None, check_input=True):
        """Fits the model to ``X`` (n_samples, n_features), dense or sparse, and ``y`` (n_samples,) or
        (n_samples, n_targets), with optional non-negative ``sample_weight`` (n_samples,).

        ``X`` (and ``y``, ``sample_weight``) may be dask arrays chunked along the rows: the fit then never
        gathers them. Each row chunk is reduced on its worker to its normal equations, the chunks' are
        merged in a fixed order, and coordinate descent runs on the Gram matrix (see
        ``sparsimony._chunked``), which is the same optimum as the in-memory fit, to ``tol``. There,
        ``precompute`` and ``warm_start`` have no effect."""
        precompute = self._check_params()
        if any(_chunked.is_dask_collection(v) for v in (X, y, sample_weight)):
            return self._fit_chunked(X, y, sample_weight)
        if check_input or not hasattr(self, "n_features_in_"):
            X, y = self._validate(X, y)
        n, d = X.shape
        y = np.asarray(y, dtype=np.float64)
        squeeze = y.ndim == 1
        Y = y[:, None] if squeeze else y
        if Y.shape[1] == 0:
            raise ValueError("y has no targets (0 columns)")
        fit_intercept = check_bool("fit_intercept", self.fit_intercept)
        weighted, native_sw = None, None
        Xs, Ys = X, Y
        if sample_weight is not None:
            sw = _sample_weight(sample_weight, n)
            if sp.issparse(X):
                native_sw = sw  # centred on the weighted means in Rust, implicitly
            else:
                weighted = _Weighted(X, Y, sw, fit_intercept)
                Xs, Ys = weighted.X, weighted.y
        design = _design(Xs)
        previous = None
        if self.warm_start and hasattr(self, "coef_"):
            previous = np.atleast_2d(self.coef_)
            if previous.shape != (Y.shape[1], d):
                previous = None
        coefs, intercepts, n_iters, gaps = [], [], [], []
        for t in range(Y.shape[1]):
            start = None
            if previous is not None:
                start = np.ascontiguousarray(previous[t], dtype=np.float64)
            coef, intercept, (n_iter, converged, gap, gap_tol) = _native.enet_fit(
                design,
                np.ascontiguousarray(Ys[:, t]),
                alpha=float(self.alpha),
                l1_ratio=float(self.l1_ratio),
                fit_intercept=fit_intercept and weighted is None,
                positive=check_bool("positive", self.positive),
                penalty_weights=None,
                max_iter=int(self.max_iter),
                tol=_tol(self.tol),
                solver="cd",
                precompute=precompute,
                coef_init=start,
                sample_weight=native_sw,
            )
            if weighted is not None:
                coef, intercept = weighted.coef_intercept(coef, t)
            if not converged:
                _warn_unconverged(type(self).__name__, gap, gap_tol)
            coefs.append(coef)
            intercepts.append(intercept)
            n_iters.append(n_iter)
            gaps.append(gap)
        self._store(coefs, intercepts, squeeze)
        self.n_iter_ = n_iters[0] if squeeze else list(n_iters)
        self.dual_gap_ = float(gaps[0]) if squeeze else np.asarray(gaps)
        return self

    def _fit_chunked(self, X, y, sample_weight):
        """The fit on dask arrays, from their merged normal equations."""
        fit_intercept = check_bool("fit_intercept", self.fit_intercept)
        if sample_weight is not None and np.ndim(sample_weight) == 0:
            # One weight for every sample (scikit-learn's scalar) leaves the objective's minimiser as it is.
            _check_real("sample_weight", sample_weight, 0.0)
            if float(sample_weight) == 0.0:
                raise ValueError("sample_weight sums to zero: no sample carries weight")
            sample_weight = None
        stats = _chunked.statistics(X, y, sample_weight, centre=fit_intercept)
        gram, cross, y_sq, n, mx, my = _chunked.normal_equations(stats, fit_intercept)
        fits = _native.enet_normal(
            gram,
            cross,
            y_sq,
            n,
            alpha=float(self.alpha),
            l1_ratio=float(self.l1_ratio),
            positive=check_bool("positive", self.positive),
            max_iter=int(self.max_iter),
            tol=_tol(self.tol),
        )
        squeeze = np.ndim(y) == 1
        coefs, intercepts, n_iters, gaps = [], [], [], []
        for t, (coef, _, (n_iter, converged, gap, gap_tol)) in enumerate(fits):
            if not converged:
                _warn_unconverged(type(self).__name__, gap, gap_tol)
            coefs.append(coef)
            intercepts.append(float(my[t] - mx @ coef) if fit_intercept else 0.0)
            n_iters.append(n_iter)
            gaps.append(gap)
        self.n_features_in_ = gram.shape[0]
        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self._store(coefs, intercepts, squeeze)
        self.n_iter_ = n_iters[0] if squeeze else list(n_iters)
        self.dual_gap_ = float(gaps[0]) if squeeze else np.asarray(gaps)
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


class Lasso(ElasticNet):
    """Linear model trained with an L1 prior, scikit-learn's ``Lasso``: ``ElasticNet`` with
    ``l1_ratio = 1``. Minimises ``1/(2 n_samples) ||y - Xw - b||^2 + alpha ||w||_1``."""

    def __init__(
        self,
        alpha=1.0,
        *,
        fit_intercept=True,
        precompute=False,
        copy_X=True,
        max_iter=1000,
        tol=1e-4,
        warm_start=False,
        positive=False,
        random_state=None,
        selection="cyclic",
    ):
        super().__init__(
            alpha=alpha,
            l1_ratio=1.0,
            fit_intercept=fit_intercept,
            precompute=precompute,
            max_iter=max_iter,
            copy_X=copy_X,
            tol=tol,
            warm_start=warm_start,
            positive=positive,
            random_state=random_state,
            selection=selection,
        )


def _alpha_grid(design, y, l1_ratio, fit_intercept, sample_weight, eps, n_alphas):
    """scikit-learn's grid: ``n_alphas`` values from ``alpha_max`` down to ``eps * alpha_max``,
    geometrically spaced."""
    top = _native.alpha_max(
        design, y, l1_ratio=l1_ratio, fit_intercept=fit_intercept, penalty_weights=None, sample_weight=sample_weight
    )
    if top <= np.finfo(np.float64).resolution:
        return np.full(n_alphas, np.finfo(np.float64).resolution)
    return np.geomspace(top, top * eps, num=n_alphas)


def enet_path(
    X,
    y,
    *,
    l1_ratio=0.5,
    eps=1e-3,
    alphas=None,
    n_alphas=100,
    fit_intercept=False,
    precompute="auto",
    max_iter=1000,
    tol=1e-4,
    positive=False,
    return_n_iter=False,
):
    """The elastic net along a path of ``alphas`` (decreasing; by default ``n_alphas`` values from
    ``alpha_max`` down to ``eps * alpha_max``), each fit warm-started from the previous one.

    Returns ``(alphas, coefs, dual_gaps)`` (and ``n_iters`` with ``return_n_iter``), with ``coefs`` of
    shape ``(n_features, n_alphas)``, as scikit-learn's ``enet_path``. Unlike scikit-learn's, this path
    centres the data itself when ``fit_intercept`` is true. The default false is scikit-learn's
    behaviour on data you centred yourself.
    """
    X = X.tocsc() if sp.issparse(X) else np.asarray(X, dtype=np.float64)
    if sp.issparse(X):
        X = X.astype(np.float64)
    y = np.ascontiguousarray(y, dtype=np.float64)
    if y.ndim != 1:
        raise ValueError(f"y must be one-dimensional, got shape {y.shape}")
    design = _design(X)
    if alphas is None:
        alphas = _alpha_grid(design, y, l1_ratio, fit_intercept, None, eps, n_alphas)
    alphas = np.sort(np.asarray(alphas, dtype=np.float64))[::-1]
    coefs, _, n_iters, gaps, converged = _native.enet_path(
        design,
        y,
        list(alphas),
        l1_ratio=float(l1_ratio),
        fit_intercept=bool(fit_intercept),
        positive=bool(positive),
        penalty_weights=None,
        max_iter=int(max_iter),
        tol=_tol(tol),
        precompute=_precompute(precompute),
    )
    if not all(converged):
        _warn_unconverged("enet_path", max(gaps), tol)
    out = (alphas, coefs, np.asarray(gaps))
    return out + (np.asarray(n_iters),) if return_n_iter else out


def lasso_path(X, y, *, eps=1e-3, alphas=None, n_alphas=100, **params):
    """``enet_path`` with ``l1_ratio = 1`` (scikit-learn's ``lasso_path``)."""
    return enet_path(X, y, l1_ratio=1.0, eps=eps, alphas=alphas, n_alphas=n_alphas, **params)


class ElasticNetCV(_LinearModel):
    """Elastic net with ``alpha`` (and ``l1_ratio``, when a list is given) chosen by cross-validation,
    scikit-learn's ``ElasticNetCV``.

    ``cv`` is scikit-learn's (None for 5-fold ``KFold``, an int, a splitter, or an iterable of splits);
    each fold's path is one Rust call with the GIL released, so ``n_jobs`` folds run at once on threads.
    ``alphas`` is the grid size (int, default 100) or the grid itself. The model with the smallest mean
    held-out mean squared error (weighted by ``sample_weight`` when given) is refitted on all the data.

    Attributes: ``alpha_``, ``l1_ratio_``, ``coef_``, ``intercept_``, ``mse_path_`` (n_l1_ratio,
    n_alphas, n_folds), or (n_alphas, n_folds) for one ``l1_ratio``, ``alphas_`` (the same leading
    shape), ``dual_gap_``, ``n_iter_``.
    """

    def __init__(
        self,
        *,
        l1_ratio=0.5,
        eps=1e-3,
        alphas=100,
        fit_intercept=True,
        precompute="auto",
        max_iter=1000,
        tol=1e-4,
        cv=None,
        copy_X=True,
        verbose=0,
        n_jobs=None,
        positive=False,
        random_state=None,
        selection="cyclic",
    ):
        self.l1_ratio = l1_ratio
        self.eps = eps
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.precompute = precompute
        self.max_iter = max_iter
        self.tol = tol
        self.cv = cv
        self.copy_X = copy_X
        self.verbose = verbose
        self.n_jobs = n_jobs
        self.positive = positive
        self.random_state = random_state
        self.selection = selection

    def _supports_sparse(self):
        return True

    def _l1_ratios(self):
        ratios = np.atleast_1d(np.asarray(self.l1_ratio, dtype=np.float64))
        for r in ratios:
            _check_real("l1_ratio", float(r), 0.0, 1.0)
        return ratios

    def fit(self, X, y, sample_weight=None, **params):
        """Cross-validates on ``X`` (dense or sparse) and ``y`` (n_samples,), then refits at the chosen
        ``alpha``. ``params`` may hold ``groups`` for a group splitter."""
        groups = params.pop("groups", None)
        if params:
            raise TypeError(f"unexpected fit parameters: {sorted(params)}")
        ratios = self._l1_ratios()
        _check_real("eps", self.eps, 0.0)
        _check_int("max_iter", self.max_iter, 1)
        _check_real("tol", self.tol, 0.0)
        precompute = _precompute(self.precompute)
        fit_intercept = check_bool("fit_intercept", self.fit_intercept)
        positive = check_bool("positive", self.positive)
        check_bool("copy_X", self.copy_X)
        n_jobs = _check_n_jobs(self.n_jobs)
        X, y = self._validate(X, y, multi_output=False)
        n, d = X.shape
        y = np.asarray(y, dtype=np.float64)
        sw = None if sample_weight is None else _sample_weight(sample_weight, n)

        def reduced(rows):
            """The (possibly weighted) problem on ``rows``: ``(design, y, fit_intercept, weighted,
            native_sw)``: a dense weighted problem is reduced here, a sparse one's weights go to Rust."""
            Xr, yr = X[rows], y[rows]
            if sw is None:
                return _design(Xr), np.ascontiguousarray(yr), fit_intercept, None, None
            swr = sw[rows] * (len(rows) / sw[rows].sum())
            if sp.issparse(Xr):
                return _design(Xr), np.ascontiguousarray(yr), fit_intercept, None, swr
            w = _Weighted(Xr, yr, swr, fit_intercept)
            return _design(w.X), np.ascontiguousarray(w.y), False, w, None

        everything = reduced(np.arange(n))
        if isinstance(self.alphas, numbers.Integral) and not isinstance(self.alphas, bool):
            _check_int("alphas", self.alphas, 1)
            grids = [
                _alpha_grid(everything[0], everything[1], r, everything[2], everything[4], self.eps, self.alphas)
                for r in ratios
            ]
        else:
            if isinstance(self.alphas, (numbers.Number, str, bool)) or np.ndim(self.alphas) != 1:
                raise ValueError(
                    f"alphas must be an int >= 1 (the grid size) or a 1-D array-like of values, got {self.alphas!r}"
                )
            grid = np.sort(real_array("alphas", self.alphas))[::-1]
            if grid.size == 0 or not np.all(np.isfinite(grid)) or np.any(grid < 0):
                raise ValueError("alphas must be a positive int or a non-empty array of finite values >= 0")
            grids = [grid for _ in ratios]
        splits = list(check_cv(self.cv).split(X, y, groups))

        def fold_errors(job):
            r, (train, test) = job
            design, yt, intercept, weighted, native_sw = reduced(train)
            coefs, intercepts, _, _, _ = _native.enet_path(
                design,
                yt,
                list(grids[r]),
                l1_ratio=float(ratios[r]),
                fit_intercept=intercept,
                positive=positive,
                penalty_weights=None,
                max_iter=int(self.max_iter),
                tol=_tol(self.tol),
                precompute=precompute,
                sample_weight=native_sw,
            )
            if weighted is not None:
                pairs = [weighted.coef_intercept(coefs[:, a]) for a in range(coefs.shape[1])]
                coefs = np.column_stack([c for c, _ in pairs])
                intercepts = np.array([b for _, b in pairs])
            residual = (X[test] @ coefs + intercepts) - y[test][:, None]
            weights = None if sw is None else sw[test]
            return np.average(residual**2, axis=0, weights=weights)

        jobs = [(r, s) for r in range(len(ratios)) for s in splits]
        workers = 1 if n_jobs is None else (n_jobs if n_jobs > 0 else None)
        if workers == 1:
            errors = [fold_errors(j) for j in jobs]
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                errors = list(pool.map(fold_errors, jobs))
        mse = np.asarray(errors).reshape(len(ratios), len(splits), -1).transpose(0, 2, 1)
        mean = mse.mean(axis=2)
        best_r, best_a = np.unravel_index(np.argmin(mean), mean.shape)
        self.l1_ratio_ = float(ratios[best_r])
        self.alpha_ = float(grids[best_r][best_a])
        single = np.ndim(self.l1_ratio) == 0
        self.mse_path_ = mse[0] if single else mse
        self.alphas_ = grids[0] if single else np.asarray(grids)
        model = ElasticNet(
            alpha=self.alpha_,
            l1_ratio=self.l1_ratio_,
            fit_intercept=fit_intercept,
            precompute=self.precompute,
            max_iter=self.max_iter,
            tol=self.tol,
            positive=positive,
        ).fit(X, y, sample_weight=sample_weight, check_input=False)
        self.coef_, self.intercept_ = model.coef_, model.intercept_
        self.dual_gap_, self.n_iter_ = model.dual_gap_, model.n_iter_
        return self


class LassoCV(ElasticNetCV):
    """Lasso with ``alpha`` chosen by cross-validation, scikit-learn's ``LassoCV``: ``ElasticNetCV``
    with ``l1_ratio = 1``."""

    def __init__(
        self,
        *,
        eps=1e-3,
        alphas=100,
        fit_intercept=True,
        precompute="auto",
        max_iter=1000,
        tol=1e-4,
        copy_X=True,
        cv=None,
        verbose=False,
        n_jobs=None,
        positive=False,
        random_state=None,
        selection="cyclic",
    ):
        super().__init__(
            l1_ratio=1.0,
            eps=eps,
            alphas=alphas,
            fit_intercept=fit_intercept,
            precompute=precompute,
            max_iter=max_iter,
            tol=tol,
            cv=cv,
            copy_X=copy_X,
            verbose=verbose,
            n_jobs=n_jobs,
            positive=positive,
            random_state=random_state,
            selection=selection,
        )


# --- support selection ------------------------------------------------------------------------------


class _SupportSelection(_LinearModel):
    """A dense, multi-output support-selection estimator: one native fit per target."""

    def _native_fit(self, X, y):  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    def fit(self, X, y):
        """Fits ``X`` (n_samples, n_features), dense, to ``y`` (n_samples,) or (n_samples, n_targets)."""
        X, y = self._validate(X, y)
        y = np.asarray(y, dtype=np.float64)
        squeeze = y.ndim == 1
        Y = y[:, None] if squeeze else y
        fits = [self._native_fit(X, np.ascontiguousarray(Y[:, t])) for t in range(Y.shape[1])]
        self._store([f[0] for f in fits], [f[1] for f in fits], squeeze)
        n_iters = [f[2][0] for f in fits]
        self.n_iter_ = n_iters[0] if squeeze else n_iters
        for f in fits:
            if not f[2][1]:
                _warn_unconverged(type(self).__name__, f[2][2], f[2][3])
        return self

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def _default_sparsity(n_nonzero_coefs, d):
    return max(int(0.1 * d), 1) if n_nonzero_coefs is None else n_nonzero_coefs


class OrthogonalMatchingPursuit(_SupportSelection):
    """Orthogonal matching pursuit, scikit-learn's ``OrthogonalMatchingPursuit``.

    Stops at ``n_nonzero_coefs`` features (default ``max(n_features // 10, 1)``) or, when ``tol`` is
    given, once the squared residual norm ``||y - Xw - b||^2`` (unscaled) is at most ``tol``. ``precompute``
    is accepted for compatibility. Attributes: ``coef_``, ``intercept_``, ``n_iter_`` (features
    selected), ``n_nonzero_coefs_``.
    """

    def __init__(self, *, n_nonzero_coefs=None, tol=None, fit_intercept=True, precompute="auto"):
        self.n_nonzero_coefs = n_nonzero_coefs
        self.tol = tol
        self.fit_intercept = fit_intercept
        self.precompute = precompute

    def _native_fit(self, X, y):
        _check_int("n_nonzero_coefs", self.n_nonzero_coefs, 1, allow_none=True)
        if self.tol is not None:
            _check_real("tol", self.tol, 0.0)
        if self.tol is None:
            self.n_nonzero_coefs_ = _default_sparsity(self.n_nonzero_coefs, X.shape[1])
            if self.n_nonzero_coefs_ > X.shape[1]:
                raise ValueError("The number of atoms cannot be more than the number of features")
        else:
            self.n_nonzero_coefs_ = None
        return _native.omp(
            X,
            y,
            n_nonzero=self.n_nonzero_coefs_ if self.tol is None else None,
            tol=None if self.tol is None else float(self.tol),
            fit_intercept=check_bool("fit_intercept", self.fit_intercept),
        )


class IHT(_SupportSelection):
    """Iterative hard thresholding (Blumensath & Davies 2009): proximal gradient on
    ``1/(2 n_samples) ||y - Xw - b||^2`` constrained to ``n_nonzero_coefs`` non-zeros (default
    ``max(n_features // 10, 1)``), then least squares on the support found (``debias``). ``tol`` bounds
    the relative change of the iterate. Attributes: ``coef_``, ``intercept_``, ``n_iter_``.
    """

    def __init__(self, *, n_nonzero_coefs=None, max_iter=10_000, tol=1e-10, debias=True, fit_intercept=True):
        self.n_nonzero_coefs = n_nonzero_coefs
        self.max_iter = max_iter
        self.tol = tol
        self.debias = debias
        self.fit_intercept = fit_intercept

    def _native_fit(self, X, y):
        _check_int("n_nonzero_coefs", self.n_nonzero_coefs, 1, allow_none=True)
        _check_int("max_iter", self.max_iter, 1)
        _check_real("tol", self.tol, 0.0)
        return _native.iht(
            X,
            y,
            n_nonzero=_default_sparsity(self.n_nonzero_coefs, X.shape[1]),
            max_iter=int(self.max_iter),
            tol=float(self.tol),
            debias=check_bool("debias", self.debias),
            fit_intercept=check_bool("fit_intercept", self.fit_intercept),
        )


class BestSubset(_SupportSelection):
    """Exhaustive best-subset selection: the support of ``n_nonzero_coefs`` features (default
    ``max(n_features // 10, 1)``) with the smallest residual, by trying every one. A reference for small
    problems: searches beyond about 2e9 operations are refused with ``ValueError``. Attributes: ``coef_``,
    ``intercept_``, ``n_iter_`` (subsets examined).
    """

    def __init__(self, *, n_nonzero_coefs=None, fit_intercept=True):
        self.n_nonzero_coefs = n_nonzero_coefs
        self.fit_intercept = fit_intercept

    def _native_fit(self, X, y):
        _check_int("n_nonzero_coefs", self.n_nonzero_coefs, 1, allow_none=True)
        if self.fit_intercept and X.shape[0] == 1:
            raise ValueError("n_samples=1: with an intercept the centred design is zero, so no subset can be fitted")
        k = _default_sparsity(self.n_nonzero_coefs, X.shape[1])
        return _native.best_subset(X, y, n_nonzero=k, fit_intercept=check_bool("fit_intercept", self.fit_intercept))


class RandomSupport(_SupportSelection):
    """Sparse regression on ill-conditioned designs (after Chandrasekaran, Meka & Stavropoulos, STOC 2026;
    see the Rust docs of ``sparsimony_solvers::regression::random_support``).

    The estimator adds the design's ill-conditioned directions as extra features, then runs a Lasso
    (``alpha`` by ``cv``-fold cross-validation over ``n_alphas`` values down to ``eps * alpha_max``)
    that picks which of them carry signal. A partial Lasso follows, with no penalty on the directions
    picked. With ``refit``, a BIC-pruned least-squares refit on the original columns ends it.

    Attributes: ``coef_``, ``intercept_``, ``n_iter_``, ``alpha_`` (the second stage's),
    ``n_directions_``, ``unpenalized_`` (the directions left unpenalised), ``condition_number_``.
    """

    def __init__(
        self,
        *,
        rel_threshold=np.inf,
        max_directions=None,
        cv=5,
        n_alphas=50,
        eps=1e-3,
        max_iter=10_000,
        tol=1e-6,
        refit=True,
        fit_intercept=True,
    ):
        self.rel_threshold = rel_threshold
        self.max_directions = max_directions
        self.cv = cv
        self.n_alphas = n_alphas
        self.eps = eps
        self.max_iter = max_iter
        self.tol = tol
        self.refit = refit
        self.fit_intercept = fit_intercept

    def _native_fit(self, X, y):
        _check_int("cv", self.cv, 2)
        _check_int("n_alphas", self.n_alphas, 1)
        _check_int("max_directions", self.max_directions, 0, allow_none=True)
        _check_int("max_iter", self.max_iter, 1)
        _check_real("tol", self.tol, 0.0)
        _check_real("eps", self.eps, 0.0, 1.0)
        if not (
            isinstance(self.rel_threshold, numbers.Real)
            and not isinstance(self.rel_threshold, (bool, np.bool_))
            and self.rel_threshold > 0
        ):
            raise ValueError(f"rel_threshold must be a number > 0 (np.inf allowed), got {self.rel_threshold!r}")
        if X.shape[0] < self.cv:
            raise ValueError(
                f"Cannot have number of folds cv={self.cv} greater than the number of samples: n_samples={X.shape[0]}."
            )
        fit, (directions, unpenalized, alpha, condition) = _native.random_support(
            X,
            y,
            rel_threshold=float(self.rel_threshold),
            max_directions=self.max_directions,
            cv=int(self.cv),
            n_alphas=int(self.n_alphas),
            eps=float(self.eps),
            max_iter=int(self.max_iter),
            tol=_tol(self.tol),
            refit=check_bool("refit", self.refit),
            fit_intercept=check_bool("fit_intercept", self.fit_intercept),
        )
        self.alpha_, self.n_directions_ = alpha, directions
        self.unpenalized_, self.condition_number_ = np.asarray(unpenalized, dtype=np.intp), condition
        return fit
