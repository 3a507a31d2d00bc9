//! PDE operators as polynomials in the fields and their partial derivatives, and the tensor grids they are
//! collocated on.
//!
//! An [`Equation`] reads `Σ_terms c(x) · Π_factors ∂^α u_f = s(x)`, each [`Coefficient`] `c` a number or a
//! function of the coordinates: Poisson `u_xx + u_yy = f` is two terms of one factor, Allen–Cahn adds `u³`
//! (one term, three factors `u`) and `−u`, viscous Burgers `u_t + u u_x − ν u_xx = 0` has the product
//! `u · u_x`, steady Navier–Stokes couples three fields, and variable conductivity `(1 + x²) u_xx + 2x u_x`
//! has coefficients that vary. Grid values are stored row-major with the first axis slowest
//! (`index = ((i₀ n₁ + i₁) n₂ + i₂)…`).

use super::expr::{Expr, on_tensor};
use crate::data::check_bytes;
use crate::{Error, Result};

/// One axis of a tensor grid: `points` equispaced points from `lower` to `upper`, both included.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Axis {
    /// First coordinate.
    pub lower: f64,
    /// Last coordinate.
    pub upper: f64,
    /// Number of points (at least 2).
    pub points: usize,
}

impl Axis {
    /// What makes this axis unusable, if anything: fewer than 2 points, an interval that is not finite
    /// with `lower < upper`, a length that overflows float64, or a spacing below `10⁻¹²` of the interval's
    /// largest magnitude (or subnormal): coordinates that close carry too few digits for the kernel's
    /// differences (and at `2⁻⁵²` neighbours round to the same value).
    pub fn defect(&self) -> Option<String> {
        if self.points < 2 {
            return Some(format!("{} point(s); at least 2 are needed", self.points));
        }
        let step = self.step();
        if !self.lower.is_finite() || !self.upper.is_finite() {
            Some(format!("the interval [{}, {}] is not finite", self.lower, self.upper))
        } else if self.upper.partial_cmp(&self.lower) != Some(std::cmp::Ordering::Greater) {
            Some(format!("lower = {} is not below upper = {}", self.lower, self.upper))
        } else if !(self.upper - self.lower).is_finite() {
            Some(format!(
                "the interval [{}, {}] is longer than float64 can hold",
                self.lower, self.upper
            ))
        } else if !(step.is_normal()
            && self.lower + step != self.lower
            && self.upper - step != self.upper
            && step > 1e-12 * self.lower.abs().max(self.upper.abs()))
        {
            Some(format!(
                "{} points on [{}, {}] are {step:e} apart, below 1e-12 of the interval's magnitude: too close \
                 for float64 to resolve (shift the interval towards 0 or use fewer points)",
                self.points, self.lower, self.upper
            ))
        } else {
            None
        }
    }

    /// The spacing `(upper − lower) / (points − 1)`.
    pub fn step(&self) -> f64 {
        (self.upper - self.lower) / (self.points - 1) as f64
    }

    /// The coordinates `lower + i · step` (where the solver places its grid points).
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] `points` for an axis whose coordinates would take more than
    /// [`MAX_BYTES`](crate::data::MAX_BYTES).
    pub fn coordinates(&self) -> Result<Vec<f64>> {
        check_bytes(
            "points",
            8.0 * self.points as f64,
            || format!("an axis of {} points", self.points),
            "",
        )?;
        Ok((0..self.points).map(|i| self.lower + i as f64 * self.step()).collect())
    }
}

/// A tensor grid: the product of its axes, first axis slowest.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    axes: Vec<Axis>,
}

impl Grid {
    /// A grid from its axes.
    ///
    /// # Errors
    /// [`Error::InvalidParameter`] for no axes, an axis with fewer than 2 points, or an empty or non-finite
    /// interval.
    pub fn new(axes: Vec<Axis>) -> Result<Self> {
        if axes.is_empty() {
            return Err(Error::InvalidParameter {
                name: "grid",
                reason: "needs at least one axis".into(),
            });
        }
        for (d, a) in axes.iter().enumerate() {
            if let Some(why) = a.defect() {
                return Err(Error::InvalidParameter {
                    name: "grid",
                    reason: format!("axis {} (1-based): {why}", d + 1),
                });
            }
        }
        Ok(Self { axes })
    }

    /// The axes.
    pub fn axes(&self) -> &[Axis] {
        &self.axes
    }

    /// Points per axis.
    pub fn shape(&self) -> Vec<usize> {
        self.axes.iter().map(|a| a.points).collect()
    }

    /// Number of grid points.
    pub fn len(&self) -> usize {
        self.axes.iter().map(|a| a.points).product()
    }

    /// Whether the grid has no points (never, once constructed).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The coordinates of grid point `index`.
    pub fn point(&self, mut index: usize) -> Vec<f64> {
        let mut x = vec![0.0; self.axes.len()];
        for (d, a) in self.axes.iter().enumerate().rev() {
            x[d] = a.lower + (index % a.points) as f64 * a.step();
            index /= a.points;
        }
        x
    }

