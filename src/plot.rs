//! Line plots and heat maps as SVG files (plotters' SVG backend, drawn in memory and written atomically: text is left to the viewer's fonts, so no font files or
//! system libraries are needed): data against model, one panel per series group; heat maps; log–log
//! scatter plots.

use std::path::Path;

use plotters::prelude::*;

/// One curve: a legend label, its values (one per abscissa), and whether it is drawn dashed (a model)
/// rather than solid (data).
pub struct Curve<'a> {
    /// Legend label.
    pub label: String,
    /// Values, one per abscissa.
    pub values: &'a [f64],
    /// Dashed (model) rather than solid (data).
    pub dashed: bool,
}

/// A panel: a title and its curves.
pub struct Panel<'a> {
    /// Title above the panel (e.g. the state's name).
    pub title: String,
    /// The curves.
    pub curves: Vec<Curve<'a>>,
}

/// Errors of plotting.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The file name does not end in `.svg`.
    #[error("{0}: plots are written as SVG; give a file name ending in .svg")]
    NotSvg(String),
    /// A curve's length differs from the abscissa's, or there is nothing to draw.
    #[error("plot data: {0}")]
    Data(String),
    /// The drawing backend failed (e.g. the file cannot be written).
    #[error("writing {path}: {message}")]
    Backend {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
}

/// Checks that `path` names an SVG file (extension `.svg`, any case) and returns it for messages, so that
/// callers can refuse a plot path before doing the work it would show.
///
/// # Errors
/// [`PlotError::NotSvg`] otherwise.
pub fn require_svg(path: &Path) -> Result<String, PlotError> {
    let name = path.display().to_string();
    if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("svg")) {
        Ok(name)
    } else {
        Err(PlotError::NotSvg(name))
    }
}

/// A tick label that reads at any scale: for an axis from `lo` to `hi`, plain decimals with as many digits
/// as the tick spacing needs, or scientific notation where the values are below 1e-3 or from 1e5 up (an
/// error panel of 1e-8 reads `2.0e-8`, not `0.0`); zero is `0`, never `-0.0`.
pub fn tick_label(v: f64, lo: f64, hi: f64) -> String {
    let step = ((hi - lo).abs() / 10.0).max(f64::MIN_POSITIVE);
    if v.abs() <= step * 1e-6 {
        return "0".into();
    }
    let mag = lo.abs().max(hi.abs());
    if !(1e-3..1e5).contains(&mag) {
        let digits = ((mag / step).log10() - 1e-9).ceil().clamp(1.0, 8.0) as usize;
        format!("{v:.digits$e}")
    } else {
        let digits = (-step.log10() - 1e-9).ceil().clamp(0.0, 12.0) as usize;
        format!("{v:.digits$}")
    }
}

/// Width in pixels of the legend strip right of each panel (the legend never covers the data).
const LEGEND_WIDTH: u32 = 180;

/// Draws a legend in its own strip: a line sample (dashed for models) and the label, one row a curve.
fn legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    entries: &[(String, RGBAColor, bool)],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    for (k, (label, color, dashed)) in entries.iter().enumerate() {
        let y = 45 + 22 * k as i32;
        let segments: Vec<(i32, i32)> = if *dashed {
            vec![(6, 14), (20, 28)]
        } else {
            vec![(6, 28)]
        };
        for (a, b) in segments {
            area.draw(&PathElement::new(vec![(a, y), (b, y)], color.stroke_width(2)))?;
        }
        area.draw(&Text::new(label.clone(), (34, y - 7), ("sans-serif", 14)))?;
    }
    Ok(())
}

