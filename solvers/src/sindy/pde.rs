//! PDE-FIND (Rudy, Brunton, Proctor & Kutz, Science Advances 2017): discover `u_t = Ξ θ(u, u_x, u_xx, …)`
//! from a field sampled on a space–time grid, with PySINDy's `PDELibrary` terms and names.
//!
//! Data are arrays with axes `(space₁, …, space_d, time, field)` (PySINDy's layout); spatial derivatives are
//! finite differences along each spatial axis on its grid, the time derivative is the model's
//! [`Differentiation`] along the time axis, and every grid point is one sample of the regression.

use ndarray::{Array2, ArrayD, ArrayView1, ArrayViewD, Axis, Dimension, IxDyn};

use super::differentiation::{Differentiation, Time};
use super::fitted::format_equations;
use super::library::{Features, Library, Part};
use super::optimizer::Optimizer;
use super::samples::{Gathered, Prepared, TargetSource};
use crate::{Error, Estimator, Fitted, Result};
use sparsimony_core::Report;
use sparsimony_core::sindy::Factor;

/// PySINDy's `PDELibrary`: an optional constant, the function library's terms of the fields, the spatial
/// derivatives of every field up to total order `derivative_order` (`u_1, u_11, …`; with two spatial axes
/// also `u_2, u_12, u_22, …`), and every product of a derivative with a function term (`uu_1`, `u^2u_11`, …;
/// derivative outer, function term inner, names concatenated without a space as PySINDy prints them).
#[derive(Debug, Clone, PartialEq)]
pub struct PdeLibrary {
    /// Terms of the field values (default: polynomials to degree 2 without the constant).
    pub function_library: Library,
    /// Highest total order of the spatial derivatives (default 2).
    pub derivative_order: usize,
    /// Include the constant term `1` (first; default false).
    pub include_bias: bool,
    /// Include the products of derivatives and function terms (default true).
    pub include_interaction: bool,
    /// Accuracy order of the spatial finite differences (PySINDy's default 2).
    pub fd_order: usize,
}

impl Default for PdeLibrary {
    /// `u, u², u_1, u_11` and their products (Burgers' and the heat equation's terms), no constant.
    fn default() -> Self {
        Self {
            function_library: Library::Polynomial {
                degree: 2,
                include_bias: false,
                interaction_only: false,
            },
            derivative_order: 2,
            include_bias: false,
            include_interaction: true,
            fd_order: 2,
        }
    }
}

impl PdeLibrary {
    /// Spatial multi-indices with `0 < |α| ≤ derivative_order`, last axis varying fastest (PySINDy's order).
    fn multiindices(&self, n_space: usize) -> Vec<Vec<usize>> {
        let mut out = Vec::new();
        let mut idx = vec![0; n_space];
        loop {
            let total: usize = idx.iter().sum();
            if total > 0 && total <= self.derivative_order {
                out.push(idx.clone());
            }
            // Odometer increment over {0..=order}^n_space.
            let Some(pos) = (0..n_space).rev().find(|&a| idx[a] < self.derivative_order) else {
                break;
            };
            idx[pos] += 1;
            idx[pos + 1..].iter_mut().for_each(|v| *v = 0);
        }
        out
    }
}

/// A PDE-FIND problem: the library, the time differentiation and the optimizer (defaults: the default
/// library, second-order finite differences, STLSQ as PySINDy's).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PdeFind {
    /// The candidate terms.
    pub library: PdeLibrary,
    /// How `u_t` is computed along the time axis.
    pub differentiation: Differentiation,
    /// The sparse regression.
    pub optimizer: Optimizer,
    /// Names of the fields (default `x0, x1, …`, as PySINDy).
    pub field_names: Option<Vec<String>>,
}

/// A fitted PDE.
#[derive(Debug, Clone, PartialEq)]
pub struct PdeFit {
    field_names: Vec<String>,
    feature_names: Vec<String>,
    coef: Array2<f64>,
    n_samples: usize,
    report: Report,
}

