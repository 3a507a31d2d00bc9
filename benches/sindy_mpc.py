"""The closed loop of `examples/sindy_mpc.rs` beside PySINDy's model plus a SciPy MPC, in the same run: time per
control step and closed-loop cost, single-threaded.

    python -m venv /tmp/pysvenv && /tmp/pysvenv/bin/pip install numpy scipy pysindy
    cargo build --release --example sindy_mpc
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 \\
        /tmp/pysvenv/bin/python benches/sindy_mpc.py [target/release/examples/sindy_mpc] [out.json] \\
        [--steps 1000] [--starts 5] [--method SLSQP|L-BFGS-B]

The binary runs first (`--json --save-training`): its controller (real-time iteration, one linearisation and
one box QP per control step) over the true model, over SINDYc from clean data and over SINDYc from the 1 %-noise
excitation, from 5 points on the attractor to x* = (√72, √72, 27) for 10 time units, and the noisy excitation
it fitted. PySINDy then fits that same file as a user would (STLSQ(threshold=0.5), PolynomialLibrary(degree=2),
SmoothedFiniteDifference, `u=`, t = 0.01), and a SciPy MPC over PySINDy's model drives the same true plant
from the same starts. At each control step `scipy.optimize.minimize` (SLSQP, SciPy's SQP as fmincon's is, by
default; L-BFGS-B with `--method`; SciPy's defaults otherwise, so the gradient by finite differences, as in
Kaiser, Kutz & Brunton's fmincon code) solves the nonlinear shooting problem over the horizon's 10 inputs,
|u| ≤ 50, warm-started from the shifted previous solution, the model's right-hand side evaluated from
PySINDy's coefficients in numpy and integrated by the same RK4 (2 substeps per period); the first input is
applied to the Lorenz system (RK4, 10 substeps, the binary's plant: the script checks it reproduces the
binary's starting points). SciPy solves each step's nonlinear problem to its tolerance; ours takes one
real-time-iteration step of it, so the cost columns show what that costs in control quality.
Both minimise J = ½Σ_{k=1..N}|x_k − x*|² + ½Σ_{k<N} r u_k², Q = I, r = 10⁻³, N = 10, period 0.01.

Per model and start: |x − x*|/|x*| at the end, the time it settled within 1 % (and stayed), the largest |u|,
the closed-loop cost Σ DT·½(|x − x*|² + r u²) (x the state at which u was chosen), the mean controller time
per step (ours: the binary's `micros_per_step`; SciPy: the optimiser's wall time alone) and the most
iterations in one step (ours: QP iterations; SciPy: optimiser iterations). Then the ratio of the per-step
times. The versions of Python, numpy, scipy and pysindy, and the CPU, are printed at run time. `--steps` and
`--starts` shorten the SciPy runs when they are too slow; the output says so when they do.
"""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "RAYON_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse
import json
import math
import platform
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pysindy as ps
import scipy
from scipy.optimize import minimize

warnings.filterwarnings("ignore")

# examples/firmware/src/lorenz_mpc.rs and examples/sindy_mpc.rs
SIGMA, RHO, BETA = 10.0, 28.0, 8.0 / 3.0
TARGET = np.array([8.485_281_374_238_57, 8.485_281_374_238_57, 27.0])
DT, HORIZON, MODEL_SUBSTEPS, PLANT_SUBSTEPS = 0.01, 10, 2, 10
U_MAX, R = 50.0, 1e-3
TRAIN_DT, OUR_STEPS = 0.01, 1000

parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
parser.add_argument("binary", nargs="?", default="target/release/examples/sindy_mpc")
parser.add_argument("output", nargs="?", help="write the table as JSON here")
parser.add_argument("--steps", type=int, default=OUR_STEPS, help="control steps of each SciPy run")
parser.add_argument("--starts", type=int, default=None, help="starting points for SciPy (default: all)")
parser.add_argument("--method", default="SLSQP", choices=["SLSQP", "L-BFGS-B"])
args = parser.parse_args()


def cpu_name():
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# 1. Ours, and the training data it fitted.
with tempfile.TemporaryDirectory() as tmp:
    train_path = Path(tmp) / "train.csv"
    out = subprocess.run([args.binary, "--json", "--save-training", str(train_path)], check=True,
                         capture_output=True, text=True)
    ours = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    data = np.loadtxt(train_path, delimiter=",", skiprows=1)
t_train, x_train, u_train = data[:, 0], data[:, 1:4], data[:, 4:5]
assert np.allclose(np.diff(t_train), TRAIN_DT)
starts = {}
for r in ours:
    starts.setdefault(r["start"], np.array(r["x0"]))
n_starts = len(starts) if args.starts is None else min(args.starts, len(starts))

print(f"Python {platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
      f"pysindy {ps.__version__}; {cpu_name()}; OMP_NUM_THREADS={os.environ['OMP_NUM_THREADS']}")
print(f"ours: {args.binary}")

