"""sparsimony from Python, as a notebook would use it (run as a test by python/tests/test_examples.py).

    python python/examples/quickstart.py

The estimators are scikit-learn's in every respect (parameters, attributes, pipelines, grid search), so
existing code changes one import.
"""
import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sparsimony.linear_model import IHT, Lasso, LassoCV, OrthogonalMatchingPursuit

X, y = load_diabetes(return_X_y=True)

# A Lasso, as with sklearn.linear_model.Lasso.
lasso = Lasso(alpha=0.1).fit(X, y)
print(f"Lasso(alpha=0.1): {np.count_nonzero(lasso.coef_)} of {X.shape[1]} features, R^2 = {lasso.score(X, y):.4f}")

# alpha by 5-fold cross-validation over 100 values (the folds' paths run in Rust, n_jobs on threads).
cv = LassoCV(n_jobs=2).fit(X, y)
print(f"LassoCV: alpha_ = {cv.alpha_:.4g}, mse_path_ {cv.mse_path_.shape}, R^2 = {cv.score(X, y):.4f}")

# Inside a pipeline and a grid search, like any scikit-learn estimator.
pipe = make_pipeline(StandardScaler(), OrthogonalMatchingPursuit())
search = GridSearchCV(pipe, {"orthogonalmatchingpursuit__n_nonzero_coefs": [2, 4, 6, 8]}, cv=5).fit(X, y)
print(f"OMP in a pipeline: best n_nonzero_coefs = {search.best_params_}, CV R^2 = {search.best_score_:.4f}")

# sparsimony's own support selection: iterative hard thresholding with four features.
scores = cross_val_score(IHT(n_nonzero_coefs=4), X, y, cv=5)
print(f"IHT(4): CV R^2 = {scores.mean():.4f} ± {scores.std():.4f}")
