//! The model's whitened forms against independent references, on a coupled nonlinear system (steady
//! Navier–Stokes: products of fields and derivatives, first and second orders, mixed axes) on a small
//! non-square grid: the objective and its fields against the paper's grid-value form computed with formed
//! dense matrices (`⊗_d C_d⁻¹`, `⊗_d K_d⁽ᵐ⁾C_d⁻¹`, a dense Cholesky for `log|C|`); every gradient against
//! central finite differences; the Gauss–Newton product against the Hessian where the residual is
//! linear, and against its assembled matrix; the preconditioner against its definition.

use faer::{Mat, MatRef, Side};

use super::axis::AxisFactor;
use super::kernel::Spectrum;
use super::model::{Model, PER_COMPONENT};
use super::operator::Discretization;
use super::problem::Problem;
use super::solver::joint_evaluation;

/// A steady Navier–Stokes-like system whose momentum equations have coefficients that vary in space, on
/// a small non-square grid: the objective, gradients and Gauss–Newton products are checked on it.
const SYSTEM: &str = r#"
name = "fd-check"
fields = ["u", "v", "p"]
parameters = { re = 5 }
[[axis]]
name = "x"
lower = 0
upper = 1
points = 6
[[axis]]
name = "y"
lower = -0.5
upper = 0.7
points = 7
[[equation]]
operator = "u*u_x + v*u_y + p_x - (1 + x^2)*(u_xx + u_yy)/re + u_xy"
[[equation]]
operator = "u*v_x + v*v_y + exp(x*y)*p_y - (v_xx + v_yy)/re"
[[equation]]
operator = "u_x + v_y"
[exact]
u = "1 - exp(-x)*cos(3*y)"
v = "exp(-x)*sin(3*y)/3"
p = "x*y + 0.2"
"#;

/// The same system (with coefficients that vary in space) with linear momentum equations: the Gauss–Newton matrix is then the Hessian.
fn linear_system() -> String {
    SYSTEM
        .replace(
            "u*u_x + v*u_y + p_x - (1 + x^2)*(u_xx + u_yy)/re + u_xy",
            "p_x - (1 + x^2)*u_xx + u_xy",
        )
        .replace("u*v_x + v*v_y + exp(x*y)*p_y - (v_xx + v_yy)/re", "exp(x*y)*p_y - v_yy")
}

/// A reproducible, non-trivial point: grid values away from the solution, two components per axis.
fn setup(disc: &Discretization, spectrum: Spectrum) -> (Model<'_>, Vec<f64>, Vec<Vec<f64>>) {
    let model = Model::new(disc, spectrum, 2, 1e-6, 3.0).unwrap();
    let theta: Vec<f64> = (0..model.kernel_parameters())
        .map(|i| match i % PER_COMPONENT {
            0 => -0.3 - 0.1 * (i % 5) as f64,
            1 => 0.4 + 0.3 * (i % 7) as f64,
            _ => (0.5 + 0.1 * (i % 3) as f64).ln(),
        })
        .collect();
    let u: Vec<Vec<f64>> = (0..disc.fields)
        .map(|f| {
            (0..model.len())
                .map(|i| disc.boundary[f][i] + 0.3 * ((i * 7 + f * 3) as f64).sin())
                .collect()
        })
        .collect();
    (model, theta, u)
}

/// The formed Kronecker product, first factor slowest (row-major grid order).
fn kron_dense(factors: &[Mat<f64>]) -> Mat<f64> {
    factors.iter().fold(Mat::from_fn(1, 1, |_, _| 1.0), |acc, b| {
        let (rb, cb) = (b.nrows(), b.ncols());
        Mat::from_fn(acc.nrows() * rb, acc.ncols() * cb, |i, j| {
            acc[(i / rb, j / cb)] * b[(i % rb, j % cb)]
        })
    })
}

fn matvec(m: &Mat<f64>, x: &[f64]) -> Vec<f64> {
    let y = m * MatRef::from_column_major_slice(x, x.len(), 1);
    (0..y.nrows()).map(|i| y[(i, 0)]).collect()
}

/// What the dense grid-value form gives at `u`: `J`, the derivative fields and `C⁻¹u`.
struct DenseEvaluation {
    total: f64,
    fields: Vec<Vec<f64>>,
    prior: Vec<Vec<f64>>,
}

