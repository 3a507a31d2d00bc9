"""sparsimony.sindy against PySINDy: the committed fixtures of tests/fixtures/make_sindy_fixtures.py
(PySINDy 2.1.0), at the Rust tests' tolerances, and an independent integration of the fitted model."""

import json
import pathlib

import numpy as np
import pytest
from scipy.integrate import solve_ivp

import sparsimony.sindy as ps

FIXTURES = json.loads(
    (pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "sindy_references.json").read_text()
)


def model_for(settings):
    """The PySINDy construction the fixture script used, with sparsimony's classes of the same names."""
    s = settings
    library = ps.PolynomialLibrary(degree=s["degree"])
    if s.get("discrete"):
        return ps.DiscreteSINDy(optimizer=ps.STLSQ(threshold=s["threshold"], alpha=s["alpha"]), feature_library=library)
    if s["diff"] == "savgol":
        diff = ps.SmoothedFiniteDifference(smoother_kws={"window_length": s["window"], "polyorder": s["polyorder"]},
                                           order=s["order"])
    else:
        diff = ps.FiniteDifference(order=s["order"])
    if s["library"] == "poly+fourier":
        library = library + ps.FourierLibrary(n_frequencies=s["n_frequencies"])
    if s["optimizer"] == "stlsq":
        opt = ps.STLSQ(threshold=s["threshold"], alpha=s["alpha"], normalize_columns=s.get("normalize_columns", False))
    else:
        opt = ps.SR3(reg_weight_lam=s["lam"], regularizer=s["regularizer"].upper(), relax_coeff_nu=s["nu"],
                     tol=s["tol"], max_iter=s["max_iter"])
    return ps.SINDy(optimizer=opt, feature_library=library, differentiation_method=diff)


@pytest.mark.parametrize("case", FIXTURES["cases"], ids=lambda c: c["name"])
def test_fits_match_pysindy(case):
    x = np.array(case["x"])
    t = np.array(case["t"]) if isinstance(case["t"], list) else case["t"]
    u = None if case["u"] is None else np.array(case["u"])
    names = case["feature_names"]
    if u is not None and names is not None:
        names = names + [f"u{i}" for i in range(u.shape[1])]
    model = model_for(case["settings"]).fit(x, t=t, u=u, feature_names=names)
    assert model.get_feature_names() == case["features"]
    want, got = np.array(case["coef"]), model.coefficients()
    assert got.shape == want.shape
    assert np.array_equal(got == 0, want == 0), "supports differ"
    assert np.max(np.abs(got - want)) / np.max(np.abs(want)) < 1e-6
    assert model.equations(3) == case["equations"]
    if case.get("score") is not None:
        assert model.score(x, t=t, u=u) == pytest.approx(case["score"], abs=1e-8)


def test_derivatives_match_pysindy():
    d = FIXTURES["derivatives"]
    nu = d["nonuniform"]
    x, t = np.array(nu["x"]), np.array(nu["t"])
    for key, order, deriv in [("fd2", 2, 1), ("fd4", 4, 1), ("fd3", 3, 1), ("fd2_d2", 2, 2)]:
        ours = ps.FiniteDifference(order=order, d=deriv)(x, t)
        np.testing.assert_allclose(ours, np.array(nu[key]), rtol=1e-9, atol=1e-9 * np.abs(nu[key]).max())
    sp = d["spectral"]
    for key, deriv in [("d1", 1), ("d2", 2)]:
        ref = np.array(sp[key])
        ours = ps.SpectralDerivative(d=deriv)(np.array(sp["x"]), sp["dt"])
        np.testing.assert_allclose(ours, ref, atol=1e-12 * np.abs(ref).max())
    sg = d["savgol"]
    ref = np.array(sg["d"])
    ours = ps.SmoothedFiniteDifference(smoother_kws={"window_length": sg["window"], "polyorder": sg["polyorder"]})(
        np.array(sg["x"]), sg["dt"]
    )
    np.testing.assert_allclose(ours, ref, atol=1e-10 * np.abs(ref).max())


def lorenz(n=2000, dt=0.002):
    def rhs(_, s):
        return [10 * (s[1] - s[0]), s[0] * (28 - s[2]) - s[1], s[0] * s[1] - 8 / 3 * s[2]]

    t = np.arange(n) * dt
    return solve_ivp(rhs, (0, t[-1]), [-8, 8, 27], t_eval=t, rtol=1e-12, atol=1e-12).y.T, t


def test_simulate_agrees_with_an_independent_integration_of_the_fitted_model():
    x, t = lorenz()
    model = ps.SINDy().fit(x, t=t[1] - t[0], feature_names=["x", "y", "z"])
    assert model.equations(1)[0] == "-10.0 x +  10.0 y"  # PySINDy's format
    sim = model.simulate(x[0], t[:500])

    def rhs(_, s):
        return model.predict(s[None, :])[0]

    ref = solve_ivp(rhs, (0, t[499]), x[0], t_eval=t[:500], method="DOP853", rtol=1e-12, atol=1e-12).y.T
    np.testing.assert_allclose(sim, ref, rtol=0, atol=1e-7 * np.abs(ref).max())
    # The fitted model reproduces the data it came from over this horizon.
    assert np.max(np.abs(sim - x[:500])) < 1e-2 * np.abs(x).max()