impl Fitted for PdeFit {
    /// How the optimizer ended (see [`super::optimizer::OptimizerFit::report`]).
    fn report(&self) -> &Report {
        &self.report
    }
}

impl PdeFit {
    /// Coefficients, one row per field.
    pub fn coefficients(&self) -> &Array2<f64> {
        &self.coef
    }

    /// The library terms' names.
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// The fields' names.
    pub fn field_names(&self) -> &[String] {
        &self.field_names
    }

    /// Grid points used as samples.
    pub fn n_samples(&self) -> usize {
        self.n_samples
    }

    /// The right-hand sides, PySINDy style (see [`super::SindyFit::equations`]).
    pub fn equations(&self, precision: usize) -> Vec<String> {
        format_equations(&self.coef, &self.feature_names, precision)
    }
}

impl std::fmt::Display for PdeFit {
    /// `(u)_t = …` per field, three decimals.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (name, eq) in self.field_names.iter().zip(self.equations(3)) {
            writeln!(f, "({name})_t = {eq}")?;
        }
        Ok(())
    }
}

/// Differentiates every lane of `u` along `axis` (sampled at `t`), `derivative` times at accuracy `order`.
fn along_axis(u: ArrayViewD<'_, f64>, axis: usize, method: &Differentiation, t: Time<'_>) -> Result<ArrayD<f64>> {
    let mut out = ArrayD::<f64>::zeros(u.raw_dim());
    for (lane, mut dst) in u.lanes(Axis(axis)).into_iter().zip(out.lanes_mut(Axis(axis))) {
        let d = method.differentiate(lane.insert_axis(Axis(1)), &t)?;
        if d.valid != (0..lane.len()) {
            return Err(Error::InvalidParameter {
                name: "differentiation",
                reason: "PDE-FIND needs derivatives at every grid point (no dropped end points)".into(),
            });
        }
        dst.assign(&d.x_dot.column(0));
    }
    Ok(out)
}

impl<'a> Estimator<(ArrayViewD<'a, f64>, &[ArrayView1<'a, f64>], Time<'a>)> for PdeFind {
    type Fitted = PdeFit;

