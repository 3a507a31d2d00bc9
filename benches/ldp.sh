#!/usr/bin/env bash
# LDP-IHT benchmark: `sparsimony ldp simulate` end to end against the same protocol in numpy, on THREADS
# threads (default 1; numpy's BLAS on as many).
set -euo pipefail
cd "$(dirname "$0")/.."
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
threads=${THREADS:-1}
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads MKL_NUM_THREADS=$threads RAYON_NUM_THREADS=$threads
cargo build --release --locked --bin sparsimony
python3 benches/ldp_numpy.py target/release/sparsimony
