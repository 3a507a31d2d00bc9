#!/usr/bin/env bash
# SINDy benchmark: sparsimony, then PySINDy on the same Lorenz data, on THREADS threads (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
threads=${THREADS:-1}
export OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads MKL_NUM_THREADS=$threads RAYON_NUM_THREADS=$threads
out=${1:-target/bench-sindy}
cargo run --release --locked --example sindy_benchmark -- "$out"
cargo build --release --locked --bin sparsimony
python3 benches/sindy_peers.py "$out" target/release/sparsimony