/// Writes `panels` stacked vertically against the abscissa `x` (labelled `x_label`) to `path` (SVG), each
/// with its legend in a strip to its right.
///
/// # Errors
/// [`PlotError`] for a non-SVG name, mismatched lengths, non-finite values or a failed write.
pub fn line_panels(path: &Path, x_label: &str, x: &[f64], panels: &[Panel<'_>]) -> Result<(), PlotError> {
    let name = require_svg(path)?;
    if x.len() < 2 || panels.is_empty() {
        return Err(PlotError::Data("need at least two abscissae and one panel".into()));
    }
    for p in panels {
        for c in &p.curves {
            if c.values.len() != x.len() {
                return Err(PlotError::Data(format!(
                    "curve `{}` has {} values for {} abscissae",
                    c.label,
                    c.values.len(),
                    x.len()
                )));
            }
        }
    }
    let backend = |e: &dyn std::fmt::Display| PlotError::Backend {
        path: name.clone(),
        message: e.to_string(),
    };
    let mut svg = String::new();
    {
        let root =
            SVGBackend::with_string(&mut svg, (900 + LEGEND_WIDTH, 260 * panels.len() as u32)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| backend(&e))?;
        let areas = root.split_evenly((panels.len(), 1));
        let (x0, x1) = (x[0], x[x.len() - 1]);
        for (whole, panel) in areas.iter().zip(panels) {
            let (area, strip) = whole.split_horizontally(900);
            let finite = panel
                .curves
                .iter()
                .flat_map(|c| c.values.iter().copied())
                .filter(|v| v.is_finite());
            let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
            if !lo.is_finite() {
                return Err(PlotError::Data(format!("panel `{}` has no finite values", panel.title)));
            }
            let pad = 0.05 * (hi - lo).max(1e-300).max(hi.abs().max(lo.abs()) * 1e-12);
            let (y0, y1) = (lo - pad, hi + pad);
            let mut chart = ChartBuilder::on(&area)
                .caption(&panel.title, ("sans-serif", 18))
                .margin(10)
                .x_label_area_size(35)
                .y_label_area_size(75)
                .build_cartesian_2d(x0..x1, y0..y1)
                .map_err(|e| backend(&e))?;
            chart
                .configure_mesh()
                .x_desc(x_label)
                .x_label_formatter(&|v| tick_label(*v, x0, x1))
                .y_label_formatter(&|v| tick_label(*v, y0, y1))
                .draw()
                .map_err(|e| backend(&e))?;
            let mut entries = Vec::new();
            for (k, c) in panel.curves.iter().enumerate() {
                let color = Palette99::pick(k).to_rgba();
                let points = x
                    .iter()
                    .copied()
                    .zip(c.values.iter().copied())
                    .filter(|(_, v)| v.is_finite());
                let series = if c.dashed {
                    chart.draw_series(DashedLineSeries::new(points, 6, 4, color.stroke_width(2)))
                } else {
                    chart.draw_series(LineSeries::new(points, color.stroke_width(1)))
                };
                series.map_err(|e| backend(&e))?;
                entries.push((c.label.clone(), color, c.dashed));
            }
            legend(&strip, &entries).map_err(|e| backend(&e))?;
        }
        root.present().map_err(|e| backend(&e))?;
    }
    crate::output::write_atomic(path, svg.as_bytes()).map_err(|e| backend(&e))
}

/// One heat map: a title and values on the plot's grid (row-major, first axis slowest).
pub struct Heatmap<'a> {
    /// Title above the map.
    pub title: String,
    /// Values, `x.len() · y.len()` of them, the first axis slowest.
    pub values: &'a [f64],
}

/// Blue (low) – white – red (high) for `t ∈ [−1, 1]`.
fn diverging(t: f64) -> RGBColor {
    let t = t.clamp(-1.0, 1.0);
    let fade = |c: f64| (255.0 * c).round() as u8;
    if t < 0.0 {
        RGBColor(fade(1.0 + t), fade(1.0 + t), 255)
    } else {
        RGBColor(255, fade(1.0 - t), fade(1.0 - t))
    }
}

