"""Parameter and array checks shared by the package's modules, with scikit-learn's kinds of error.

Every check names the parameter it refuses. Integers are bounded above as well as below, so that a value
the Rust side cannot hold (a negative count, ``2**64``) is a ``ValueError`` naming it, not an
``OverflowError`` from the conversion.
"""

from __future__ import annotations

import numbers

import numpy as np

from . import _native

#: The most memory one call may ask for (bytes): the Rust solvers' cap (``sparsimony_solvers::data::MAX_BYTES``).
MAX_BYTES = _native.MAX_BYTES

#: The largest integer a count or seed may take (the Rust side's ``u64``/``usize`` on 64-bit machines,
#: less one bit so that it also fits ``i64``).
MAX_INT = 2**63 - 1


def check_int(name, value, low, high=MAX_INT, allow_none=False):
    """``value`` as an int in ``[low, high]`` (``None`` when allowed); else ``ValueError`` naming ``name``."""
    if value is None and allow_none:
        return None
    if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    return int(value)


def check_real(name, value, low, high=None):
    """``value`` as a finite float in ``[low, high]``; else ``ValueError`` naming ``name``."""
    if (
        not isinstance(value, numbers.Real)
        or isinstance(value, (bool, np.bool_))
        or not np.isfinite(value)
        or value < low
        or (high is not None and value > high)
    ):
        bounds = f"in [{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be a finite number {bounds}, got {value!r}")
    return float(value)


def check_bool(name, value):
    """``value`` as a bool: only ``True``/``False`` (NumPy's too), as scikit-learn's parameter validation
    takes them; a string such as ``'no'`` is refused rather than read as true."""
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_memory(name, shape, itemsize=8, copies=1):
    """``MemoryError`` when an array of ``shape`` (``copies`` of it, ``itemsize`` bytes a value) would
    exceed :data:`MAX_BYTES`, before anything is allocated: a broadcast view of a huge shape takes no
    memory itself, but every solver copies it."""
    size = float(np.prod([float(s) for s in shape])) * itemsize * copies
    if size > MAX_BYTES:
        raise MemoryError(
            f"{name} of shape {tuple(shape)} would need about {size / 2**30:.1f} GiB to copy, over the "
            f"{MAX_BYTES / 2**30:.0f} GiB allowed"
        )


def real_array(name, value, **kwargs):
    """``value`` as a float64 array; complex data is refused (scikit-learn's ``ValueError``), rather than
    silently losing its imaginary part. ``kwargs`` go to ``np.asarray``-like ``np.array`` (e.g.
    ``copy=False``)."""
    arr = np.asarray(value)
    if np.iscomplexobj(arr):
        raise ValueError(f"Complex data not supported: {name} is complex")
    if arr.dtype == object:
        if any(isinstance(v, complex) for v in arr.ravel()):
            raise ValueError(f"Complex data not supported: {name} holds complex values")
    try:
        return np.asarray(arr, dtype=np.float64, **kwargs)
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must hold real numbers: {e}") from None
