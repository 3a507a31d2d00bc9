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