/// The paper's grid-value objective with every operator formed: derivatives `(⊗_d K_d⁽ᵐ⁾C_d⁻¹) u`,
/// prior `uᵀ(⊗_d C_d⁻¹)u`, `log|C|` from a dense Cholesky factorisation of `⊗_d C_d`. Written with indices,
/// as the formula reads.
#[allow(clippy::needless_range_loop)]
fn dense_evaluation(model: &Model<'_>, fac: &[Vec<AxisFactor>], u: &[Vec<f64>], lv: f64, lt: f64) -> DenseEvaluation {
    let n = model.len();
    let identity = |m: usize| Mat::<f64>::identity(m, m);
    let fields: Vec<Vec<f64>> = model
        .derivs
        .iter()
        .map(|g| {
            let per_axis: Vec<Mat<f64>> = fac[g.field]
                .iter()
                .zip(&g.orders)
                .map(|(a, &m)| {
                    if m == 0 {
                        identity(a.len())
                    } else {
                        a.deriv[m - 1].clone()
                    }
                })
                .collect();
            matvec(&kron_dense(&per_axis), &u[g.field])
        })
        .collect();
    let mut total = 0.0;
    let mut prior = Vec::new();
    for (f, axes) in fac.iter().enumerate() {
        let c_inv = kron_dense(&axes.iter().map(|a| a.c_inv.clone()).collect::<Vec<_>>());
        let c = kron_dense(&axes.iter().map(|a| a.kernel_matrix(0).to_owned()).collect::<Vec<_>>());
        let llt = c.as_ref().llt(Side::Lower).unwrap();
        let log_det: f64 = (0..n).map(|i| 2.0 * llt.L()[(i, i)].ln()).sum();
        let alpha = matvec(&c_inv, &u[f]);
        let quad: f64 = alpha.iter().zip(&u[f]).map(|(a, b)| a * b).sum();
        total += 0.5 * (quad + log_det);
        prior.push(alpha);
    }
    let (mut res_sq, mut n_res) = (0.0, 0.0);
    // The coefficients from the problem's expressions at the grid points (the model keeps them on the grid).
    for (e, terms) in model.terms.iter().enumerate() {
        for i in (0..n).filter(|&i| model.collocated[i]) {
            let x = model.disc.grid.point(i);
            let lhs: f64 = terms
                .iter()
                .zip(&model.disc.equations[e].terms)
                .map(|((_, idx), term)| term.coefficient.at(&x) * idx.iter().map(|&k| fields[k][i]).product::<f64>())
                .sum();
            res_sq += ((lhs - model.disc.sources[e][i]) / model.source_scale[e]).powi(2);
            n_res += 1.0;
        }
    }
    total += 0.5 * lv.exp() * res_sq - 0.5 * n_res * lv;
    let (mut bd_sq, mut n_bd) = (0.0, 0.0);
    for f in 0..model.disc.fields {
        for i in (0..n).filter(|&i| model.mask[i]) {
            bd_sq += ((u[f][i] - model.disc.boundary[f][i]) / model.boundary_scale[f]).powi(2);
            n_bd += 1.0;
        }
    }
    total += model.boundary_weight * (0.5 * lt.exp() * bd_sq - 0.5 * n_bd * lt);
    DenseEvaluation { total, fields, prior }
}

/// `J` at grid values `u`, through the model's whitened evaluation.
fn total(model: &Model<'_>, theta: &[f64], u: &[Vec<f64>], lv: f64, lt: f64) -> f64 {
    let fac = model.factors(theta).unwrap();
    let wh = model.whitening(&fac).unwrap();
    model
        .evaluate(&fac, &wh, &model.whiten(&wh, u), lv, lt)
        .0
        .objective
        .total
}

fn close(analytic: f64, numeric: f64, scale: f64, what: &str) {
    let err = (analytic - numeric).abs();
    assert!(
        err <= 1e-5 * scale + 1e-6 * numeric.abs(),
        "{what}: analytic {analytic:e}, finite difference {numeric:e}"
    );
}

fn compare(what: &str, a: &[Vec<f64>], b: &[Vec<f64>], tolerance: f64) {
    let scale = b.iter().flatten().fold(1.0f64, |m, x| m.max(x.abs()));
    for (x, y) in a.iter().flatten().zip(b.iter().flatten()) {
        assert!(
            (x - y).abs() <= tolerance * scale,
            "{what}: {x} against the reference's {y}"
        );
    }
}

fn direction(fields: usize, n: usize) -> Vec<Vec<f64>> {
    (0..fields)
        .map(|f| (0..n).map(|i| ((i * 3 + f) as f64).cos()).collect())
        .collect()
}

