"""Least-squares fits on dask arrays: per-chunk normal equations, merged in a fixed order.

A dask array (``X`` of shape ``(n_samples, n_features)``, chunked along its rows) is never gathered: each
row chunk is reduced, on the worker that holds it, to its weight ``W``, its weighted means and its
co-moments

    Cxx = (X - x̄)ᵀ diag(w) (X - x̄),   Cxy = (X - x̄)ᵀ diag(w) (Y - ȳ),   Cyy_t = ‖y_t - ȳ_t‖²_w,

which take ``O(d² + d m)`` memory whatever the chunk's length. Two chunks' statistics merge exactly (Chan,
Golub & LeVeque's pairwise update for co-moments, stable where the raw sums ``XᵀX - n x̄ x̄ᵀ`` would
cancel), pairwise along a binary tree over the chunks in row order. The tree, and so every rounding,
depends on the chunking only: never on the number of workers, the scheduler or the order in which chunks
finish. Without an intercept the statistics are the raw moments ``XᵀWX``, ``XᵀWY``, ``‖y_t‖²_w``.

The merged normal equations go to the Rust solver's coordinate descent on the Gram matrix
(``_native.enet_normal``), whose objective is scikit-learn's ``1/(2n) Σ w_i r_i²`` with the weights
rescaled to sum to ``n``: the same optimum as the in-memory fit, to the solver's tolerance.
"""

from __future__ import annotations

import numpy as np


def is_dask_collection(value):
    """Whether ``value`` is a dask array (told without importing dask)."""
    return hasattr(value, "__dask_graph__") and hasattr(value, "chunks") and hasattr(value, "ndim")


# --- one chunk, and two merged ------------------------------------------------------------------------


def _check_finite(name, values, first_row):
    """Refuses NaN or infinity in a chunk's ``values``, naming the row in the whole array (``first_row``:
    the chunk's first)."""
    bad = ~np.isfinite(values)
    if bad.any():
        row = first_row + int(np.argwhere(bad)[0][0])
        raise ValueError(f"{name} holds NaN or infinity (row {row}): the fit needs finite data")


def _chunk_statistics(X, Y, w, first_row, centre):
    """The statistics of one row chunk: ``(rows, W, x̄, ȳ, Cxx, Cxy, Cyy)`` (means zero without
    ``centre``). ``first_row``: the chunk's first row in the whole array, for the error messages."""
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim == 1:
        Y = Y[:, None]
    w = np.ones(X.shape[0]) if w is None else np.asarray(w, dtype=np.float64)
    for name, part in (("X", X), ("y", Y), ("sample_weight", w)):
        _check_finite(name, part, first_row)
    if (w < 0).any():
        row = first_row + int(np.argmax(w < 0))
        raise ValueError(f"sample_weight must be non-negative, got {w[row - first_row]} at row {row}")
    W = float(w.sum())
    if centre and W > 0:
        mx = w @ X / W
        my = w @ Y / W
        Xc, Yc = X - mx, Y - my
    else:
        mx, my = np.zeros(X.shape[1]), np.zeros(Y.shape[1])
        Xc, Yc = X, Y
    WX = Xc * w[:, None]
    return (X.shape[0], W, mx, my, WX.T @ Xc, WX.T @ Yc, np.einsum("i,it,it->t", w, Yc, Yc))


def _merge(a, b):
    """Two chunks' statistics as one (the pairwise update; exact addition of raw moments when the means
    are zero)."""
    na, Wa, mxa, mya, Cxxa, Cxya, Cyya = a
    nb, Wb, mxb, myb, Cxxb, Cxyb, Cyyb = b
    W = Wa + Wb
    if W == 0:
        return (na + nb, W, mxa, mya, Cxxa + Cxxb, Cxya + Cxyb, Cyya + Cyyb)
    dx, dy = mxb - mxa, myb - mya
    f = Wa * Wb / W
    return (
        na + nb,
        W,
        mxa + dx * (Wb / W),
        mya + dy * (Wb / W),
        Cxxa + Cxxb + f * np.outer(dx, dx),
        Cxya + Cxyb + f * np.outer(dx, dy),
        Cyya + Cyyb + f * dy * dy,
    )


def _tree(parts, merge):
    """``parts`` merged pairwise along a binary tree, in order (a fixed association)."""
    while len(parts) > 1:
        parts = [merge(parts[i], parts[i + 1]) if i + 1 < len(parts) else parts[i] for i in range(0, len(parts), 2)]
    return parts[0]


# --- a dask array's statistics -------------------------------------------------------------------------


