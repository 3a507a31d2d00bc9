#!/usr/bin/env bash
# Lasso benchmark: sparsimony, then scikit-learn / celer / skglm on the same data, single-threaded: single
# fits and paths in the library, then the command line end to end against Python scripts.
set -euo pipefail
cd "$(dirname "$0")/.."
# Some machines set OPENBLAS_CORETYPE for old OpenBLAS builds; it slows a current numpy (benchmarking only).
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1 RAYON_NUM_THREADS=1
out=${1:-target/bench-lasso}
cargo run --release --locked --example lasso_benchmark -- "$out"
cargo build --release --locked --bin sparsimony
python3 benches/lasso_peers.py "$out" target/release/sparsimony
