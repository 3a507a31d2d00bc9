"""`sparsimony radio calibrate` on a Measurement Set written by python-casacore
(tests/fixtures/radio/make_measurement_set.py) and on the UVFITS file pyuvdata made of it
(tests/fixtures/radio/make_uvfits.py), its FITS image opened by astropy: the world coordinate
system places the faint sources' RA/Dec on their peaks, within one pixel, with their fluxes within 10 %;
the solutions table holds the gains the set was made with; the JSON's peaks sit on the sources.

The command-line program is the one `cargo build` made (target/release or target/debug, the newer), or
SPARSIMONY_BIN; CI sets SPARSIMONY_BIN to the build it has just tested and fails rather than skips
without one."""
import csv
import json
import os
import pathlib
import subprocess

import numpy as np
import pytest
from astropy import units
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.wcs import WCS

ROOT = pathlib.Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "radio"


def sparsimony():
    given = os.environ.get("SPARSIMONY_BIN")
    candidates = [pathlib.Path(given)] if given else [ROOT / "target" / p / "sparsimony" for p in ("release", "debug")]
    found = [c for c in candidates if c.exists()]
    if not found:
        message = f"no sparsimony program at {[str(c) for c in candidates]}: run cargo build or set SPARSIMONY_BIN"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return str(max(found, key=lambda c: c.stat().st_mtime))


def rows(name):
    with open(FIXTURES / name) as f:
        return [{k: float(v) for k, v in r.items()} for r in csv.DictReader(f)]


@pytest.fixture(scope="module", params=["vla_d_points.ms", "vla_d_points.uvfits"])
def calibrated(tmp_path_factory, request):
    out = tmp_path_factory.mktemp("radio")
    run = subprocess.run(
        [sparsimony(), "radio", "calibrate", "--vis", str(FIXTURES / request.param),
         "--sky", str(FIXTURES / "vla_d_points_sky.csv"), "--cell", "10", "--image-size", "48",
         "--dde-size", "1", "--tol", "1e-5", "--out", str(out / "image.fits"),
         "--solutions", str(out / "solutions.csv"), "--json"],
        capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stderr
    return out, json.loads(run.stdout)


def test_astropy_reads_the_image_and_its_sky_frame(calibrated):
    out, _ = calibrated
    with fits.open(out / "image.fits") as hdus:
        header, image = hdus[0].header, hdus[0].data.astype(float)
    assert image.shape == (48, 48)
    assert header["BUNIT"] == "JY/PIXEL"
    wcs = WCS(header)
    assert wcs.wcs.ctype[0] == "RA---SIN" and wcs.wcs.ctype[1] == "DEC--SIN"
    # The phase centre (the set's FIELD) at pixel (24, 24), 0-based.
    x, y = wcs.world_to_pixel_values(150.0, 40.0)
    assert abs(x - 24) < 1e-9 and abs(y - 24) < 1e-9
    # The known sources, on their nearest pixels.
    for s in rows("vla_d_points_sky.csv"):
        x, y = wcs.world_to_pixel_values(s["ra_deg"], s["dec_deg"])
        assert image[int(round(float(y))), int(round(float(x)))] == pytest.approx(s["flux_jy"], rel=1e-12)
    # Each faint source (between pixels): the brightest pixel around it within one pixel of its position,
    # the flux about it within 10 %.
    for s in rows("vla_d_points_faint.csv"):
        x, y = (float(v) for v in wcs.world_to_pixel_values(s["ra_deg"], s["dec_deg"]))
        r, c = int(round(y)), int(round(x))
        near = image[r - 1:r + 2, c - 1:c + 2]
        pr, pc = np.unravel_index(np.argmax(near), near.shape)
        assert abs(r - 1 + pr - y) <= 1 and abs(c - 1 + pc - x) <= 1, (s, pr, pc)
        assert near.sum() == pytest.approx(s["flux_jy"], rel=0.1), s


def test_the_json_peaks_sit_on_the_faint_sources(calibrated):
    _, v = calibrated
    assert v["visibilities"]["kept"] > 0 and v["w_phase"] < 0.1
    peaks = SkyCoord([p["ra_deg"] for p in v["peaks"]] * units.deg, [p["dec_deg"] for p in v["peaks"]] * units.deg)
    for s in rows("vla_d_points_faint.csv"):
        source = SkyCoord(s["ra_deg"] * units.deg, s["dec_deg"] * units.deg)
        # Within one pixel along each axis: at most √2 cells of 10″.
        assert source.separation(peaks).arcsec.min() < 10 * 2 ** 0.5, s


def test_the_solutions_are_the_sets_gains(calibrated):
    out, _ = calibrated
    with open(out / "solutions.csv") as f:
        die = [r for r in csv.DictReader(f) if r["stage"] == "die"]
    truth = rows("vla_d_points_gains.csv")
    assert len(die) == len(truth)
    # Each integration's gains up to a phase common to its antennas (it cancels in every visibility).
    for t in range(6):
        got = np.array([complex(float(r["re"]), float(r["im"])) for r in die if int(r["time_step"]) == t])
        want = np.array([complex(g["re"], g["im"]) for g in truth if int(g["time_step"]) == t])
        cross = np.vdot(want, got)
        error = np.linalg.norm(got - cross / abs(cross) * want) / np.linalg.norm(want)
        assert error < 5e-3, (t, error)
