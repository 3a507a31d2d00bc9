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
    /// The phase centre (right ascension, declination) in radians, J2000 (FK5).
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
/// 64-bit IEEE floats (`BITPIX = -64`), big-endian, `NAXIS1` the image's columns (the fastest axis) and
/// `NAXIS2` its rows (row 0 first: the bottom, as FITS viewers show it), with the header's unit and
/// celestial frame; header and data each padded to 2880-byte blocks as the standard requires. Written by
/// hand: the only permissive Rust FITS crate we know of (fitsrs) reads and does not write.
///
/// # Errors
/// [`IoError::Output`] when the file cannot be written (it is written atomically); [`IoError::Shape`] for an
/// empty image, a non-finite pixel or a frame whose centre or cell is not finite (or a cell not positive).
pub fn write_fits(path: &Path, image: ndarray::ArrayView2<'_, f64>, header: &FitsHeader<'_>) -> Result<(), IoError> {
    let (rows, cols) = image.dim();
    if rows == 0 || cols == 0 || image.iter().any(|v| !v.is_finite()) {
        return Err(IoError::Shape {
            path: path.into(),
            message: format!("a FITS image needs finite pixels and no empty axis ({rows} × {cols})"),
        });
    }
    let card = |key: &str, value: &str| format!("{key:<8}= {value:>20}").chars().take(80).collect::<String>();
    let text = |value: &str| -> String {
        let clean: String = value
            .chars()
            .filter(|c| c.is_ascii_graphic() || *c == ' ')
            .map(|c| if c == '\'' { '"' } else { c })
            .take(68)
            .collect();
        format!("'{clean:<8}'")
    };
    let real = |v: f64| format!("{v:.15E}");
    let text_card = |key: &str, value: &str| format!("{key:<8}= {}", text(value));
    let mut cards = vec![
        card("SIMPLE", "T"),
        card("BITPIX", "-64"),
        card("NAXIS", "2"),
        card("NAXIS1", &cols.to_string()),
        card("NAXIS2", &rows.to_string()),
    ];
    if let Some(unit) = header.unit {
        cards.push(text_card("BUNIT", unit));
    }
    if let Some(frame) = header.sky {
        let [ra, dec] = frame.phase_centre;
        if !(ra.is_finite() && dec.is_finite() && frame.cell_arcsec > 0.0 && frame.cell_arcsec.is_finite()) {
            return Err(IoError::Shape {
                path: path.into(),
                message: format!(
                    "a sky frame needs a finite phase centre and a positive cell, got ({ra}, {dec}) rad and {} arcsec",
                    frame.cell_arcsec
                ),
            });
        }
        let cell = frame.cell_arcsec / 3600.0;
        for (axis, kind, value, step, size) in [
            (1, "RA---SIN", ra.to_degrees().rem_euclid(360.0), -cell, cols),
            (2, "DEC--SIN", dec.to_degrees(), cell, rows),
        ] {
            cards.push(text_card(&format!("CTYPE{axis}"), kind));
            cards.push(card(&format!("CRVAL{axis}"), &real(value)));
            cards.push(card(&format!("CDELT{axis}"), &real(step)));
            cards.push(card(&format!("CRPIX{axis}"), &real((size / 2) as f64 + 1.0)));
            cards.push(text_card(&format!("CUNIT{axis}"), "deg"));
        }
        cards.push(text_card("RADESYS", "FK5"));
        cards.push(card("EQUINOX", &real(2000.0)));
    }
    // COMMENT cards: printable ASCII only, 72 characters each.
    let comment: String = header
        .comment
        .chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' })
        .collect();
    for chunk in comment.as_bytes().chunks(72) {
        cards.push(format!("COMMENT {}", String::from_utf8_lossy(chunk)));
    }
    cards.push("END".into());
    let mut bytes = Vec::with_capacity(2880 * (2 + rows * cols * 8 / 2880));
    for c in &cards {
        bytes.extend_from_slice(format!("{c:<80}").as_bytes());
    }
    bytes.resize(bytes.len().div_ceil(2880) * 2880, b' ');
    for v in image.iter() {
        bytes.extend_from_slice(&v.to_be_bytes());
    }
    bytes.resize(bytes.len().div_ceil(2880) * 2880, 0);
    Ok(crate::output::write_atomic(path, &bytes)?)
}