    /// The multi-index of grid point `index`.
    pub fn multi_index(&self, mut index: usize) -> Vec<usize> {
        let mut i = vec![0; self.axes.len()];
        for (d, a) in self.axes.iter().enumerate().rev() {
            i[d] = index % a.points;
            index /= a.points;
        }
        i
    }
}

/// Which faces of the grid carry Dirichlet data: `faces[d] = [lower, upper]` for axis `d`. A time axis
/// usually has only its lower face (the initial condition).
pub type Faces = Vec<[bool; 2]>;

/// `∂^α u_f`: the partial derivative of field `field` with `orders[d]` derivatives along axis `d`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Derivative {
    /// The field.
    pub field: usize,
    /// Derivative order per axis (all zero for the field itself).
    pub orders: Vec<usize>,
}

/// A term's coefficient: a number, or a function of the coordinates (a conductivity `1 + x²`, a potential
/// `exp(x y)`).
#[derive(Debug, Clone, PartialEq)]
pub enum Coefficient {
    /// The same number everywhere.
    Constant(f64),
    /// An expression whose variables are the coordinates in axis order (parameters already substituted).
    Varying(Expr),
}

impl Coefficient {
    /// The value at the point `x` (one coordinate per axis).
    ///
    /// # Panics
    /// If a varying coefficient reads more coordinates than `x` holds ([`Discretization::validate`]
    /// refuses such a coefficient).
    pub fn at(&self, x: &[f64]) -> f64 {
        match self {
            Self::Constant(c) => *c,
            Self::Varying(e) => e.eval(x),
        }
    }

    /// The values on `grid`'s points (grid order).
    ///
    /// # Errors
    /// As [`Axis::coordinates`].
    ///
    /// # Panics
    /// As [`Coefficient::at`].
    pub fn on_grid(&self, grid: &Grid) -> Result<Vec<f64>> {
        Ok(match self {
            Self::Constant(c) => vec![*c; grid.len()],
            Self::Varying(_) => {
                let coordinates = grid.axes().iter().map(Axis::coordinates).collect::<Result<Vec<_>>>()?;
                self.on_points(&coordinates)
            }
        })
    }

    /// Its values on the tensor grid of the given coordinates per axis (row-major, first axis slowest):
    /// off the collocation grid, as the residual indicator and the stability estimate take it.
    pub fn on_points(&self, points: &[Vec<f64>]) -> Vec<f64> {
        match self {
            Self::Constant(c) => vec![*c; points.iter().map(Vec::len).product()],
            Self::Varying(e) => on_tensor(std::slice::from_ref(e), points).remove(0),
        }
    }

    /// The number, for a constant coefficient.
    pub fn constant(&self) -> Option<f64> {
        match self {
            Self::Constant(c) => Some(*c),
            Self::Varying(_) => None,
        }
    }
}

/// `coefficient · Π factors` (an empty product is the coefficient alone).
#[derive(Debug, Clone, PartialEq)]
pub struct Term {
    /// The coefficient, constant or varying in space.
    pub coefficient: Coefficient,
    /// The derivatives multiplied together.
    pub factors: Vec<Derivative>,
}

/// One equation `Σ terms = source(x)` of a PDE system.
#[derive(Debug, Clone, PartialEq)]
pub struct Equation {
    /// The terms of the left-hand side.
    pub terms: Vec<Term>,
}

impl Equation {
    /// Whether the equation is linear in the fields (no term multiplies two derivatives).
    pub fn is_linear(&self) -> bool {
        self.terms.iter().all(|t| t.factors.len() <= 1)
    }
}

/// A PDE system on a grid, its source terms and its boundary data: what the GP solvers take.
#[derive(Debug, Clone, PartialEq)]
pub struct Discretization {
    /// The collocation grid.
    pub grid: Grid,
    /// Number of unknown fields.
    pub fields: usize,
    /// The equations, imposed at the grid points [`collocated`](Self::collocated) names.
    pub equations: Vec<Equation>,
    /// The source of each equation at every grid point.
    pub sources: Vec<Vec<f64>>,
    /// The faces with Dirichlet data.
    pub faces: Faces,
    /// Each field's Dirichlet values at every grid point (read on the boundary only).
    pub boundary: Vec<Vec<f64>>,
}

