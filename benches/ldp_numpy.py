"""LDP-IHT as a Python user would write it (numpy, vectorised over batches of users) against
`sparsimony ldp simulate`, timed end to end (process start to exit) in the same run, on the same
protocol and settings: x ~ N(0, I_d), θ* = first k coefficients 1/√k, noise σ = 1; users clip x and y
coordinatewise at √(2 ln n), clip the gradient to the ℓ2 ball of radius √d and send it through the
Duchi–Jordan–Wainwright ℓ2-ball randomizer; the server steps, keeps the top k′ = 2k, projects on the unit
ball, and returns the top k after T = ROUNDS equal batches (`--rounds` for sparsimony: its default sizes
the batches from the messages, a server loop a numpy user would not write; the work per user is the same).
The step differs: numpy takes η = 1, sparsimony its secant estimate of the inverse curvature, which on
this isotropic design is near 1.

    bash benches/ldp.sh          # THREADS=1 by default; THREADS=2 for both cores

numpy draws with PCG64 and its ziggurat normals, per batch of users (not per-user streams): what a numpy
user would do. The ℓ2 errors of both are printed: the same protocol gives errors of the same size (not the
same numbers: the random streams differ).
"""
import json
import math
import os
import subprocess
import sys
import time

import numpy as np

binary = sys.argv[1] if len(sys.argv) > 1 else "target/release/sparsimony"
d, k, eps = 100, 8, 1.0
ROUNDS = 8
threads = os.environ.get("RAYON_NUM_THREADS", "1")


def numpy_ldp_iht(n, rounds, seed):
    rng = np.random.default_rng(seed)
    theta_star = np.zeros(d)
    theta_star[:k] = 1 / math.sqrt(k)
    kp = min(2 * k, d)
    tau = math.sqrt(2 * math.log(max(n, 3)))
    bound = math.sqrt(d) * tau * (math.sqrt(kp) * tau + tau)
    r = min(math.sqrt(d), bound)
    e = math.exp(eps)
    p, amplify = e / (1 + e), (e + 1) / (e - 1)
    scale = r * amplify * math.sqrt(math.pi) * math.exp(math.lgamma((d + 1) / 2) - math.lgamma(d / 2))
    m = n // rounds
    theta = np.zeros(d)
    batch = 100_000
    for _ in range(rounds):
        total = np.zeros(d)
        for start in range(0, m, batch):
            b = min(batch, m - start)
            x = rng.standard_normal((b, d))
            y = x @ theta_star + rng.standard_normal(b)
            np.clip(x, -tau, tau, out=x)
            np.clip(y, -tau, tau, out=y)
            g = x * (x @ theta - y)[:, None]
            norm = np.linalg.norm(g, axis=1)
            shrink = np.minimum(1.0, r / np.maximum(norm, 1e-300))
            g *= shrink[:, None]
            norm *= shrink
            plus = rng.random(b) < 0.5 + 0.5 * np.minimum(norm / r, 1.0)
            keep = rng.random(b) < p
            u = rng.standard_normal((b, d))
            length = np.linalg.norm(u, axis=1)
            side = np.where(norm > 0, np.einsum("ij,ij->i", u, g), u[:, 0])
            along = (side >= 0) == plus
            factor = np.where(along == keep, scale, -scale) / length
            total += factor @ u
        theta = theta - total / m
        theta[np.argsort(-np.abs(theta))[kp:]] = 0.0
        nrm = np.linalg.norm(theta)
        if nrm > 1:
            theta /= nrm
    theta[np.argsort(-np.abs(theta))[k:]] = 0.0
    return np.linalg.norm(theta - theta_star)


print(f"LDP-IHT, d = {d}, k = {k}, ε = {eps}; sparsimony on {threads} thread(s), numpy {np.__version__}")
print(f"{'users':>10} {'rounds':>6} {'numpy (s)':>10} {'sparsimony CLI (s)':>19} {'speed-up':>9} {'numpy err':>10} {'our err':>8}")
for n in [100_000, 1_000_000, 10_000_000]:
    t0 = time.perf_counter()
    out = subprocess.run(
        [binary, "ldp", "simulate", "--n", str(n), "--d", str(d), "--k", str(k), "--epsilon", str(eps), "--scale", "given",
         "--rounds", str(ROUNDS), "--json"],
        check=True, capture_output=True, text=True,
    ).stdout
    ours = time.perf_counter() - t0
    report = json.loads(out)
    rounds = report["report"]["iterations"]
    assert rounds == ROUNDS, rounds
    t0 = time.perf_counter()
    err = numpy_ldp_iht(n, rounds, 1)
    theirs = time.perf_counter() - t0
    print(f"{n:>10} {rounds:>6} {theirs:>10.2f} {ours:>19.2f} {theirs / ours:>8.1f}x {err:>10.3f} {report['l2_error']:>8.3f}")
