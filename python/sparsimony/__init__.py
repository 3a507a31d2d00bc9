"""sparsimony: sparse scientific modeling with a Rust core.

``sparsimony.linear_model`` holds scikit-learn-compatible sparse regression (Lasso, elastic net, their
cross-validated forms, orthogonal matching pursuit, iterative hard thresholding, best subset, the
random-support estimator). ``sparsimony.sindy`` holds equation discovery with PySINDy's names (``SINDy``,
its differentiations, libraries and optimizers). ``sparsimony.pde`` solves PDEs with spectral-mixture
Gaussian processes, on problems given as TOML text or dicts. ``sparsimony.radio`` images and self-calibrates
radio interferometric visibilities (Measurement Sets, UVFITS, arrays). The fits run in Rust with the GIL
released.
"""

from importlib.metadata import PackageNotFoundError, version

from . import linear_model, pde, radio, sindy

try:
    __version__ = version("sparsimony")
except PackageNotFoundError:  # imported from a source tree without installing
    __version__ = "0.0.0"

__all__ = ["linear_model", "pde", "radio", "sindy", "__version__"]
