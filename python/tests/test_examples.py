"""The notebook-style examples run, and say what they claim."""
import pathlib
import runpy

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Lasso as SkLasso

EXAMPLES = pathlib.Path(__file__).resolve().parents[1] / "examples"


def test_quickstart_runs_and_its_lasso_is_scikit_learns(capsys):
    names = runpy.run_path(str(EXAMPLES / "quickstart.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "LassoCV: alpha_ =" in out and "OMP in a pipeline" in out
    X, y = load_diabetes(return_X_y=True)
    ref = SkLasso(alpha=0.1).fit(X, y)
    np.testing.assert_allclose(names["lasso"].coef_, ref.coef_, rtol=1e-3, atol=1e-3 * np.abs(ref.coef_).max())


def test_sindy_example_finds_the_lorenz_system(capsys):
    names = runpy.run_path(str(EXAMPLES / "sindy_lorenz.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "(x)' = " in out and "(z)' = " in out
    coef = names["model"].coefficients()  # columns: 1, x, y, z, x^2, x y, x z, y^2, y z, z^2
    lorenz = np.zeros((3, 10))
    lorenz[0, [1, 2]] = [-10, 10]
    lorenz[1, [1, 2, 6]] = [28, -1, -1]
    lorenz[2, [3, 5]] = [-8 / 3, 1]
    np.testing.assert_array_equal(coef != 0, lorenz != 0)
    np.testing.assert_allclose(coef, lorenz, atol=2e-3 * 28)
    assert "exported:" in out


def test_gp_pde_example_solves_its_problems(capsys):
    names = runpy.run_path(str(EXAMPLES / "gp_pde.py"), run_name="__main__")
    out = capsys.readouterr().out
    assert "iteration 0: objective" in out
    # Against the closed form, independently of the solution's own error measure.
    x = np.linspace(0, 1, 50)
    u = names["solution"].predict(x, x)["u"]
    exact = np.exp(np.outer(x, x)) + np.outer(np.sin(6 * np.pi * x), np.sin(4 * np.pi * x))
    assert np.linalg.norm(u - exact) / np.linalg.norm(exact) < 1e-3
    assert names["flow"].rel_l2_error < 1e-2