impl Discretization {
    /// Checks the shapes, values and orders against each other.
    ///
    /// # Errors
    /// [`Error::Shape`] for sources, boundary data or derivative orders of the wrong length, or a field out
    /// of range; [`Error::NonFinite`]; [`Error::InvalidParameter`] for an axis with fewer points than its
    /// highest derivative order needs (order + 2), for no equations, for no boundary face, or for a
    /// coefficient that is not finite somewhere on the grid.
    pub fn validate(&self) -> Result<()> {
        let n = self.grid.len();
        let dims = self.grid.axes().len();
        if self.equations.is_empty() || self.fields == 0 {
            return Err(Error::InvalidParameter {
                name: "equations",
                reason: "a PDE needs at least one field and one equation".into(),
            });
        }
        let count = |what, expected, found| {
            if expected == found {
                Ok(())
            } else {
                Err(Error::Shape { what, expected, found })
            }
        };
        count("sources (one per equation)", self.equations.len(), self.sources.len())?;
        count("boundary data (one per field)", self.fields, self.boundary.len())?;
        count("boundary faces (one pair per axis)", dims, self.faces.len())?;
        for (what, vs) in [("source", &self.sources), ("boundary data", &self.boundary)] {
            for (k, v) in vs.iter().enumerate() {
                count("values per grid point", n, v.len())?;
                if let Some(i) = v.iter().position(|x| !x.is_finite()) {
                    return Err(Error::NonFinite { what, row: i, col: k });
                }
            }
        }
        if !self.faces.iter().flatten().any(|&f| f) {
            return Err(Error::InvalidParameter {
                name: "boundary",
                reason: "no face carries Dirichlet data, so the solution is not determined".into(),
            });
        }
        for eq in &self.equations {
            for t in &eq.terms {
                if let Coefficient::Varying(e) = &t.coefficient
                    && e.arity() > dims
                {
                    return Err(Error::Shape {
                        what: "coordinates a varying coefficient reads (one per axis)",
                        expected: dims,
                        found: e.arity(),
                    });
                }
                let infinite = match &t.coefficient {
                    Coefficient::Constant(c) => (!c.is_finite()).then(|| format!("{c}")),
                    Coefficient::Varying(_) => {
                        let values = t.coefficient.on_grid(&self.grid)?;
                        values
                            .iter()
                            .position(|v| !v.is_finite())
                            .map(|i| format!("{} at the grid point {:?}", values[i], self.grid.point(i)))
                    }
                };
                if let Some(what) = infinite {
                    return Err(Error::InvalidParameter {
                        name: "coefficient",
                        reason: format!("must be finite, got {what}"),
                    });
                }
                for f in &t.factors {
                    count("derivative orders (one per axis)", dims, f.orders.len())?;
                    if f.field >= self.fields {
                        return Err(Error::Shape {
                            what: "field index (below the number of fields)",
                            expected: self.fields,
                            found: f.field,
                        });
                    }
                    for (d, (&m, a)) in f.orders.iter().zip(self.grid.axes()).enumerate() {
                        if m > 0 && a.points < m + 2 {
                            return Err(Error::InvalidParameter {
                                name: "grid",
                                reason: format!(
                                    "axis {d} has {} points, too few for a derivative of order {m} (needs {})",
                                    a.points,
                                    m + 2
                                ),
                            });
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Whether the equations are also imposed on the Dirichlet faces. They are, except in a problem of two
    /// or more dimensions whose every equation is of second order along every axis (Poisson, Helmholtz,
    /// Allen–Cahn: elliptic). There, as in classical collocation, the boundary data take the equation's
    /// place: imposing both over-determines the discrete problem along whole faces, and the least-squares
    /// compromise with the kernel's one-sided derivatives at the edge of the grid left a floor under the
    /// error (a smooth non-separable Poisson problem on 60²: 1.6e-4 with the equation on the faces, 7.8e-7
    /// without; `sin(πx) sin(πy)` on 120²: 1.9e-6 against 5.5e-8, though on a coarse 20² grid 5.8e-6
    /// against 5.0e-5). With a first-order axis (time in the heat and Burgers equations, advection, a
    /// flow's pressure and continuity) the equation is kept on the faces, where it carries what the data
    /// do not (Burgers without it on its spatial faces: 4.8e-3 against 2.0e-3). In 1D, where the faces are
    /// two points, the equation there helps: `sin(πx)` on 64 to 400 points is 30 to 190 times more
    /// accurate with it.
    pub fn collocates_faces(&self) -> bool {
        let dims = self.grid.axes().len();
        let elliptic = dims >= 2
            && (0..dims).all(|d| {
                self.equations.iter().all(|e| {
                    e.terms
                        .iter()
                        .flat_map(|t| &t.factors)
                        .filter_map(|x| x.orders.get(d))
                        .max()
                        .is_some_and(|&m| m >= 2)
                })
            });
        !elliptic
    }

    /// Whether the equations are imposed at grid point `index`: everywhere off the Dirichlet faces, and on
    /// them when [`collocates_faces`](Self::collocates_faces).
    pub fn collocated(&self, index: usize) -> bool {
        self.collocates_faces() || !self.on_boundary(index)
    }

    /// Whether grid point `index` lies on a face with Dirichlet data.
    pub fn on_boundary(&self, index: usize) -> bool {
        let i = self.grid.multi_index(index);
        i.iter()
            .zip(self.grid.axes())
            .zip(&self.faces)
            .any(|((&k, a), f)| (f[0] && k == 0) || (f[1] && k + 1 == a.points))
    }
}
