//! The spectral-mixture kernels against their definition — the inverse Fourier transform of the mixture
//! spectrum, integrated numerically — and their derivatives against finite differences.
use sparsimony_solvers::gp_pde::{Component, SpectralMixture, Spectrum};

const PI: f64 = std::f64::consts::PI;

fn components() -> Vec<Component> {
    vec![
        Component {
            weight: 1.0,
            mean: 0.0,
            scale: 0.4,
        },
        Component {
            weight: 0.6,
            mean: 3.0,
            scale: 0.7,
        },
        Component {
            weight: 0.3,
            mean: 11.5,
            scale: 1.3,
        },
    ]
}

/// ln Γ for the half-integers and integers the Student-t densities need (Γ(1/2) = √π, Γ(x+1) = xΓ(x)).
fn gamma(x: f64) -> f64 {
    if x == 0.5 {
        PI.sqrt()
    } else if x == 1.0 {
        1.0
    } else {
        (x - 1.0) * gamma(x - 1.0)
    }
}

/// The mixture's spectral density at frequency `s` (cycles per unit).
fn density(spectrum: Spectrum, comps: &[Component], s: f64) -> f64 {
    let p = |z: f64, c: &Component| -> f64 {
        let t = (z - c.mean) / c.scale;
        match spectrum {
            Spectrum::Gaussian => (-0.5 * t * t).exp() / ((2.0 * PI).sqrt() * c.scale),
            Spectrum::StudentT { dof } => {
                let d = dof as f64;
                gamma((d + 1.0) / 2.0) / ((d * PI).sqrt() * gamma(d / 2.0)) * (1.0 + t * t / d).powf(-(d + 1.0) / 2.0)
                    / c.scale
            }
        }
    };
    comps.iter().map(|c| c.weight * 0.5 * (p(s, c) + p(-s, c))).sum()
}

/// ∫ S(s) cos(2πsτ) ds over [−L, L] by composite Simpson with step h.
fn fourier(spectrum: Spectrum, comps: &[Component], tau: f64, l: f64, h: f64) -> f64 {
    let n = ((2.0 * l / h).ceil() as usize) & !1;
    let h = 2.0 * l / n as f64;
    let f = |s: f64| density(spectrum, comps, s) * (2.0 * PI * s * tau).cos();
    let mut sum = f(-l) + f(l);
    for i in 1..n {
        sum += if i % 2 == 1 { 4.0 } else { 2.0 } * f(-l + i as f64 * h);
    }
    sum * h / 3.0
}

#[test]
fn kernels_are_the_fourier_transforms_of_their_spectra() {
    // Truncation: Gaussian tails vanish by 40 scales; Student-t tails decay like s^-(dof+1).
    for (spectrum, l) in [
        (Spectrum::Gaussian, 40.0),
        (Spectrum::StudentT { dof: 5 }, 400.0),
        (Spectrum::StudentT { dof: 3 }, 4000.0),
    ] {
        let k = SpectralMixture::new(spectrum, components()).unwrap();
        for tau in [0.0, 0.13, 0.7, 1.9] {
            let numeric = fourier(spectrum, &components(), tau, l, 2e-3);
            let closed = k.value(tau);
            assert!(
                (numeric - closed).abs() < 2e-6 * k.value(0.0),
                "{spectrum:?} at τ = {tau}: closed form {closed}, Fourier integral {numeric}"
            );
        }
        // The total weight is the variance.
        assert!((k.value(0.0) - 1.9).abs() < 1e-12);
    }
}

#[test]
fn derivatives_match_finite_differences() {
    let h = 1e-5;
    for spectrum in [
        Spectrum::Gaussian,
        Spectrum::StudentT { dof: 5 },
        Spectrum::StudentT { dof: 3 },
    ] {
        let k = SpectralMixture::new(spectrum, components()).unwrap();
        for tau in [-0.83, -0.05, 0.31, 1.2] {
            for n in 1..=k.max_order() {
                let fd = (k.derivative(tau + h, n - 1).unwrap() - k.derivative(tau - h, n - 1).unwrap()) / (2.0 * h);
                let exact = k.derivative(tau, n).unwrap();
                let scale = k.derivative(0.0, n - n % 2).unwrap().abs().max(1.0);
                assert!(
                    (fd - exact).abs() < 1e-5 * scale,
                    "{spectrum:?} k^({n})({tau}) = {exact}, finite difference {fd}"
                );
            }
            assert_eq!(k.derivative(tau, 0).unwrap(), k.value(tau));
        }
        // ∂x ∂x' k(x − x') = −k''(x − x'): the covariance of a GP's derivative.
        let (x, y) = (0.4, -0.3);
        assert_eq!(
            k.cross_derivative(x, y, 1, 1).unwrap(),
            -k.derivative(x - y, 2).unwrap()
        );
        assert_eq!(k.cross_derivative(x, y, 2, 0).unwrap(), k.derivative(x - y, 2).unwrap());
        // The variance of u' is −k''(0) = Σ w (4π²σ²-ish) > 0.
        assert!(k.cross_derivative(0.2, 0.2, 1, 1).unwrap() > 0.0);
    }
}