# 2. PySINDy on the same samples.
model = ps.SINDy(optimizer=ps.STLSQ(threshold=0.5), feature_library=ps.PolynomialLibrary(degree=2),
                 differentiation_method=ps.SmoothedFiniteDifference())
t0 = time.perf_counter()
model.fit(x_train, u=u_train, t=TRAIN_DT, feature_names=["x", "y", "z", "u"])
fit_seconds = time.perf_counter() - t0
print(f"\nPySINDy (SINDYc) from {len(x_train)} samples with 1% noise, fitted in {fit_seconds * 1e3:.1f} ms:")
model.print(precision=3)
coef = model.coefficients()
powers = model.feature_library.powers_
active = np.flatnonzero(np.any(coef != 0.0, axis=0))  # evaluate only the terms the model keeps
C, P = coef[:, active].copy(), powers[active].copy()


# 3. The SciPy MPC over PySINDy's model.
def model_rhs(x, u):
    z = np.append(x, u)
    return C @ np.prod(z ** P, axis=1)


def horizon_cost(U, x0):
    """J over the horizon: the model from x0 under U, RK4 with MODEL_SUBSTEPS steps per period."""
    h = DT / MODEL_SUBSTEPS
    x = x0
    J = 0.5 * R * float(U @ U)
    for u in U:
        for _ in range(MODEL_SUBSTEPS):
            k1 = model_rhs(x, u)
            k2 = model_rhs(x + 0.5 * h * k1, u)
            k3 = model_rhs(x + 0.5 * h * k2, u)
            k4 = model_rhs(x + h * k3, u)
            x = x + h / 6.0 * (k1 + 2.0 * (k2 + k3) + k4)
        e = x - TARGET
        J += 0.5 * float(e @ e)
    return J


def lorenz(x, u):
    return (SIGMA * (x[1] - x[0]) + u, x[0] * (RHO - x[2]) - x[1], x[0] * x[1] - BETA * x[2])


def plant(x, u):
    """The true system over one period under the held input u: RK4, PLANT_SUBSTEPS steps (as lorenz_mpc.rs)."""
    h = DT / PLANT_SUBSTEPS
    for _ in range(PLANT_SUBSTEPS):
        k1 = lorenz(x, u)
        k2 = lorenz([x[i] + 0.5 * h * k1[i] for i in range(3)], u)
        k3 = lorenz([x[i] + 0.5 * h * k2[i] for i in range(3)], u)
        k4 = lorenz([x[i] + h * k3[i] for i in range(3)], u)
        x = [x[i] + h / 6.0 * (k1[i] + 2.0 * (k2[i] + k3[i]) + k4[i]) for i in range(3)]
    return x


def distance(x):
    return float(np.linalg.norm(np.asarray(x) - TARGET) / np.linalg.norm(TARGET))


# The plant matches the binary's: its starting points are the uncontrolled system after 5, 6.37, ... time units.
x, check = [-8.0, 8.0, 27.0], []
for _ in range(500):
    x = plant(x, 0.0)
for k in range(len(starts)):
    check.append(np.max(np.abs(np.array(x) - starts[k])))
    for _ in range(137):
        x = plant(x, 0.0)
print(f"plant check: the binary's starting points reproduced to {max(check):.1e} (chaotic over 5-11 time units)")

bounds = [(-U_MAX, U_MAX)] * HORIZON


def scipy_loop(x0, steps):
    x, plan = list(x0), np.zeros(HORIZON)
    out = dict(final_distance=distance(x), settled_at=None, max_abs_u=0.0, cost=0.0, seconds=0.0,
               max_iterations=0, evaluations=0, unsuccessful_steps=0, max_step_seconds=0.0, messages=set())
    for k in range(steps):
        xk = np.array(x)
        t0 = time.perf_counter()
        res = minimize(horizon_cost, plan, args=(xk,), method=args.method, bounds=bounds)
        dt = time.perf_counter() - t0
        out["seconds"] += dt
        out["max_step_seconds"] = max(out["max_step_seconds"], dt)
        out["max_iterations"] = max(out["max_iterations"], int(res.nit))
        out["evaluations"] += int(res.nfev)
        out["unsuccessful_steps"] += int(not res.success)
        if not res.success:
            out["messages"].add(str(res.message))
        sol = np.clip(res.x, -U_MAX, U_MAX)
        u = float(sol[0])
        e = xk - TARGET
        out["cost"] += DT * 0.5 * (float(e @ e) + R * u * u)
        out["max_abs_u"] = max(out["max_abs_u"], abs(u))
        x = plant(x, u)
        d = distance(x)
        if d >= 0.01:
            out["settled_at"] = None
        elif out["settled_at"] is None:
            out["settled_at"] = (k + 1) * DT
        plan = np.append(sol[1:], sol[-1])
    out["final_distance"] = distance(x)
    out["micros_per_step"] = out["seconds"] * 1e6 / steps
    return out


