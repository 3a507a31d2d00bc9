//! FITS images (Pence et al., A&A 524, A42, 2010): the format every radio astronomer's viewer opens
//! (DS9, CARTA, astropy), with a celestial world coordinate system (Calabretta & Greisen, A&A 395, 1077,
//! 2002).

use std::path::Path;

use super::IoError;

/// A celestial frame for a FITS image of the sky: the orthographic (SIN) projection about the phase
/// centre, the convention of [`radio::Imaging`](sparsimony_solvers::radio::Imaging) — pixel `(r, c)` at
/// `l = −(c − ⌊N/2⌋)Δ`, `m = (r − ⌊N/2⌋)Δ`, row 0 the image's bottom.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SkyFrame {
    /// The phase centre (right ascension, declination) in radians, J2000 (FK5): the frame written, as the
    /// readers take a Measurement Set's `PHASE_DIR` and a UVFITS file's axes to be J2000 (other frames
    /// are not converted).
    pub phase_centre: [f64; 2],
    /// The cell (pixel side) in arcseconds.
    pub cell_arcsec: f64,
}

/// What a FITS image's header says besides its shape.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FitsHeader<'a> {
    /// Free text, as `COMMENT` cards (printable ASCII; others become `?`).
    pub comment: &'a str,
    /// The pixels' unit (`BUNIT`, e.g. `JY/PIXEL`).
    pub unit: Option<&'a str>,
    /// The world coordinates: `RA---SIN`/`DEC--SIN` axes in degrees (`CRVAL` the phase centre, `CDELT1 =
    /// −cell`, `CDELT2 = cell`, `CRPIX = ⌊N/2⌋ + 1` on each axis, `RADESYS = 'FK5'`, `EQUINOX = 2000`),
    /// as CASA and WSClean write them.
    pub sky: Option<SkyFrame>,
}

/// Writes a 2-D image as a FITS file (the format every radio astronomer's viewer opens): one primary HDU,
/// 64-bit IEEE floats (`BITPIX = -64`), `NAXIS1` the image's columns (the fastest axis) and `NAXIS2` its
/// rows (row 0 first: the bottom, as FITS viewers show it), with the header's unit and celestial frame.
/// Encoded by fits-well.
///
/// # Errors
/// [`IoError::Output`] when the file cannot be written (it is written atomically); [`IoError::Shape`] for an
/// empty image, a non-finite pixel or a frame whose centre or cell is not finite (or a cell not positive).
pub fn write_fits(path: &Path, image: ndarray::ArrayView2<'_, f64>, header: &FitsHeader<'_>) -> Result<(), IoError> {
    let (rows, cols) = image.dim();
    let shape_error = |message: String| IoError::Shape {
        path: path.into(),
        message,
    };
    if rows == 0 || cols == 0 || image.iter().any(|v| !v.is_finite()) {
        return Err(shape_error(format!(
            "a FITS image needs finite pixels and no empty axis ({rows} × {cols})"
        )));
    }
    let encoding = |e: fits_well::FitsError| shape_error(format!("cannot be encoded as FITS: {e}"));
    let mut cards = fits_well::header::Header::new();
    if let Some(unit) = header.unit {
        cards.set("BUNIT", printable(unit).as_str()).map_err(encoding)?;
    }
    if let Some(frame) = header.sky {
        let [ra, dec] = frame.phase_centre;
        if !(ra.is_finite() && dec.is_finite() && frame.cell_arcsec > 0.0 && frame.cell_arcsec.is_finite()) {
            return Err(shape_error(format!(
                "a sky frame needs a finite phase centre and a positive cell, got ({ra}, {dec}) rad and {} arcsec",
                frame.cell_arcsec
            )));
        }
        let cell = frame.cell_arcsec / 3600.0;
        for (axis, kind, value, step, size) in [
            (1, "RA---SIN", ra.to_degrees().rem_euclid(360.0), -cell, cols),
            (2, "DEC--SIN", dec.to_degrees(), cell, rows),
        ] {
            cards.set(format!("CTYPE{axis}").as_str(), kind).map_err(encoding)?;
            cards.set(format!("CRVAL{axis}").as_str(), value).map_err(encoding)?;
            cards.set(format!("CDELT{axis}").as_str(), step).map_err(encoding)?;
            cards
                .set(format!("CRPIX{axis}").as_str(), (size / 2) as f64 + 1.0)
                .map_err(encoding)?;
            cards.set(format!("CUNIT{axis}").as_str(), "deg").map_err(encoding)?;
        }
        cards.set("RADESYS", "FK5").map_err(encoding)?;
        cards.set("EQUINOX", 2000.0).map_err(encoding)?;
    }
    let comment = printable(header.comment);
    for chunk in comment.as_bytes().chunks(72) {
        cards
            .push_commentary("COMMENT", &String::from_utf8_lossy(chunk))
            .map_err(encoding)?;
    }
    let pixels = fits_well::image::Image::new(
        vec![cols, rows],
        fits_well::image::Data::F64(image.iter().copied().collect()),
        fits_well::image::Scaling::IDENTITY,
    )
    .map_err(encoding)?;
    let mut writer = fits_well::FitsWriter::new(Vec::new());
    writer.write_image(pixels.view(), Some(&cards)).map_err(encoding)?;
    Ok(crate::output::write_atomic(path, &writer.into_inner())?)
}

/// `text` in FITS's restricted ASCII: other characters become `?`.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' })
        .collect()
}