#[test]
fn bad_kernels_are_refused() {
    assert!(SpectralMixture::new(Spectrum::Gaussian, vec![]).is_err());
    assert!(SpectralMixture::new(Spectrum::StudentT { dof: 4 }, components()).is_err());
    let negative = vec![Component {
        weight: -1.0,
        mean: 0.0,
        scale: 1.0,
    }];
    assert!(SpectralMixture::new(Spectrum::Gaussian, negative).is_err());
    let flat = vec![Component {
        weight: 1.0,
        mean: 0.0,
        scale: 0.0,
    }];
    assert!(SpectralMixture::new(Spectrum::Gaussian, flat).is_err());
    let m32 = SpectralMixture::new(Spectrum::StudentT { dof: 3 }, components()).unwrap();
    assert!(m32.derivative(0.1, 3).is_err(), "Matérn-3/2 has no third derivative");
}

/// The parameter gradient `[∂/∂ln w, ∂/∂μ, ∂/∂ln σ]` of every derivative order against central finite
/// differences in each parameter.
#[test]
fn parameter_gradients_match_finite_differences() {
    for spectrum in [
        Spectrum::Gaussian,
        Spectrum::StudentT { dof: 5 },
        Spectrum::StudentT { dof: 3 },
    ] {
        let k = SpectralMixture::new(spectrum, components()).unwrap();
        for n in 0..=k.max_order() {
            for tau in [-0.37, -0.05, 0.0, 0.11, 0.8] {
                if tau == 0.0 && n % 2 == 1 && matches!(spectrum, Spectrum::StudentT { .. }) {
                    continue; // the Matérn kernels' odd derivatives jump at 0
                }
                let grad = k.parameter_gradient(tau, n).unwrap();
                for (q, g) in grad.iter().enumerate() {
                    for (p, &analytic) in g.iter().enumerate() {
                        let h = 1e-6;
                        let perturbed = |delta: f64| {
                            let mut cs = components();
                            match p {
                                0 => cs[q].weight *= delta.exp(),
                                1 => cs[q].mean += delta,
                                _ => cs[q].scale *= delta.exp(),
                            }
                            SpectralMixture::new(spectrum, cs).unwrap().derivative(tau, n).unwrap()
                        };
                        let fd = (perturbed(h) - perturbed(-h)) / (2.0 * h);
                        let scale = k.derivative(0.0, n - n % 2).unwrap().abs().max(1.0);
                        assert!(
                            (fd - analytic).abs() < 1e-6 * scale,
                            "{spectrum:?} n = {n} τ = {tau} component {q} parameter {p}: {analytic} vs {fd}"
                        );
                    }
                }
            }
        }
    }
    assert!(
        SpectralMixture::new(Spectrum::StudentT { dof: 3 }, components())
            .unwrap()
            .parameter_gradient(0.1, 3)
            .is_err()
    );
}

/// Far from the origin every kernel and derivative tends to 0 (the envelope decays faster than any
/// polynomial grows); evaluated there, each must be 0 rather than the 0 · ∞ = NaN of an underflowed
/// envelope times an overflowed polynomial — a prediction far outside the domain once came back NaN.
#[test]
fn kernels_vanish_far_out_instead_of_turning_nan() {
    for spectrum in [
        Spectrum::Gaussian,
        Spectrum::StudentT { dof: 5 },
        Spectrum::StudentT { dof: 3 },
    ] {
        let k = SpectralMixture::new(spectrum, components()).unwrap();
        for tau in [1e3, 1e20, 1e155, -1e155, 1e300, -1e300, f64::MAX] {
            for n in 0..=k.max_order() {
                let v = k.derivative(tau, n).unwrap();
                assert!(v.is_finite() && v.abs() < 1e-100, "{spectrum:?} k^({n})({tau}) = {v}");
            }
            for g in k.parameter_gradient(tau, 0).unwrap() {
                assert!(g.iter().all(|x| x.is_finite()), "{spectrum:?} gradient at {tau}: {g:?}");
            }
        }
    }
}
