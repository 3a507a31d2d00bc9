"""Radio interferometric imaging with direction-dependent self-calibration (Repetti et al., MNRAS 2017),
as ``sparsimony radio calibrate``: recorded visibilities (a Measurement Set, a UVFITS file, or arrays),
the known bright sources as users list them, an image about the phase centre::

    import sparsimony.radio as radio

    sky = [(150.0, 40.0, 3.0), (150.0377, 40.0205, 1.5)]     # RA, Dec (degrees, J2000), flux (Jy)
    cal = radio.SelfCalibration(image_size=48, cell_arcsec=10, dde_size=1)
    result = cal.fit("observation.ms", sky)                  # or a .uvfits path, or radio.read(...)'s dict
    result.image            # (48, 48) Jy/pixel: row 0 the south, column 0 the east (as FITS viewers show it)
    result.gains            # (time steps, antennas) complex: the direction-independent stage's gains
    result.reduced_chi2     # about 1 when the model explains the data to the noise the weights state

Visibilities as arrays are the dict ``read`` returns (keys ``n_antennas``, ``antenna1``, ``antenna2``
(0-based), ``time`` (s), ``uvw`` (rows × 3, metres, antenna2 − antenna1 as a Measurement Set holds them),
``spectral_window``, ``frequencies`` (windows × channels, Hz), ``correlations`` (names: ``"XX"``,
``"YY"``, ``"RR"``, …), ``data`` (rows × channels × correlations, complex, Jy), ``weights`` (inverse
variances of each real part, as CASA states them), ``flags`` (``True``: ignored), ``phase_centre`` (RA,
Dec in degrees)): one filled from python-casacore or pyuvdata works the same. Stokes I is formed from the
parallel hands. The fit releases the GIL. Bad input raises ``ValueError`` naming the problem.
"""
import os

import numpy as np

from . import _native

__all__ = ["SelfCalibration", "Calibrated", "read", "PRIORS"]

#: The faint part's sparsity priors: ``"l1"`` (compact sources), ``"sara"`` (extended emission).
PRIORS = tuple(_native.RADIO_PRIORS)

_KEYS = ("n_antennas", "antenna1", "antenna2", "time", "uvw", "spectral_window", "frequencies",
         "correlations", "data", "weights", "flags", "phase_centre")


def read(path, *, data_column="DATA", field=0):
    """Reads a Measurement Set (a folder; ``data_column`` and ``field`` select) or a UVFITS file into the
    dict of arrays that ``SelfCalibration.fit`` takes."""
    return _native.radio_read(os.fspath(path), data_column=data_column, field=field)


def _visibilities(vis):
    if isinstance(vis, (str, os.PathLike)):
        return read(vis)
    if not isinstance(vis, dict):
        raise ValueError("vis must be a path (Measurement Set or UVFITS) or the dict radio.read returns")
    missing = [k for k in _KEYS if k not in vis]
    if missing:
        raise ValueError(f"vis lacks {missing} (the keys of radio.read's dict)")
    out = dict(vis)
    for key, dtype in (("antenna1", np.int64), ("antenna2", np.int64), ("spectral_window", np.int64),
                       ("time", np.float64), ("uvw", np.float64), ("frequencies", np.float64),
                       ("data", np.complex128), ("weights", np.float64), ("flags", np.bool_)):
        out[key] = np.ascontiguousarray(vis[key], dtype=dtype)
    out["frequencies"] = np.atleast_2d(out["frequencies"])
    out["correlations"] = [str(c) for c in vis["correlations"]]
    out["phase_centre"] = tuple(float(x) for x in vis["phase_centre"])
    out["n_antennas"] = int(vis["n_antennas"])
    return out


class Calibrated:
    """A self-calibration's result (attributes as ``sparsimony radio calibrate --json`` names them)."""

    def __init__(self, d):
        self.image = d["image"]
        """The image ``x = x_o + ε`` (N × N, Jy/pixel), the known sources on their nearest pixels."""
        self.faint = d["faint"]
        """The faint part ``ε`` after the DDE stage."""
        self.die_faint = d["die_faint"]
        """The faint part after the direction-independent stage."""
        self.gains = d["die_gains"]
        """The direction-independent stage's gains, (time steps, antennas) complex."""
        self.ddes = d["ddes"]
        """The DDE kernels, (time steps, antennas, S, S) complex (the two copies' mean)."""
        self.history = np.asarray(d["history"])
        """The criterion after each outer iteration; ``stages`` says which stage ran it."""
        self.stages = list(d["stages"])
        self.converged = d["converged"]
        self.decrease = d["decrease"]
        self.tolerance = d["tolerance"]
        self.gain_scale = d["gain_scale"]
        self.reduced_chi2 = d["reduced_chi2"]
        """``Σ w|y − m|²`` over twice the visibilities: about 1 at the noise the weights state."""
        self.kept = d["kept"]
        self.dropped = d["dropped"]
        self.w_phase = d["w_phase"]
        self.step_times = np.asarray(d["step_times"])
        self.seconds = d["seconds"]
        """Seconds in the image blocks, the DDE blocks and the joint steps (a 3-tuple)."""


class SelfCalibration:
    """Joint imaging and self-calibration: the direction-independent stage, then kernels of side
    ``dde_size`` per antenna and solution interval (1: gains only). ``eta`` defaults to the paper's for
    the prior; ``tol`` is the relative decrease of the criterion that ends a stage (the paper's 2e-2);
    ``joint_steps`` the joint Levenberg–Marquardt steps over all antennas' DDEs and the faint image per
    outer iteration of the DDE stage (0: the paper's alternation alone); ``accuracy`` the non-uniform
    FFT's."""

    def __init__(self, *, image_size, cell_arcsec, dde_size=5, prior="l1", eta=None, tol=None, max_outer=100,
                 joint_steps=5, solution_interval=0.0, accuracy=1e-8):
        self.image_size = image_size
        self.cell_arcsec = cell_arcsec
        self.dde_size = dde_size
        self.prior = prior
        self.eta = eta
        self.tol = tol
        self.max_outer = max_outer
        self.joint_steps = joint_steps
        self.solution_interval = solution_interval
        self.accuracy = accuracy

    def fit(self, vis, sky):
        """Calibrates ``vis`` (a path or ``read``'s dict) on ``sky``: the known sources, k × 3 (RA, Dec in
        degrees, flux in Jy). Returns a ``Calibrated``."""
        sky = np.ascontiguousarray(np.atleast_2d(np.asarray(sky, dtype=np.float64)))
        if self.prior not in PRIORS:
            raise ValueError(f"prior {self.prior!r}: one of {PRIORS}")
        d = _native.radio_calibrate(
            _visibilities(vis), sky, image_size=int(self.image_size), cell_arcsec=float(self.cell_arcsec),
            dde_size=int(self.dde_size), prior=self.prior, eta=self.eta, tol=self.tol,
            max_outer=int(self.max_outer), joint_steps=int(self.joint_steps), solution_interval=float(self.solution_interval),
            accuracy=float(self.accuracy))
        return Calibrated(d)