/// Writes heat maps side by side (SVG), the first axis vertical and the second horizontal: values on the
/// tensor grid `axes.0 × axes.1`, each map scaled symmetrically to its largest magnitude (white = 0).
///
/// # Errors
/// [`PlotError`] for a non-SVG name, mismatched lengths, non-finite values or a failed write.
pub fn heatmaps(
    path: &Path,
    names: (&str, &str),
    axes: (&[f64], &[f64]),
    maps: &[Heatmap<'_>],
) -> Result<(), PlotError> {
    let name = require_svg(path)?;
    let (rows, cols) = axes;
    if rows.len() < 2 || cols.len() < 2 || maps.is_empty() {
        return Err(PlotError::Data("need at least two points per axis and one map".into()));
    }
    for m in maps {
        if m.values.len() != rows.len() * cols.len() {
            return Err(PlotError::Data(format!(
                "map `{}` has {} values for a {} × {} grid",
                m.title,
                m.values.len(),
                rows.len(),
                cols.len()
            )));
        }
        if m.values.iter().any(|v| !v.is_finite()) {
            return Err(PlotError::Data(format!("map `{}` has non-finite values", m.title)));
        }
    }
    let backend = |e: &dyn std::fmt::Display| PlotError::Backend {
        path: name.clone(),
        message: e.to_string(),
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (380 * maps.len() as u32, 400)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| backend(&e))?;
        let areas = root.split_evenly((1, maps.len()));
        let half = |v: &[f64], i: usize| {
            let lo = if i == 0 { v[0] } else { 0.5 * (v[i - 1] + v[i]) };
            let hi = if i + 1 == v.len() {
                v[i]
            } else {
                0.5 * (v[i] + v[i + 1])
            };
            (lo, hi)
        };
        for (area, map) in areas.iter().zip(maps) {
            let top = map
                .values
                .iter()
                .fold(0.0f64, |m, v| m.max(v.abs()))
                .max(f64::MIN_POSITIVE);
            let (c0, c1, r0, r1) = (cols[0], cols[cols.len() - 1], rows[0], rows[rows.len() - 1]);
            let mut chart = ChartBuilder::on(area)
                .caption(format!("{} (|max| {top:.2e})", map.title), ("sans-serif", 16))
                .margin(10)
                .x_label_area_size(35)
                .y_label_area_size(55)
                .build_cartesian_2d(c0..c1, r0..r1)
                .map_err(|e| backend(&e))?;
            chart
                .configure_mesh()
                .disable_mesh()
                .x_desc(names.1)
                .y_desc(names.0)
                .x_label_formatter(&|v| tick_label(*v, c0, c1))
                .y_label_formatter(&|v| tick_label(*v, r0, r1))
                .draw()
                .map_err(|e| backend(&e))?;
            chart
                .draw_series((0..rows.len()).flat_map(|i| {
                    (0..cols.len()).map(move |j| {
                        let (y0, y1) = half(rows, i);
                        let (x0, x1) = half(cols, j);
                        Rectangle::new(
                            [(x0, y0), (x1, y1)],
                            diverging(map.values[i * cols.len() + j] / top).filled(),
                        )
                    })
                }))
                .map_err(|e| backend(&e))?;
        }
        root.present().map_err(|e| backend(&e))?;
    }
    crate::output::write_atomic(path, svg.as_bytes()).map_err(|e| backend(&e))
}

/// One group of a scatter plot: a legend label and its `(x, y)` points.
pub struct Scatter<'a> {
    /// Legend label.
    pub label: String,
    /// The points.
    pub points: &'a [(f64, f64)],
}

/// A dashed reference line of a scatter plot: vertical at `x = value` or horizontal at `y = value`.
pub struct Mark {
    /// Legend label.
    pub label: String,
    /// Where it crosses its axis.
    pub value: f64,
    /// Vertical (a value of x) rather than horizontal.
    pub vertical: bool,
}

