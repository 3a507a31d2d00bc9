#!/usr/bin/env bash
# Speed from Python: the sparsimony wheel (release build) against scikit-learn, celer and skglm on the
# problems of benches/lasso.sh, and against PySINDy on Lorenz at 10^4 to 10^6 samples, each called from
# Python, single-threaded.
#   pip install maturin scikit-learn celer skglm pysindy==2.1.0 && bash benches/python.sh
set -euo pipefail
cd "$(dirname "$0")/.."
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1 RAYON_NUM_THREADS=1
out=${1:-target/bench-lasso}
[ -f "$out/sparsimony.json" ] || cargo run --release --locked --example lasso_benchmark -- "$out"
(cd python && maturin develop --release --locked)
python3 python/benchmarks/lasso.py "$out"
python3 python/benchmarks/sindy.py
