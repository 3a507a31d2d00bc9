"""sparsimony.radio: visibilities from a path (the Measurement Set and UVFITS fixtures) or from arrays
(an observation simulated here by the direct sum of the measurement equation), calibrated on a list of
known sources; the gains against the ones the data were made with; bad input refused."""
import csv
import pathlib

import numpy as np
import pytest

import sparsimony.radio as radio

FIXTURES = pathlib.Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "radio"
C = 299792458.0


def rows(name):
    with open(FIXTURES / name) as f:
        return np.array([[float(v) for v in r.values()] for r in csv.DictReader(f)])


def phase_aligned_error(got, want):
    """Per time step, the relative error after the best common phase (it cancels in every visibility)."""
    errors = []
    for g, w in zip(got, want):
        cross = np.vdot(w, g)
        errors.append(np.linalg.norm(g - cross / abs(cross) * w) / np.linalg.norm(w))
    return np.array(errors)


def test_the_set_and_its_uvfits_read_alike():
    ms, uv = radio.read(FIXTURES / "vla_d_points.ms"), radio.read(FIXTURES / "vla_d_points.uvfits")
    assert ms["n_antennas"] == uv["n_antennas"] == 27
    assert ms["correlations"] == ["XX", "XY", "YX", "YY"] and uv["correlations"] == ["XX", "YY", "XY", "YX"]
    np.testing.assert_allclose(ms["frequencies"], uv["frequencies"])
    np.testing.assert_allclose(ms["phase_centre"], (150.0, 40.0))
    # UVFITS holds every IF in each group: the set's row r is the file's row 2r + its window.
    r = np.arange(len(ms["time"]))
    at = 2 * r + ms["spectral_window"]
    np.testing.assert_allclose(uv["uvw"][at], ms["uvw"], atol=1e-6)
    xx = uv["data"][at][..., 0]
    ok = ~ms["flags"][..., 0]
    np.testing.assert_allclose(xx[ok], ms["data"][..., 0][ok], rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name", ["vla_d_points.ms", "vla_d_points.uvfits"])
def test_a_path_is_calibrated_to_the_sets_gains(name):
    cal = radio.SelfCalibration(image_size=48, cell_arcsec=10, dde_size=1, max_outer=1, tol=1e-5)
    result = cal.fit(FIXTURES / name, rows("vla_d_points_sky.csv"))
    truth = rows("vla_d_points_gains.csv")
    want = np.zeros((6, 27), complex)
    want[truth[:, 0].astype(int), truth[:, 1].astype(int)] = truth[:, 2] + 1j * truth[:, 3]
    assert result.gains.shape == (6, 27) and result.image.shape == (48, 48)
    assert phase_aligned_error(result.gains, want).max() < 2e-3
    assert result.kept == 7512 and np.all(np.diff(result.history[: result.stages.count("die")]) <= 0)


def simulated(seed=3):
    """Sixteen antennas, two integrations, one window of three channels, linear feeds: gains and a sky of point
    sources (on pixels of a 32 × 32 image of 6″ cells), the visibilities by the direct sum."""
    rng = np.random.default_rng(seed)
    n_ant, n, cell = 16, 32, np.radians(6 / 3600)
    positions = 1500 * (rng.random((n_ant, 2)) - 0.5)
    sources = [(16, 16, 2.0), (20, 9, 1.0), (5, 27, 0.05)]  # (row, col, Jy): two known, one faint
    gains = (0.8 + 0.4 * rng.random((2, n_ant))) * np.exp(2j * np.pi * rng.random((2, n_ant)))
    freqs = np.array([1.2e9, 1.3e9, 1.4e9])
    a1, a2, time, uvw, data = [], [], [], [], []
    for t in range(2):
        rot = 0.6 * t
        for a in range(n_ant):
            for b in range(a + 1, n_ant):
                du, dv = positions[b] - positions[a]
                u, v = du * np.cos(rot) - dv * np.sin(rot), du * np.sin(rot) + dv * np.cos(rot)
                vis = []
                for f in freqs:
                    k = f / C
                    s = sum(flux * np.exp(-2j * np.pi * k * (u * -(c - n // 2) * cell + v * (r - n // 2) * cell))
                            for r, c, flux in sources)
                    vis.append(gains[t, a] * np.conj(gains[t, b]) * s)
                a1.append(a), a2.append(b), time.append(60.0 * t), uvw.append((u, v, 0.0))
                data.append([[x, x] for x in vis])
    rows_ = len(a1)
    # The sky list: the known sources' RA/Dec by the SIN projection inverted about (RA, Dec) = (0°, 40°).
    dec0 = np.radians(40.0)
    known = []
    for r, c, flux in sources[:2]:
        l, m = -(c - n // 2) * cell, (r - n // 2) * cell
        nn = np.sqrt(1 - l * l - m * m)
        dec = np.arcsin(m * np.cos(dec0) + nn * np.sin(dec0))
        ra = np.arctan2(l, nn * np.cos(dec0) - m * np.sin(dec0))
        known.append((np.degrees(ra) % 360, np.degrees(dec), flux))
    vis = dict(n_antennas=n_ant, antenna1=np.array(a1), antenna2=np.array(a2), time=np.array(time),
               uvw=np.array(uvw), spectral_window=np.zeros(rows_, int), frequencies=freqs[None, :],
               correlations=["XX", "YY"], data=np.array(data), weights=np.ones((rows_, 3, 2)),
               flags=np.zeros((rows_, 3, 2), bool), phase_centre=(0.0, 40.0))
    return vis, np.array(known), gains


def test_arrays_are_calibrated_to_the_gains_they_were_made_with():
    vis, sky, gains = simulated()
    result = radio.SelfCalibration(image_size=32, cell_arcsec=6, dde_size=1, max_outer=1, tol=1e-7,
                                   eta=1e-6).fit(vis, sky)
    assert phase_aligned_error(result.gains, gains).max() < 2e-3
    # The faint source, left to the image, about its pixel.
    assert result.die_faint[4:7, 26:29].sum() == pytest.approx(0.05, rel=0.05)


def test_bad_input_is_refused():
    vis, sky, _ = simulated()
    cal = radio.SelfCalibration(image_size=32, cell_arcsec=6, dde_size=1, max_outer=1)
    with pytest.raises(ValueError, match="lacks"):
        cal.fit({k: v for k, v in vis.items() if k != "uvw"}, sky)
    with pytest.raises(ValueError, match="k × 3"):
        cal.fit(vis, sky[:, :2])
    bad = dict(vis, data=vis["data"].copy())
    bad["data"][3, 1, 0] = np.nan
    with pytest.raises(ValueError, match="finite"):
        cal.fit(bad, sky)
    with pytest.raises(ValueError, match="correlation"):
        cal.fit(dict(vis, correlations=["XX", "QQ"]), sky)
    with pytest.raises(ValueError, match="cell"):
        radio.SelfCalibration(image_size=32, cell_arcsec=600, dde_size=1).fit(vis, sky)
    with pytest.raises(ValueError):
        radio.read(FIXTURES / "vla_d_points_sky.csv")
