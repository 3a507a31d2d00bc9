//! The non-private baselines: the regression module's Lasso and IHT on the same users' raw records, the
//! accuracy a server would reach if the users trusted it with their data.
//!
//! The records are streamed into normal equations ([`NormalEquations`]: `XᵀX`, `Xᵀy`, `‖y‖²`, `O(d²)`
//! memory), so a baseline runs at any `n` the private estimators do. The Lasso is solved by coordinate
//! descent on them (the [`ElasticNet`] fit of `(&ne, 0)`); IHT on the `d × d` design `Lᵀ` with targets `L⁻¹Xᵀy`,
//! where `LLᵀ = XᵀX`: the same least-squares objective up to a constant, hence the same iterates and
//! the same least-squares refit on the support.

use faer::Side;
use ndarray::{Array1, Array2};

use super::Population;
use crate::regression::{ElasticNet, Iht, LinearFit, NormalEquations};
use crate::{Error, Estimator, Result};

use super::USERS_PER_PIECE as PIECE;

/// A non-private estimator fitted on raw records.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Baseline {
    /// The Lasso, `1/(2n)‖y − Xθ‖² + α‖θ‖₁` (no intercept), at `α = σ√(2 ln(2d)/n)`: the universal
    /// choice of the theory (Bickel, Ritov & Tsybakov 2009) for noise `σ`, given here as the model's.
    #[default]
    Lasso,
    /// Iterative hard thresholding at sparsity `k` (`1 ≤ k ≤ d`) with the least-squares refit on its
    /// support.
    Iht {
        /// The sparsity.
        k: usize,
    },
}

impl Baseline {
    /// Fits `n` users of `population` (records regenerated from `data_seed`, as the private estimators'
    /// `simulate` do): IHT at its sparsity, the Lasso at the population's noise level.
    ///
    /// # Errors
    /// [`Error::Empty`] for `n = 0`; `k` outside `1..=d`; a singular `XᵀX` (`n < d`).
    pub fn simulate(&self, population: &Population, n: usize, data_seed: u64) -> Result<LinearFit> {
        let d = population.check_users(n)?;
        let pieces: Vec<NormalEquations> = crate::parallel::parts_in_pieces(n, PIECE, |users| {
            let (mut x, mut y) = (vec![0.0; users.len() * d], vec![0.0; users.len()]);
            let mut row = vec![0.0; d];
            for (r, i) in users.clone().enumerate() {
                y[r] = population.record(data_seed, i as u64, &mut row);
                // Column-major block: feature j of row r at j·rows + r.
                row.iter().enumerate().for_each(|(j, v)| x[j * users.len() + r] = *v);
            }
            let mut ne = NormalEquations::zeros(d, 1);
            ne.accumulate(users.len(), &x, &y, None)?;
            Ok(ne)
        })?;
        let mut ne = NormalEquations::zeros(d, 1);
        for piece in &pieces {
            ne.add(piece)?;
        }
        match self {
            Self::Lasso => ElasticNet {
                alpha: population.noise * (2.0 * (2.0 * d as f64).ln() / n as f64).sqrt(),
                l1_ratio: 1.0,
                fit_intercept: false,
                ..ElasticNet::default()
            }
            .fit((&ne, 0)),
            Self::Iht { k } => iht_on_normal_equations(&ne, *k),
        }
    }
}

/// IHT at sparsity `k` on the normal equations, through the square-root design `Lᵀ` (see the module).
fn iht_on_normal_equations(ne: &NormalEquations, k: usize) -> Result<LinearFit> {
    let d = ne.n_features();
    let gram = faer::Mat::from_fn(d, d, |a, b| ne.gram(a, b));
    let llt = gram.as_ref().llt(Side::Lower).map_err(|e| {
        Error::not_positive_definite(
            "XᵀX of the baseline",
            e,
            &format!("{d} features, {} users: collinear or too few users", ne.n_samples()),
        )
    })?;
    let l = llt.L();
    // b = L⁻¹ Xᵀy by faer's forward substitution.
    let mut b: Vec<f64> = (0..d).map(|i| ne.cross(i, 0)).collect();
    faer::linalg::triangular_solve::solve_lower_triangular_in_place(
        l,
        faer::MatMut::from_column_major_slice_mut(&mut b, d, 1),
        faer::Par::Seq,
    );
    let design = Array2::from_shape_fn((d, d), |(i, j)| l[(j, i)]);
    let mut fit = Iht {
        n_nonzero: Some(k),
        fit_intercept: false,
        ..Iht::default()
    }
    .fit((design.view(), Array1::from(b).view()))?;
    // Iht scales its objective by the d rows of the square-root design; report the users' scaling,
    // 1/(2n)‖y − Xθ‖².
    fit.objective = 0.5 * ne.residual_sq(fit.coef.as_slice().unwrap_or(&[]), 0) / ne.n_samples();
    Ok(fit)
}
