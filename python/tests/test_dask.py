"""sparsimony under Dask: the estimators as joblib tasks on a dask.distributed cluster, and fits on dask
arrays from their per-chunk normal equations.

The references are in-memory fits of the same data: scikit-learn's own ``GridSearchCV`` run serially,
and sparsimony's fit of the gathered array (its Gram path, the same algorithm on ``XᵀX`` formed in one
piece in Rust, to 1e-10; and its coordinate descent on ``X`` itself, the same optimum to the tolerance).
The cluster's workers are separate processes with a memory limit below the largest array's size, so a
fit that gathered it on one worker would fail.
"""

import warnings

import dask
import dask.array as da
import joblib
import numpy as np
import pytest
from distributed import Client, LocalCluster
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from scipy.integrate import solve_ivp

import sparsimony.sindy as ps
from sparsimony import linear_model as lm

WORKER_MEMORY = 512 * 2**20


@pytest.fixture(scope="module")
def client():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # distributed's notices about ports and the dashboard
        cluster = LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            memory_limit=WORKER_MEMORY,
            dashboard_address=None,
        )
    with Client(cluster) as c:
        yield c
    cluster.close()


def problem(n, d, chunk, seed=0, targets=None):
    """A lazily generated sparse regression: ``X`` (n, d) in row chunks, ``y = X β + 3 + noise``."""
    rng = da.random.default_rng(seed)
    X = rng.standard_normal((n, d), chunks=(chunk, d)) * np.linspace(0.5, 2.0, d) + 0.25
    beta = np.zeros((d,) if targets is None else (d, targets))
    beta[: d // 4] = np.linspace(1.0, -2.0, d // 4)[:, None] if targets else np.linspace(1.0, -2.0, d // 4)
    y = X @ beta + 3.0 + 0.5 * rng.standard_normal(y_shape(n, targets), chunks=chunk)
    return X, y


def y_shape(n, targets):
    return (n,) if targets is None else (n, targets)


def lorenz(n, dt, x0=(-8.0, 8.0, 27.0), noise=0.0, seed=0):
    def rhs(_, s):
        return [10 * (s[1] - s[0]), s[0] * (28 - s[2]) - s[1], s[0] * s[1] - 8 / 3 * s[2]]

    t = np.arange(n) * dt
    x = solve_ivp(rhs, (0, t[-1]), x0, t_eval=t, rtol=1e-10, atol=1e-10).y.T
    return x + noise * np.random.default_rng(seed).standard_normal(x.shape), t


def relative(a, b):
    return np.max(np.abs(np.asarray(a) - np.asarray(b))) / np.max(np.abs(b))


def test_lasso_on_a_dask_array_equals_the_in_memory_fit(client):
    X, y = problem(200_000, 40, 25_000)
    chunked = lm.Lasso(alpha=0.05, tol=1e-10).fit(X, y)
    Xn, yn = dask.compute(X, y, scheduler="synchronous")
    gram = lm.Lasso(alpha=0.05, tol=1e-10, precompute=True).fit(Xn, yn)
    direct = lm.Lasso(alpha=0.05, tol=1e-10).fit(Xn, yn)
    assert relative(chunked.coef_, gram.coef_) < 1e-10
    assert abs(chunked.intercept_ - gram.intercept_) < 1e-10
    assert np.array_equal(chunked.coef_ == 0, direct.coef_ == 0)
    assert relative(chunked.coef_, direct.coef_) < 1e-7
    assert 0 < np.count_nonzero(chunked.coef_) < 40
    # Predictions stay lazy and chunked.
    p = chunked.predict(X)
    assert isinstance(p, da.Array) and p.chunks[0] == X.chunks[0]
    np.testing.assert_allclose(p.compute(), gram.predict(Xn), rtol=0, atol=1e-9)


def test_elastic_net_with_weights_and_targets_on_dask_arrays(client):
    X, Y = problem(120_000, 24, 20_000, seed=3, targets=3)
    w = da.random.default_rng(4).uniform(0.0, 2.0, size=X.shape[0], chunks=20_000)
    model = lm.ElasticNet(alpha=0.02, l1_ratio=0.7, tol=1e-10)
    chunked = model.fit(X, Y, sample_weight=w)
    Xn, Yn, wn = dask.compute(X, Y, w, scheduler="synchronous")
    memory = lm.ElasticNet(alpha=0.02, l1_ratio=0.7, tol=1e-10, precompute=True).fit(Xn, Yn, sample_weight=wn)
    assert chunked.coef_.shape == (3, 24)
    assert relative(chunked.coef_, memory.coef_) < 1e-10
    assert np.max(np.abs(chunked.intercept_ - memory.intercept_)) < 1e-10
    # Without an intercept the raw moments are merged.
    raw = lm.ElasticNet(alpha=0.02, fit_intercept=False, tol=1e-10).fit(X, Y[:, 0])
    ref = lm.ElasticNet(alpha=0.02, fit_intercept=False, tol=1e-10, precompute=True).fit(Xn, Yn[:, 0])
    assert relative(raw.coef_, ref.coef_) < 1e-10 and raw.intercept_ == 0.0


def test_the_result_does_not_depend_on_the_scheduler_or_the_workers(client):
    X, y = problem(60_000, 16, 7_000, seed=5)
    on_cluster = lm.Lasso(alpha=0.01).fit(X, y)
    with dask.config.set(scheduler="synchronous"):
        in_process = lm.Lasso(alpha=0.01).fit(X, y)
    with dask.config.set(scheduler="threads", num_workers=2):
        threaded = lm.Lasso(alpha=0.01).fit(X, y)
    for other in (in_process, threaded):
        assert np.array_equal(on_cluster.coef_, other.coef_)
        assert on_cluster.intercept_ == other.intercept_


def test_a_dask_array_larger_than_a_worker_is_fitted_without_gathering_it(client):
    # 1.2e6 × 64 float64 = 614 MB: more than a worker's 512 MiB, reduced chunk by chunk (25 MB each).
    X, y = problem(1_200_000, 64, 50_000, seed=7)
    assert X.nbytes > WORKER_MEMORY
    chunked = lm.Lasso(alpha=0.03, tol=1e-10).fit(X, y)
    Xn, yn = dask.compute(X, y, scheduler="synchronous")
    memory = lm.Lasso(alpha=0.03, tol=1e-10, precompute=True).fit(Xn, yn)
    assert relative(chunked.coef_, memory.coef_) < 1e-10
    assert abs(chunked.intercept_ - memory.intercept_) < 1e-10


def test_grid_search_under_the_dask_backend_equals_the_serial_search(client):
    rng = np.random.default_rng(11)
    X = rng.standard_normal((300, 20))
    y = X[:, :4] @ np.array([1.0, -2.0, 0.5, 3.0]) + 0.1 * rng.standard_normal(300)
    grid = {"alpha": [0.001, 0.01, 0.1, 0.5], "l1_ratio": [0.3, 1.0]}
    serial = GridSearchCV(lm.ElasticNet(), grid, cv=5).fit(X, y)
    with joblib.parallel_backend("dask"):
        distributed = GridSearchCV(lm.ElasticNet(), grid, cv=5, n_jobs=-1).fit(X, y)
    np.testing.assert_array_equal(
        distributed.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"]
    )
    assert distributed.best_params_ == serial.best_params_
    np.testing.assert_array_equal(distributed.best_estimator_.coef_, serial.best_estimator_.coef_)


def test_bad_chunks_are_refused_with_the_row_named(client):
    X, y = problem(30_000, 8, 10_000, seed=9)
    bad = da.where(da.arange(30_000)[:, None] == 12_345, np.nan, X)
    with pytest.raises(ValueError, match=r"X holds NaN or infinity \(row 12345\)"):
        lm.Lasso(alpha=0.1).fit(bad, y)
    with pytest.raises(ValueError, match="must have 30000 rows"):
        lm.Lasso(alpha=0.1).fit(X, y[:-1])
    with pytest.raises(ValueError, match="non-negative"):
        lm.Lasso(alpha=0.1).fit(X, y, sample_weight=-da.ones(30_000, chunks=10_000))
    with pytest.raises(ValueError, match="sums to zero"):
        lm.Lasso(alpha=0.1).fit(X, y, sample_weight=da.zeros(30_000, chunks=10_000))
    # A scalar weight is every sample's: the unweighted fit.
    np.testing.assert_array_equal(
        lm.Lasso(alpha=0.1).fit(X, y, sample_weight=2.5).coef_, lm.Lasso(alpha=0.1).fit(X, y).coef_
    )
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        lm.Lasso(alpha=0.1).fit(X[X[:, 0] > 0], y[X[:, 0].compute() > 0])
    with pytest.raises(ValueError, match="empty"):
        lm.Lasso(alpha=0.1).fit(X[:0], y[:0])
    with pytest.raises(ValueError, match="sums of squares overflow"):
        lm.Lasso(alpha=0.1).fit(X * 1e200, y)
    with pytest.raises(ValueError, match="expecting 8 features"):
        lm.Lasso(alpha=0.1).fit(X, y).predict(X[:, :3])
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        with pytest.raises(ConvergenceWarning):
            # Strongly correlated columns: one epoch is far from the optimum.
            lm.Lasso(alpha=1e-6, max_iter=1, tol=1e-14).fit(X @ np.triu(np.ones((8, 8))), y)


def same_model(chunked, memory, tol=1e-10):
    a, b = chunked.coefficients(), memory.coefficients()
    assert np.array_equal(a == 0, b == 0), "supports differ"
    assert relative(a, b) < tol
    assert chunked.get_feature_names() == memory.get_feature_names()


@pytest.mark.parametrize(
    "diff",
    [ps.FiniteDifference(), ps.FiniteDifference(order=4, drop_endpoints=True),
     ps.SmoothedFiniteDifference(smoother_kws={"window_length": 9, "polyorder": 3})],
    ids=["fd2", "fd4-drop", "savgol"],
)
def test_sindy_on_dask_chunks_equals_the_in_memory_fit(client, diff):
    x, t = lorenz(20_000, 0.001, noise=0.01)
    # Unequal chunks, one shorter than the stencil's reach (joined to its neighbour).
    chunks = (5_000, 3, 6_997, 8_000)
    model = ps.SINDy(differentiation_method=diff, optimizer=ps.STLSQ(threshold=0.5))
    chunked = model.fit(da.from_array(x, chunks=(chunks, 3)), t=0.001)
    memory = ps.SINDy(differentiation_method=diff, optimizer=ps.STLSQ(threshold=0.5)).fit(x, t=0.001)
    same_model(chunked, memory)
    assert chunked.model_.n_samples() == memory.model_.n_samples()


def test_sindy_on_dask_with_times_controls_targets_and_several_trajectories(client):
    x, t = lorenz(6_000, 0.002)
    u = np.column_stack([np.sin(t), np.cos(3 * t)])
    t_uneven = t + 0.0004 * np.sin(t)  # increasing, non-uniform
    x2, _ = lorenz(4_000, 0.002, x0=(5.0, -3.0, 20.0))
    lib = ps.PolynomialLibrary(degree=2)

    def fit(xs, ts, us, **kw):
        return ps.SINDy(feature_library=lib, optimizer=ps.SR3(reg_weight_lam=0.1, relax_coeff_nu=1.0)).fit(
            xs, t=ts, u=us, **kw
        )

    memory = fit([x, x2], [t_uneven, 0.002], [u, u[:4_000]], feature_names=["a", "b", "c", "p", "q"])
    chunked = fit(
        [da.from_array(x, chunks=1_000), da.from_array(x2, chunks=1_500)],
        [da.from_array(t_uneven, chunks=700), 0.002],
        [u, da.from_array(u[:4_000], chunks=900)],
        feature_names=["a", "b", "c", "p", "q"],
    )
    same_model(chunked, memory)
    # Measured derivatives: no halo at all.
    x_dot = np.gradient(x, t, axis=0)
    memory = ps.SINDy().fit(x, t=t, x_dot=x_dot)
    chunked = ps.SINDy().fit(da.from_array(x, chunks=512), t=t, x_dot=da.from_array(x_dot, chunks=512))
    same_model(chunked, memory)
    # Discrete time: the next state is one row ahead.
    memory = ps.DiscreteSINDy().fit(x[::10])
    chunked = ps.DiscreteSINDy().fit(da.from_array(x[::10], chunks=97))
    same_model(chunked, memory)


def test_sindy_on_dask_refuses_what_needs_the_whole_trajectory(client):
    x, t = lorenz(2_000, 0.002)
    xd = da.from_array(x, chunks=500)
    with pytest.raises(ValueError, match="reads the whole trajectory"):
        ps.SINDy(differentiation_method=ps.SpectralDerivative()).fit(xd, t=0.002)
    bagged = ps.EnsembleOptimizer(opt=ps.STLSQ(), bagging=True, n_models=5)
    with pytest.raises(ValueError, match="bagging"):
        ps.SINDy(optimizer=bagged).fit(xd, t=0.002)
    dropped = ps.EnsembleOptimizer(opt=ps.STLSQ(), library_ensemble=True, n_models=5)
    assert ps.SINDy(optimizer=dropped).fit(xd, t=0.002).coefficients().shape == (3, 10)
    with pytest.raises(ValueError, match="x_dot has 1999 rows, x has 2000"):
        ps.SINDy().fit(xd, t=0.002, x_dot=xd[:-1])
    with pytest.raises(ValueError, match="t has 1999 rows"):
        ps.SINDy().fit(xd, t=da.arange(1_999) * 0.002)
    with pytest.raises(ValueError, match="every trajectory has control inputs u or none"):
        ps.SINDy().fit([xd, xd], t=0.002, u=[np.ones((2_000, 1)), None])
    # Outside fit, dask input is read into memory as before.
    model = ps.SINDy().fit(xd, t=0.002)
    np.testing.assert_allclose(model.predict(xd), model.predict(x))
    assert model.score(xd, t=0.002) == model.score(x, t=0.002)
    bad = da.where(da.arange(2_000)[:, None] == 777, np.inf, xd)
    with pytest.raises(ValueError, match=r"x holds NaN or infinity \(row 777\)"):
        ps.SINDy().fit(bad, t=0.002)