rows = [dict(model=r["model"], start=r["start"], steps=OUR_STEPS, final_distance=r["final_distance"],
             settled_at=r["settled_at"], max_abs_u=r["max_abs_u"], cost=r["cost"],
             micros_per_step=r["micros_per_step"], max_iterations=r["max_qp_iterations"],
             failed_steps=r["failed_steps"]) for r in ours]
name = f"PySINDy + SciPy {args.method}"
wall = time.perf_counter()
for k in range(n_starts):
    o = scipy_loop(starts[k], args.steps)
    rows.append(dict(model=name, start=k, steps=args.steps, final_distance=o["final_distance"],
                     settled_at=o["settled_at"], max_abs_u=o["max_abs_u"], cost=o["cost"],
                     micros_per_step=o["micros_per_step"], max_iterations=o["max_iterations"],
                     failed_steps=o["unsuccessful_steps"], unsuccessful_messages=sorted(o["messages"]),
                     evaluations_per_step=o["evaluations"] / args.steps,
                     max_step_micros=o["max_step_seconds"] * 1e6))
    print(f"  {name}, start {k}: {o['seconds']:.1f} s in the optimiser", file=sys.stderr, flush=True)
scipy_wall = time.perf_counter() - wall

# 4. The table.
print(f"\nclosed loop to x* = ({TARGET[0]:.4f}, {TARGET[1]:.4f}, {TARGET[2]:g}), |u| <= {U_MAX:g}, "
      f"period {DT}, horizon {HORIZON}, Q = I, r = {R:g}")
if args.steps != OUR_STEPS or n_starts != len(starts):
    print(f"NOTE: the SciPy runs are SHORTENED to {args.steps} steps ({args.steps * DT:g} time units) from "
          f"{n_starts} of {len(starts)} starts; ours ran {OUR_STEPS} steps from all {len(starts)} "
          f"(cost and final distance are over each run's own length)")
print(f"{'model':<26} {'start':>5} {'|x-x*|/|x*|':>12} {'settled t':>10} {'max |u|':>8} {'cost':>9} "
      f"{'us/step':>9} {'max it':>7}")
for r in rows:
    settled = "never" if r["settled_at"] is None else f"{r['settled_at']:.2f}"
    failed = f"  ({r['failed_steps']} unsuccessful)" if r["failed_steps"] else ""
    print(f"{r['model']:<26} {r['start']:>5} {r['final_distance']:>12.2e} {settled:>10} {r['max_abs_u']:>8.2f} "
          f"{r['cost']:>9.3f} {r['micros_per_step']:>9.1f} {r['max_iterations']:>7}{failed}")
print("(max it: ours, QP iterations in one step after one linearisation; SciPy, optimiser iterations, each "
      f"with a finite-difference gradient of {HORIZON + 1} horizon simulations)")

ratios = []
for k in range(n_starts):
    ps_row = next(r for r in rows if r["model"] == name and r["start"] == k)
    mine = {r["model"]: r for r in rows if r["start"] == k}
    ratios.append(dict(start=k,
                       scipy_over_ours_noisy=ps_row["micros_per_step"] / mine["SINDYc, 1% noise"]["micros_per_step"],
                       scipy_over_ours_true=ps_row["micros_per_step"] / mine["true model"]["micros_per_step"],
                       cost_scipy_over_ours_noisy=ps_row["cost"] / mine["SINDYc, 1% noise"]["cost"]))
mean_ps = np.mean([r["micros_per_step"] for r in rows if r["model"] == name])
mean_ours = np.mean([r["micros_per_step"] for r in rows if r["model"] == "SINDYc, 1% noise"])
print(f"\nper-step time, SciPy over ours (SINDYc, 1% noise; the same run): "
      + ", ".join(f"start {r['start']} {r['scipy_over_ours_noisy']:.0f}x" for r in ratios)
      + f"; means {mean_ps:.0f} us / {mean_ours:.1f} us = {mean_ps / mean_ours:.0f}x")
print("closed-loop cost, SciPy over ours (SINDYc, 1% noise): "
      + ", ".join(f"start {r['start']} {r['cost_scipy_over_ours_noisy']:.4f}" for r in ratios))
print(f"SciPy MPC wall time {scipy_wall:.1f} s for {n_starts} x {args.steps} steps")

if args.output:
    Path(args.output).write_text(json.dumps(dict(
        versions=dict(python=platform.python_version(), numpy=np.__version__, scipy=scipy.__version__,
                      pysindy=ps.__version__, cpu=cpu_name(), omp_num_threads=os.environ["OMP_NUM_THREADS"]),
        binary=args.binary, method=args.method, scipy_steps=args.steps, scipy_starts=n_starts, our_steps=OUR_STEPS,
        pysindy_equations=model.equations(precision=6), pysindy_fit_seconds=fit_seconds, rows=rows,
        ratios=ratios, mean_micros_per_step=dict(scipy=mean_ps, ours_noisy=mean_ours),
        scipy_wall_seconds=scipy_wall), indent=1))
    print(f"wrote {args.output}")
