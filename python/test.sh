#!/usr/bin/env bash
# Builds the Python package into a fresh virtual environment (maturin develop: the workspace's dev profile,
# whose dependencies are optimised) and runs its tests: scikit-learn's estimator checks, the agreement with
# scikit-learn on the committed fixtures and live, the notebook-style examples.
#   bash python/test.sh            # from anywhere; the environment is target/python-venv
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/python-venv
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r python/requirements-test.txt
# shellcheck disable=SC1091
source "$venv/bin/activate"
(cd python && maturin develop --locked ${MATURIN_PROFILE:+--profile "$MATURIN_PROFILE"})
python -m pytest python/tests -q