def statistics(X, y, sample_weight, centre):
    """The merged statistics of dask (or NumPy) ``X`` (n, d), ``y`` (n,) or (n, m) and optional
    ``sample_weight`` (n,), computed on the workers of the current dask scheduler."""
    import dask
    import dask.array as da

    X = da.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D (n_samples, n_features), got {X.ndim} dimension(s)")
    n, d = X.shape
    if any(np.isnan(s) for s in (n, d)):
        raise ValueError("X has unknown chunk sizes: call X.compute_chunk_sizes() first")
    if n == 0 or d == 0:
        raise ValueError(f"X is empty: shape {X.shape} (a fit needs at least one sample and one feature)")
    y = da.asarray(y)
    if y.ndim not in (1, 2) or y.shape[0] != n:
        raise ValueError(f"y must have {n} rows (one per row of X) and 1 or 2 dimensions, got shape {y.shape}")
    if y.ndim == 2 and y.shape[1] == 0:
        raise ValueError("y has no targets (0 columns)")
    if sample_weight is not None:
        sample_weight = da.asarray(sample_weight)
        if sample_weight.shape != (n,):
            raise ValueError(f"sample_weight must have shape ({n},), got {sample_weight.shape}")
    # One block per row chunk, holding every column.
    rows = X.chunks[0]
    X = X.rechunk({1: -1})
    y = y.rechunk((rows,) if y.ndim == 1 else (rows, -1))
    xs = X.to_delayed().ravel()
    ys = y.to_delayed().ravel()
    ws = sample_weight.rechunk((rows,)).to_delayed().ravel() if sample_weight is not None else [None] * len(xs)
    starts = np.concatenate([[0], np.cumsum(rows)[:-1]])
    chunk = dask.delayed(_chunk_statistics, pure=True)
    merge = dask.delayed(_merge, pure=True)
    parts = [chunk(xb, yb, wb, int(r0), centre) for xb, yb, wb, r0 in zip(xs, ys, ws, starts)]
    return dask.compute(_tree(parts, merge))[0]


def normal_equations(stats, fit_intercept):
    """``(gram, cross, y_sq, n, x̄, ȳ)`` for the solver: the weights rescaled to sum to ``n``, as
    scikit-learn rescales ``sample_weight``."""
    n, W, mx, my, Cxx, Cxy, Cyy = stats
    if W <= 0:
        raise ValueError("sample_weight sums to zero: no sample carries weight")
    scale = n / W
    gram, cross, y_sq = Cxx * scale, Cxy * scale, Cyy * scale
    if not all(np.isfinite(v).all() for v in (gram, cross, y_sq, mx, my)):
        raise ValueError(
            "the data's sums of squares overflow float64 (values beyond about 1e154 in magnitude): rescale X and y"
        )
    return gram, cross, y_sq, float(n), mx, my


# --- SINDy ------------------------------------------------------------------------------------------


def _shorter_merged(bounds, shortest):
    """Row blocks ``[(start, end), …]`` with each block shorter than ``shortest`` joined to its
    predecessor (the first to its successor)."""
    out = []
    for lo, hi in bounds:
        if out and (hi - lo < shortest or out[-1][1] - out[-1][0] < shortest):
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def _sindy_block(x, t, u, x_dot, first_row, own, spec, names, controls):
    """One block's normal equations ``(gram, cross, y_sq, n)`` (run on the worker holding it);
    ``first_row``: the block's first row in its trajectory, for the error messages."""
    from . import _native

    def array(v):
        return None if v is None else np.ascontiguousarray(v, dtype=np.float64)

    x, u, x_dot = array(x), array(u), array(x_dot)
    t = t if isinstance(t, float) else array(t)
    for name, v in (("x", x), ("t", None if isinstance(t, float) else t), ("u", u), ("x_dot", x_dot)):
        if v is not None:
            _check_finite(name, v, first_row)
    return _native.sindy_block_normal((x, t, u, x_dot), own[0], own[1], spec, names, controls)


def _add(a, b):
    return (a[0] + b[0], a[1] + b[1], [p + q for p, q in zip(a[2], b[2])], a[3] + b[3])


def sindy_fit(trajectories, spec, names, controls):
    """SINDy on trajectories ``(x, t, u, x_dot)`` whose arrays may be dask arrays chunked along time: each
    row chunk, widened by the rows its derivatives read (``_native.sindy_block_halo``), is reduced on its
    worker to its normal equations; they are summed along a fixed binary tree and the regression is solved
    once. The same model as the in-memory fit, up to the rounding of the sums."""
    import dask

    from . import _native

    block = dask.delayed(_sindy_block, pure=True)
    add = dask.delayed(_add, pure=True)
    if len({tr[2] is None for tr in trajectories}) > 1:
        raise ValueError("either every trajectory has control inputs u or none has")
    parts = []
    for k, (x, t, u, x_dot) in enumerate(trajectories):
        n = x.shape[0]
        if np.isnan(n):
            raise ValueError(f"trajectory {k}: x has unknown chunk sizes: call x.compute_chunk_sizes() first")
        for name, v in (("t", None if isinstance(t, float) else t), ("u", u), ("x_dot", x_dot)):
            if v is not None and v.shape[0] != n:
                raise ValueError(f"trajectory {k}: {name} has {v.shape[0]} rows, x has {n} (one per sample)")
        halo = _native.sindy_block_halo(spec, x_dot is not None)
        if halo is None:
            raise ValueError(
                "the differentiation reads the whole trajectory (spectral), so chunks cannot be reduced "
                "separately: pass x_dot, use finite differences, or pass NumPy arrays"
            )
        chunks = x.chunks[0] if is_dask_collection(x) else (n,)
        starts = np.concatenate([[0], np.cumsum(chunks)]).astype(int)
        bounds = _shorter_merged(list(zip(starts[:-1], starts[1:])), max(2 * halo + 1, 16))
        for lo, hi in bounds:
            a, b = max(0, lo - halo), min(n, hi + halo)

            def piece(v, a=a, b=b):
                return None if v is None else v[a:b]

            tb = t if isinstance(t, float) else piece(t)
            own = (int(lo - a), int(hi - a))
            parts.append(block(piece(x), tb, piece(u), piece(x_dot), int(a), own, spec, names, controls))
    gram, cross, y_sq, n = dask.compute(_tree(parts, add))[0]
    n_controls = 0 if trajectories[0][2] is None else trajectories[0][2].shape[1]
    return _native.sindy_fit_normal(gram, cross, y_sq, n, n_controls, spec, names, controls)