#[test]
fn the_whitened_evaluation_is_the_dense_grid_value_form() {
    // In exact arithmetic J(z) = J(u = W z) with the same derivative fields and C⁻¹u; the whitened form never
    // applies C⁻¹, so the two agree to the conditioning of C (jitter 1e-6 here).
    let disc = Problem::from_toml(SYSTEM).unwrap().discretize().unwrap();
    let (model, theta, u) = setup(&disc, Spectrum::StudentT { dof: 5 });
    let (lv, lt) = (0.2, 0.5);
    let fac = model.factors(&theta).unwrap();
    let wh = model.whitening(&fac).unwrap();
    let z = model.whiten(&wh, &u);
    compare("unwhiten(whiten(u))", &model.unwhiten(&wh, &z), &u, 1e-10);
    let (ev, uz) = model.evaluate(&fac, &wh, &z, lv, lt);
    let reference = dense_evaluation(&model, &fac, &u, lv, lt);
    assert!(
        (ev.objective.total - reference.total).abs() <= 1e-8 * reference.total.abs(),
        "objective: whitened {}, dense grid-value form {}",
        ev.objective.total,
        reference.total
    );
    compare("values", &uz, &u, 1e-10);
    compare("derivative fields", &ev.fields, &reference.fields, 1e-7);
    compare("C⁻¹u", ev.weights(), &reference.prior, 1e-7);
}

#[test]
fn kernel_and_precision_gradients_match_finite_differences() {
    let disc = Problem::from_toml(SYSTEM).unwrap().discretize().unwrap();
    for spectrum in [Spectrum::Gaussian, Spectrum::StudentT { dof: 5 }] {
        let (model, theta, u) = setup(&disc, spectrum);
        let (lv, lt) = (0.7, -0.4);
        let fac = model.factors(&theta).unwrap();
        let wh = model.whitening(&fac).unwrap();
        let (ev, _) = model.evaluate(&fac, &wh, &model.whiten(&wh, &u), lv, lt);
        let (grad, glv, glt) = model.gradient_theta(&fac, &ev, lv, lt).unwrap();
        let scale = grad.iter().fold(1.0f64, |m, g| m.max(g.abs()));
        let h = 1e-5;
        for i in 0..theta.len() {
            let (mut p, mut m) = (theta.clone(), theta.clone());
            p[i] += h;
            m[i] -= h;
            let fd = (total(&model, &p, &u, lv, lt) - total(&model, &m, &u, lv, lt)) / (2.0 * h);
            close(grad[i], fd, scale, &format!("{spectrum:?} ∂J/∂θ[{i}]"));
        }
        let fd_v = (total(&model, &theta, &u, lv + h, lt) - total(&model, &theta, &u, lv - h, lt)) / (2.0 * h);
        close(glv, fd_v, scale, "∂J/∂ln v");
        let fd_t = (total(&model, &theta, &u, lv, lt + h) - total(&model, &theta, &u, lv, lt - h)) / (2.0 * h);
        close(glt, fd_t, scale, "∂J/∂ln τ");
    }
}

#[test]
fn gradients_in_z_and_in_the_grid_values_match_finite_differences() {
    let disc = Problem::from_toml(SYSTEM).unwrap().discretize().unwrap();
    let (model, theta, u) = setup(&disc, Spectrum::StudentT { dof: 5 });
    let (lv, lt) = (0.2, 0.5);
    let fac = model.factors(&theta).unwrap();
    let wh = model.whitening(&fac).unwrap();
    let z = model.whiten(&wh, &u);
    let at_z = |z: &[Vec<f64>]| model.evaluate(&fac, &wh, z, lv, lt).0.objective.total;
    let (ev, current) = model.evaluate(&fac, &wh, &z, lv, lt);
    let gz = model.gradient(&wh, &ev, &current, &z, lv, lt);
    let scale = gz.iter().flatten().fold(1.0f64, |m, g| m.max(g.abs()));
    let h = 1e-6;
    for f in 0..disc.fields {
        for i in (0..model.len()).step_by(5) {
            let (mut p, mut m) = (z.clone(), z.clone());
            p[f][i] += h;
            m[f][i] -= h;
            close(
                gz[f][i],
                (at_z(&p) - at_z(&m)) / (2.0 * h),
                scale,
                &format!("∂J/∂z[{f}][{i}]"),
            );
        }
    }
    // The joint (paper's) method's gradient in u = W z, against differences of the dense grid-value form.
    let (_, gu) = joint_evaluation(&model, &fac, &u, lv, lt).unwrap();
    let scale = gu.iter().flatten().fold(1.0f64, |m, g| m.max(g.abs()));
    for f in 0..disc.fields {
        for i in (0..model.len()).step_by(5) {
            let (mut p, mut m) = (u.clone(), u.clone());
            p[f][i] += h;
            m[f][i] -= h;
            let fd = (dense_evaluation(&model, &fac, &p, lv, lt).total
                - dense_evaluation(&model, &fac, &m, lv, lt).total)
                / (2.0 * h);
            close(gu[f][i], fd, scale, &format!("∂J/∂u[{f}][{i}]"));
        }
    }
}