    /// Fits `u` (axes `(space…, time, field)`, C order) sampled on `spatial_grid` (one strictly increasing
    /// grid per spatial axis) at times `time`.
    ///
    /// # Errors
    /// [`Error::Shape`] when the grids or names do not match `u`; [`Error::NonFinite`]; the differentiation's
    /// errors (too few points for a stencil, grids that do not increase); [`Error::InvalidParameter`] for a
    /// library with more terms than grid points; the optimizer's errors.
    fn fit(&self, (u, spatial_grid, time): (ArrayViewD<'a, f64>, &[ArrayView1<'a, f64>], Time<'a>)) -> Result<PdeFit> {
        let nd = u.ndim();
        let n_space = spatial_grid.len();
        if nd != n_space + 2 {
            return Err(Error::Shape {
                what: "axes of u (one per spatial grid, then time, then field)",
                expected: n_space + 2,
                found: nd,
            });
        }
        for (a, g) in spatial_grid.iter().enumerate() {
            if g.len() != u.shape()[a] {
                return Err(Error::Shape {
                    what: "spatial grid (one point per sample along its axis)",
                    expected: u.shape()[a],
                    found: g.len(),
                });
            }
        }
        if let Some((idx, _)) = u.indexed_iter().find(|(_, v)| !v.is_finite()) {
            let idx: &IxDyn = &idx;
            // The grid point's index in C order (the sample's row), and the field.
            let row = idx.slice()[..nd - 1]
                .iter()
                .zip(u.shape())
                .fold(0, |acc, (&i, &len)| acc * len + i);
            return Err(Error::NonFinite {
                what: "u (row: grid point in C order, col: field)",
                row,
                col: idx[nd - 1],
            });
        }
        let m = u.shape()[nd - 1];
        let field_names = match &self.field_names {
            Some(v) if v.len() != m => {
                return Err(Error::Shape {
                    what: "field names",
                    expected: m,
                    found: v.len(),
                });
            }
            Some(v) => v.clone(),
            None => (0..m).map(|i| format!("x{i}")).collect(),
        };

        // Derivative fields, in the library's order: multi-index outer, field inner.
        let spatial = Differentiation::FiniteDifference {
            order: self.library.fd_order,
            derivative: 1,
            drop_endpoints: false,
        };
        let mut derivative_fields = Vec::new();
        let mut derivative_names = Vec::new();
        for mi in self.library.multiindices(n_space) {
            let mut d = u.to_owned();
            for (a, &k) in mi.iter().enumerate() {
                if k > 0 {
                    let method = match spatial {
                        Differentiation::FiniteDifference {
                            order, drop_endpoints, ..
                        } => Differentiation::FiniteDifference {
                            order,
                            derivative: k,
                            drop_endpoints,
                        },
                        _ => unreachable!("constructed as finite differences above"),
                    };
                    d = along_axis(d.view(), a, &method, Time::Points(spatial_grid[a]))?;
                }
            }
            let suffix: String = mi
                .iter()
                .enumerate()
                .map(|(a, &k)| (a + 1).to_string().repeat(k))
                .collect();
            for name in &field_names {
                derivative_names.push(format!("{name}_{suffix}"));
            }
            derivative_fields.push(d);
        }
        let u_t = along_axis(u.view(), n_space, &self.differentiation, time)?;

        // Samples: every grid point; inputs: the fields, then each derivative field.
        let n: usize = u.shape()[..nd - 1].iter().product();
        let n_der = derivative_fields.len() * m;
        let flat = |a: ArrayViewD<'_, f64>| -> Array2<f64> {
            a.as_standard_layout()
                .into_owned()
                .into_shape_with_order((n, m))
                .expect("n·m elements")
        };
        let mut inputs = Array2::<f64>::zeros((n, m + n_der));
        inputs.slice_mut(ndarray::s![.., ..m]).assign(&flat(u));
        for (k, d) in derivative_fields.iter().enumerate() {
            inputs
                .slice_mut(ndarray::s![.., m + k * m..m + (k + 1) * m])
                .assign(&flat(d.view()));
        }
        let targets = flat(u_t.view());

        // Terms: [1], f(u), derivatives, derivative × f(u).
        let function = self.library.function_library.expand(&field_names)?;
        let mut terms: Vec<Vec<Part>> = Vec::new();
        let mut names = Vec::new();
        if self.library.include_bias {
            terms.push(Vec::new());
            names.push("1".to_string());
        }
        for k in 0..function.len() {
            terms.push(function.term(k).to_vec());
            names.push(function.names()[k].clone());
        }
        let derivative_part = |i: usize| {
            Part::Factor(Factor::Power {
                input: m + i,
                exponent: 1,
            })
        };
        for (i, name) in derivative_names.iter().enumerate() {
            terms.push(vec![derivative_part(i)]);
            names.push(name.clone());
        }
        if self.library.include_interaction {
            for (i, dname) in derivative_names.iter().enumerate() {
                for k in 0..function.len() {
                    let mut t = function.term(k).to_vec();
                    t.push(derivative_part(i));
                    terms.push(t);
                    names.push(format!("{}{dname}", function.names()[k]));
                }
            }
        }
        let features = Features::from_parts(terms, names, m + n_der);
        let data = Gathered {
            trajectories: vec![Prepared {
                x: inputs.view(),
                smoothed: None,
                u: None,
                target: TargetSource::Given(targets.view()),
                rows: 0..n,
            }],
            n_inputs: m + n_der,
            n_targets: m,
        };
        let fit = self.optimizer.fit_rows(n, features.len(), "grid points", &|w| {
            data.normal_equations(&features, w)
        })?;
        Ok(PdeFit {
            field_names,
            feature_names: features.names().to_vec(),
            coef: fit.coef,
            report: fit.report,
            n_samples: n,
        })
    }
}
