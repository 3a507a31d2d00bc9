#!/usr/bin/env bash
# Builds the Python package's release wheel and installs it into a fresh virtual environment, as a user
# installs it from the repository (`pip install ./python`, maturin's PEP 517 backend, the lock file
# honoured), then runs its tests: scikit-learn's estimator checks, the agreement with scikit-learn (on the
# committed fixtures and live) and with PySINDy (on the committed fixtures), the radio command's FITS image
# opened by astropy (SPARSIMONY_BIN: the program to run), the PDE solver against closed forms, the
# notebook-style examples.
#   bash python/test.sh            # from anywhere; the environment is target/python-venv
# For quick iterations on the bindings, `maturin develop` in python/ (an editable debug build) instead.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/python-venv
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r python/requirements-test.txt
# maturin is pinned in the test requirements: build with it (the build backend runs the `maturin` on PATH)
# rather than with whatever an isolated build environment would fetch.
export PATH="$PWD/$venv/bin:$PATH"
MATURIN_PEP517_ARGS="--locked" "$venv/bin/pip" install --disable-pip-version-check --no-build-isolation ./python
# From the repository root, so that the installed package (not the source tree python/sparsimony) is
# imported.
"$venv/bin/python" -m pytest python/tests -q