#[test]
fn gauss_newton_is_the_hessian_at_a_linear_residual_and_its_matrix_the_product() {
    // δᵀHδ = ‖δ‖² + v‖JWδ‖² + the boundary term: the second directional derivative of J in z without the
    // residual-curvature part, so at a linear residual the product is the Hessian's.
    let linear = linear_system();
    let disc = Problem::from_toml(&linear).unwrap().discretize().unwrap();
    let (model, theta, u) = setup(&disc, Spectrum::Gaussian);
    let (lv, lt) = (0.2, 0.5);
    let fac = model.factors(&theta).unwrap();
    let wh = model.whitening(&fac).unwrap();
    let z = model.whiten(&wh, &u);
    let (ev, _) = model.evaluate(&fac, &wh, &z, lv, lt);
    let delta = direction(disc.fields, model.len());
    let hd = model.gauss_newton(&wh, &ev, &delta, lv, lt);
    let gradient_at = |t: f64| {
        let shifted: Vec<Vec<f64>> = z
            .iter()
            .zip(&delta)
            .map(|(a, b)| a.iter().zip(b).map(|(x, y)| x + t * y).collect())
            .collect();
        let (ev, current) = model.evaluate(&fac, &wh, &shifted, lv, lt);
        model.gradient(&wh, &ev, &current, &shifted, lv, lt)
    };
    let h = 1e-3;
    let (gp, gm) = (gradient_at(h), gradient_at(-h));
    let fd: Vec<Vec<f64>> = gp
        .iter()
        .zip(&gm)
        .map(|(p, m)| p.iter().zip(m).map(|(a, b)| (a - b) / (2.0 * h)).collect())
        .collect();
    compare("H δ against the Hessian", &hd, &fd, 1e-7);

    // The assembled matrix, on the nonlinear system.
    let disc = Problem::from_toml(SYSTEM).unwrap().discretize().unwrap();
    let (model, theta, u) = setup(&disc, Spectrum::StudentT { dof: 5 });
    let fac = model.factors(&theta).unwrap();
    let wh = model.whitening(&fac).unwrap();
    let (ev, _) = model.evaluate(&fac, &wh, &model.whiten(&wh, &u), lv, lt);
    let hz = model.gauss_newton(&wh, &ev, &delta, lv, lt);
    let h = model.gauss_newton_matrix(&wh, &ev, lv, lt);
    let n = model.len();
    let flat: Vec<f64> = delta.iter().flatten().copied().collect();
    let assembled: Vec<Vec<f64>> = (0..disc.fields)
        .map(|f| matvec(&h, &flat)[f * n..(f + 1) * n].to_vec())
        .collect();
    compare("assembled Gauss–Newton matrix", &assembled, &hz, 1e-10);
}

#[test]
fn preconditioner_inverts_its_diagonal_plus_face_terms() {
    // P = D + U Uᵀ applied to P⁻¹ r (Woodbury) gives r back.
    let disc = Problem::from_toml(SYSTEM).unwrap().discretize().unwrap();
    let (model, theta, u) = setup(&disc, Spectrum::StudentT { dof: 5 });
    let (lv, lt) = (2.0, 8.0);
    let fac = model.factors(&theta).unwrap();
    let wh = model.whitening(&fac).unwrap();
    let (ev, _) = model.evaluate(&fac, &wh, &model.whiten(&wh, &u), lv, lt);
    let pre = model.preconditioner(&wh, &ev, lv, lt).unwrap();
    let r: Vec<Vec<f64>> = (0..disc.fields)
        .map(|f| (0..model.len()).map(|i| ((i * 5 + f * 11) as f64).sin()).collect())
        .collect();
    let y = pre.apply(&r);
    for f in 0..disc.fields {
        let ft = pre.faces[f]
            .as_ref()
            .expect("the face terms are kept exact on a small grid");
        let w = ft.project(&y[f]);
        for i in 0..model.len() {
            let low_rank: f64 = ft.entries.iter().map(|(values, cols)| values[i] * w[cols[i]]).sum();
            let py = pre.diagonals[f][i] * y[f][i] + low_rank;
            assert!((py - r[f][i]).abs() <= 1e-9, "P P⁻¹ r = {py}, r = {}", r[f][i]);
        }
    }
}