/// Writes a log–log scatter plot (SVG) of `groups`, one colour each, with dashed reference lines `marks`
/// and the legend in a strip to the right. The axes span the positive finite values with a margin;
/// values at or below zero are drawn at the lower edge (a residual of exactly zero), non-finite ones are
/// refused.
///
/// # Errors
/// [`PlotError`] for a non-SVG name, no points, non-finite values, a mark at or below zero or a failed
/// write.
pub fn log_scatter(
    path: &Path,
    title: &str,
    labels: (&str, &str),
    groups: &[Scatter<'_>],
    marks: &[Mark],
) -> Result<(), PlotError> {
    let name = require_svg(path)?;
    let all = || groups.iter().flat_map(|g| g.points.iter().copied());
    if all().next().is_none() {
        return Err(PlotError::Data("a scatter plot needs at least one point".into()));
    }
    if let Some(g) = groups
        .iter()
        .find(|g| g.points.iter().any(|(x, y)| !x.is_finite() || !y.is_finite()))
    {
        return Err(PlotError::Data(format!("group `{}` has non-finite values", g.label)));
    }
    if let Some(m) = marks.iter().find(|m| !(m.value.is_finite() && m.value > 0.0)) {
        return Err(PlotError::Data(format!(
            "mark `{}` at {} is not on a logarithmic axis (positive, finite)",
            m.label, m.value
        )));
    }
    // The span of the positive values and the marks, a factor 3 beyond them (one decade where all agree).
    let span = |values: &mut dyn Iterator<Item = f64>| {
        let (lo, hi) = values
            .filter(|v| *v > 0.0)
            .fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(v), b.max(v)));
        if lo.is_finite() {
            (lo / 3.0, hi * 3.0)
        } else {
            (0.1, 10.0)
        }
    };
    let mark_values = |vertical: bool| marks.iter().filter(move |m| m.vertical == vertical).map(|m| m.value);
    let (x0, x1) = span(&mut all().map(|p| p.0).chain(mark_values(true)));
    let (y0, y1) = span(&mut all().map(|p| p.1).chain(mark_values(false)));
    let backend = |e: &dyn std::fmt::Display| PlotError::Backend {
        path: name.clone(),
        message: e.to_string(),
    };
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (700 + LEGEND_WIDTH, 560)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| backend(&e))?;
        let (area, strip) = root.split_horizontally(700);
        let mut chart = ChartBuilder::on(&area)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d((x0..x1).log_scale(), (y0..y1).log_scale())
            .map_err(|e| backend(&e))?;
        chart
            .configure_mesh()
            .x_desc(labels.0)
            .y_desc(labels.1)
            .x_label_formatter(&|v| format!("{v:.0e}"))
            .y_label_formatter(&|v| format!("{v:.0e}"))
            .draw()
            .map_err(|e| backend(&e))?;
        let mut entries = Vec::new();
        for (k, g) in groups.iter().enumerate() {
            let color = Palette99::pick(k).to_rgba();
            let style = color.filled();
            chart
                .draw_series(
                    g.points
                        .iter()
                        .map(|&(x, y)| Circle::new((x.max(x0), y.max(y0)), 3, style)),
                )
                .map_err(|e| backend(&e))?;
            entries.push((g.label.clone(), color, false));
        }
        for (k, m) in marks.iter().enumerate() {
            let color = Palette99::pick(groups.len() + k).to_rgba();
            let line = if m.vertical {
                vec![(m.value, y0), (m.value, y1)]
            } else {
                vec![(x0, m.value), (x1, m.value)]
            };
            chart
                .draw_series(DashedLineSeries::new(line, 6, 4, color.stroke_width(1)))
                .map_err(|e| backend(&e))?;
            entries.push((m.label.clone(), color, true));
        }
        legend(&strip, &entries).map_err(|e| backend(&e))?;
        root.present().map_err(|e| backend(&e))?;
    }
    crate::output::write_atomic(path, svg.as_bytes()).map_err(|e| backend(&e))
}

#[cfg(test)]
mod tests {
    use super::tick_label;

    #[test]
    fn tick_labels_read_at_every_scale() {
        // Errors of 1e-8: scientific notation with the digits the spacing needs, not `0.0` / `-0.0`.
        assert_eq!(tick_label(2e-8, -5e-7, 5e-7), "2.0e-8");
        assert_eq!(tick_label(-3e-7, -5e-7, 5e-7), "-3.0e-7");
        assert_eq!(tick_label(-0.0, -5e-7, 5e-7), "0");
        assert_eq!(tick_label(1e-22, -1.0, 1.0), "0");
        // Ordinary ranges: as many decimals as the spacing needs.
        assert_eq!(tick_label(0.4, -1.0, 1.0), "0.4");
        assert_eq!(tick_label(25.0, 0.0, 100.0), "25");
        assert_eq!(tick_label(1.00002, 1.0, 1.0001), "1.00002");
        // Large magnitudes: scientific.
        assert_eq!(tick_label(1_250_000.0, 0.0, 2e6), "1.2e6");
    }
}