def test_controls_multiple_trajectories_ensembles_and_export():
    rng = np.random.default_rng(0)
    dt, n = 0.01, 1000
    t = np.arange(n) * dt
    trajectories, controls = [], []
    for k in range(2):
        u = np.sin(3 * t + k)[:, None]
        x = np.zeros((n, 1))
        x[0] = 1.0 + k
        for i in range(n - 1):  # x' = -0.5 x + 2 u, integrated exactly for piecewise-linear u
            x[i + 1] = x[i] * np.exp(-0.5 * dt) + 2 * u[i] * (1 - np.exp(-0.5 * dt)) / 0.5
        trajectories.append(x)
        controls.append(u)
    model = ps.SINDy(optimizer=ps.STLSQ(threshold=0.1)).fit(trajectories, t=dt, u=controls)
    coef = dict(zip(model.get_feature_names(), model.coefficients()[0]))
    assert coef["x0"] == pytest.approx(-0.5, abs=2e-2) and coef["u0"] == pytest.approx(2.0, abs=5e-2)
    # u given as samples (cubic interpolation, PySINDy's default) and as a function agree.
    a = model.simulate(trajectories[0][0], t[:200], u=controls[0][:200])
    b = model.simulate(trajectories[0][0], t[:200], u=lambda s: [np.sin(3 * s)])
    np.testing.assert_allclose(a, b, atol=1e-6)
    # One control may be returned as a scalar (NumPy's or Python's), as PySINDy accepts.
    c = model.simulate(trajectories[0][0], t[:200], u=lambda s: np.sin(3 * s))
    np.testing.assert_array_equal(b, c)
    with pytest.raises(ValueError, match="not finite"):
        model.simulate(trajectories[0][0], t[:200], u=lambda s: np.nan)
    with pytest.raises(ValueError, match="one value per control"):
        model.simulate(trajectories[0][0], t[:200], u=lambda s: [[1.0]])
    with pytest.raises(ValueError, match="3 trajectories but 2 u arrays"):
        ps.SINDy().fit(trajectories + [trajectories[0]], t=dt, u=controls)
    with pytest.raises(ValueError, match="method"):
        model.simulate(trajectories[0][0], t[:10], u=controls[0][:10], integrator_kws={"method": "LSODA"})
    with pytest.raises(ValueError, match="without control inputs"):
        ps.SINDy().fit(trajectories[0], t=dt).simulate(trajectories[0][0], t[:10], u=lambda s: 1.0)

    ens = ps.EnsembleOptimizer(opt=ps.STLSQ(threshold=0.1), bagging=True, n_models=10, random_state=3)
    x, t = lorenz()
    model = ps.SINDy(optimizer=ens).fit(x + 1e-3 * rng.standard_normal(x.shape), t=t[1] - t[0])
    assert len(ens.coef_list) == 10 and ens.coef_list[0].shape == model.coefficients().shape
    assert model.coefficients()[0, 1] == pytest.approx(-10, rel=1e-2)
    source = model.export("lorenz", "f32")
    assert "pub fn model()" in source and "lorenz" in source


def test_discrete_time():
    x = np.zeros((100, 2))
    x[0] = [1.0, 0.5]
    for k in range(99):
        x[k + 1] = [0.9 * x[k, 0] + 0.1 * x[k, 1], -0.2 * x[k, 0] + 0.95 * x[k, 1]]
    model = ps.DiscreteSINDy(optimizer=ps.STLSQ(threshold=0.01)).fit(x, t=1)
    np.testing.assert_allclose(model.coefficients()[:, 1:3], [[0.9, 0.1], [-0.2, 0.95]], atol=1e-10)
    np.testing.assert_allclose(model.simulate(x[0], 100), x, atol=1e-9)
    # Another metric scores next states against the map, as the built-in R² does.
    from sklearn.metrics import mean_squared_error
    assert model.score(x, t=1, metric=mean_squared_error) < 1e-18
    assert model.score(x, t=1) == pytest.approx(1.0, abs=1e-12)
    # More states than memory holds are refused up front; a diverging map stops where it diverged
    # (|x| past 1e100) instead of blaming the data.
    with pytest.raises(ValueError, match="GiB"):
        model.simulate(x[0], 10**12)
    growth = 1.1 ** np.arange(50.0)[:, None]
    unstable = ps.DiscreteSINDy(optimizer=ps.STLSQ(threshold=0.01)).fit(growth, t=1)
    run = unstable.simulate(growth[0], 5000)
    assert 2000 < len(run) < 5000 and np.all(np.isfinite(run))  # 1.1^2416 ~ 1e100
    np.testing.assert_allclose(run[:, 0], 1.1 ** np.arange(len(run)), rtol=1e-9)


def test_unsupported_options_and_bad_input_are_value_errors():
    x, t = lorenz(n=200)
    with pytest.raises(ValueError, match="no trajectories"):
        ps.SINDy().fit([], t=0.1)
    with pytest.raises(TypeError, match="time step"):
        ps.SINDy().fit(x, t=True)
    with pytest.raises(ValueError, match="periodic"):
        ps.SINDy(differentiation_method=ps.FiniteDifference(periodic=True)).fit(x, t=t)
    with pytest.raises(ValueError, match="trimming_fraction"):
        ps.SINDy(optimizer=ps.SR3(trimming_fraction=0.1)).fit(x, t=t)
    bad = x.copy()
    bad[5, 1] = np.nan
    with pytest.raises(ValueError, match="non-finite"):
        ps.SINDy().fit(bad, t=t)
    with pytest.raises(ValueError, match="shape mismatch|time"):
        ps.SINDy().fit(x, t=t[:-3])
