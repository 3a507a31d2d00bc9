//! The exact solutions of the suite's classes, as expressions of the axes: today's mixed terms
//! ([`mixed`]) and one generator per class of [`super::Class`]. Every draw reads only the random
//! stream it is given, so a seed fixes the problem.

use std::f64::consts::{PI, TAU};

use rand_chacha::ChaCha8Rng;
use rand_core::RngCore;

/// Uniform in `[lo, hi)`.
pub(super) fn uniform(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

/// Log-uniform in `[lo, hi)`.
pub(super) fn log_uniform(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    lo * (hi / lo).powf(uniform(rng, 0.0, 1.0))
}

/// A number as the expression language reads it, to 4 significant digits (the problem is defined by the
/// text, so rounding here changes nothing downstream).
pub(super) fn num(v: f64) -> String {
    let s = format!("{v:.4}");
    if v < 0.0 { format!("({s})") } else { s }
}

/// A random sign times a magnitude in `[0.5, 2)`.
fn amplitude(rng: &mut ChaCha8Rng) -> f64 {
    let a = uniform(rng, 0.5, 2.0);
    if rng.next_u64() & 1 == 0 { a } else { -a }
}

/// Every exponent vector over `dims` variables of total degree at most `max`, in lexicographic order.
fn exponents(dims: usize, max: u32) -> Vec<Vec<u32>> {
    if dims == 0 {
        return vec![Vec::new()];
    }
    (0..=max)
        .flat_map(|i| {
            exponents(dims - 1, max - i).into_iter().map(move |mut rest| {
                rest.insert(0, i);
                rest
            })
        })
        .collect()
}

/// A random unit vector in `dims` dimensions, its components as numbers of the expression language.
fn direction(rng: &mut ChaCha8Rng, dims: usize) -> Vec<f64> {
    loop {
        let n: Vec<f64> = (0..dims).map(|_| uniform(rng, -1.0, 1.0)).collect();
        let norm = n.iter().map(|c| c * c).sum::<f64>().sqrt();
        if (0.2..=1.0).contains(&norm) {
            return n.iter().map(|c| c / norm).collect();
        }
    }
}

/// `n·x` as an expression (`v` the variables).
fn dot(n: &[f64], v: &[&str]) -> String {
    n.iter()
        .zip(v)
        .map(|(c, x)| format!("{}*{x}", num(*c)))
        .collect::<Vec<_>>()
        .join(" + ")
}

/// A radial bump around a random centre.
fn bump(rng: &mut ChaCha8Rng, v: &[&str], width: (f64, f64)) -> String {
    let amp = amplitude(rng);
    let s = uniform(rng, width.0, width.1);
    let r2 = v
        .iter()
        .map(|x| format!("({x} - {})^2", num(uniform(rng, 0.2, 0.8))))
        .collect::<Vec<_>>()
        .join(" + ");
    format!("{}*exp(-({r2})/{})", num(amp), num(2.0 * s * s))
}

/// One random term of today's suite in the variables `v`, its waves at most `top` rad per unit
/// (60 in 1D and 2D): its expression and kind.
pub(super) fn mixed_term(rng: &mut ChaCha8Rng, v: &[&str], top: f64) -> (String, &'static str) {
    let amp = amplitude(rng);
    let kinds: u64 = if v.len() == 1 { 5 } else { 7 };
    let kind = rng.next_u64() % kinds;
    mixed_term_of_kind(rng, v, top, amp, kind)
}

/// Today's term of `kind` (0 to 6; 5 and 6 only with two axes or more) at amplitude `amp`.
fn mixed_term_of_kind(rng: &mut ChaCha8Rng, v: &[&str], top: f64, amp: f64, kind: u64) -> (String, &'static str) {
    let phase = |rng: &mut ChaCha8Rng| uniform(rng, 0.0, TAU);
    // One high-frequency wave per axis, joined by `op` (a product or a sum).
    let waves = |rng: &mut ChaCha8Rng, op: &str| {
        v.iter()
            .map(|x| format!("sin({}*{x} + {})", num(uniform(rng, top / 6.0, top)), num(phase(rng))))
            .collect::<Vec<_>>()
            .join(op)
    };
    match kind {
        0 => {
            // Separable high-frequency wave (a product of waves along the axes).
            (format!("{}*{}", num(amp), waves(rng, "*")), "high-frequency wave")
        }
        1 => {
            let s = uniform(rng, 0.1, 0.4);
            let r2 = v
                .iter()
                .map(|x| format!("({x} - {})^2", num(uniform(rng, 0.2, 0.8))))
                .collect::<Vec<_>>()
                .join(" + ");
            (format!("{}*exp(-({r2})/{})", num(amp), num(2.0 * s * s)), "radial bump")
        }
        2 => {
            // Exponential: separable in 1D; of the product of the axes otherwise.
            let b = uniform(rng, -2.0, 2.0);
            let arg = v.join("*");
            (format!("{}*exp({}*{arg})", num(amp), num(b)), "exponential")
        }
        3 => {
            // Polynomial of total degree ≤ 3.
            let mut parts = Vec::new();
            for m in exponents(v.len(), 3).into_iter().filter(|m| m.iter().sum::<u32>() > 0) {
                if rng.next_u64().is_multiple_of(2) {
                    continue;
                }
                let factors: Vec<String> = v
                    .iter()
                    .zip(&m)
                    .filter(|(_, p)| **p > 0)
                    .map(|(x, p)| if *p == 1 { x.to_string() } else { format!("{x}^{p}") })
                    .collect();
                parts.push(format!("{}*{}", num(uniform(rng, -2.0, 2.0)), factors.join("*")));
            }
            if parts.is_empty() {
                parts.push(format!("{}*{}", num(amp), v.join("*")));
            }
            (format!("({})", parts.join(" + ")), "polynomial")
        }
        4 => {
            // Smooth wave: along the axis in 1D, of the axes' sum (a plane wave oblique to the grid)
            // otherwise.
            let b = uniform(rng, 1.0, 8.0);
            let arg = v.join(" + ");
            (
                format!("{}*sin({}*({arg}) + {})", num(amp), num(b), num(phase(rng))),
                "smooth wave",
            )
        }
        5 => {
            // Smooth wave of the axes' product.
            let b = uniform(rng, 1.0, 6.0);
            (
                format!("{}*sin({}*{} + {})", num(amp), num(b), v.join("*"), num(phase(rng))),
                "wave of x·y",
            )
        }
        _ => {
            // Sum of separable high-frequency waves, one per axis.
            (
                format!("{}*({})", num(amp), waves(rng, " + ")),
                "sum of high-frequency waves",
            )
        }
    }
}

/// Today's solutions: one to three [`mixed_term`]s.
pub(super) fn mixed(rng: &mut ChaCha8Rng, v: &[&str], top: f64) -> (String, Vec<&'static str>) {
    let n = 1 + (rng.next_u64() % 3) as usize;
    let (terms, kinds): (Vec<String>, Vec<&'static str>) = (0..n).map(|_| mixed_term(rng, v, top)).unzip();
    (terms.join(" + "), kinds)
}

/// A solution and the kinds of its terms.
pub(super) type Drawn = (String, Vec<&'static str>);

/// With probability ½, a smooth term beside `main` (a bump, an exponential, a polynomial or a smooth
/// wave of today's suite).
fn with_smooth(rng: &mut ChaCha8Rng, v: &[&str], main: String, kind: &'static str) -> Drawn {
    if rng.next_u64() & 1 == 0 {
        return (main, vec![kind]);
    }
    // Today's kinds 1–4 are the smooth ones in every dimension (the waves are below 8 rad per unit).
    let amp = amplitude(rng);
    let which = 1 + rng.next_u64() % 4;
    let (smooth, smooth_kind) = mixed_term_of_kind(rng, v, 0.0, amp, which);
    (format!("{main} + {smooth}"), vec![kind, smooth_kind])
}

/// Waves of `top/2` to `top` rad per unit along every axis, as a product or a sum, perhaps beside a
/// smooth term.
pub(super) fn high_frequency(rng: &mut ChaCha8Rng, v: &[&str], top: f64) -> Drawn {
    let amp = amplitude(rng);
    let op = if rng.next_u64() & 1 == 0 { "*" } else { " + " };
    let waves: Vec<String> = v
        .iter()
        .map(|x| {
            format!(
                "sin({}*{x} + {})",
                num(uniform(rng, top / 2.0, top)),
                num(uniform(rng, 0.0, TAU))
            )
        })
        .collect();
    with_smooth(
        rng,
        v,
        format!("{}*({})", num(amp), waves.join(op)),
        "waves above top/2",
    )
}

/// A separable wave (`top/6` to `5top/6` rad per unit per axis) under an envelope: damped, growing or
/// Gaussian.
pub(super) fn envelope(rng: &mut ChaCha8Rng, v: &[&str], top: f64) -> Drawn {
    let amp = amplitude(rng);
    let wave: Vec<String> = v
        .iter()
        .map(|x| {
            format!(
                "sin({}*{x} + {})",
                num(uniform(rng, top / 6.0, 5.0 * top / 6.0)),
                num(uniform(rng, 0.0, TAU))
            )
        })
        .collect();
    let (env, kind) = match rng.next_u64() % 3 {
        0 => {
            let rate: Vec<String> = v
                .iter()
                .map(|x| format!("{}*{x}", num(uniform(rng, 1.0, 5.0))))
                .collect();
            (format!("exp(-({}))", rate.join(" + ")), "damped wave")
        }
        1 => {
            let rate: Vec<String> = v
                .iter()
                .map(|x| format!("{}*{x}", num(uniform(rng, 1.0, 3.0))))
                .collect();
            (format!("exp({})", rate.join(" + ")), "growing wave")
        }
        _ => {
            let s = uniform(rng, 0.1, 0.25) * v.len() as f64;
            let r2: Vec<String> = v
                .iter()
                .map(|x| format!("({x} - {})^2", num(uniform(rng, 0.3, 0.7))))
                .collect();
            (
                format!("exp(-({})/{})", r2.join(" + "), num(2.0 * s * s)),
                "Gaussian-modulated wave",
            )
        }
    };
    (format!("{}*{env}*{}", num(amp), wave.join("*")), vec![kind])
}

/// A chirp `sin(a·|x|² + φ)`, its local frequency `2a·x` up to `top` rad per unit along each axis,
/// perhaps beside a smooth term.
pub(super) fn chirp(rng: &mut ChaCha8Rng, v: &[&str], top: f64) -> Drawn {
    let amp = amplitude(rng);
    let a = uniform(rng, top / 12.0, top / 2.0);
    let r2: Vec<String> = v.iter().map(|x| format!("{x}^2")).collect();
    let main = format!(
        "{}*sin({}*({}) + {})",
        num(amp),
        num(a),
        r2.join(" + "),
        num(uniform(rng, 0.0, TAU))
    );
    with_smooth(rng, v, main, "chirp")
}

/// An interior layer `tanh(s/w)` across a random line (plane) near the middle of the domain, of width
/// `w` in `[top/4000, top/1200]` (0.03 to 0.1 at `top` = 120), perhaps beside a smooth term.
pub(super) fn layer(rng: &mut ChaCha8Rng, v: &[&str], top: f64) -> Drawn {
    let amp = amplitude(rng);
    let n = direction(rng, v.len());
    let centred: Vec<String> = v.iter().map(|x| format!("({x} - 0.5)")).collect();
    let s = format!(
        "{} - {}",
        dot(&n, &centred.iter().map(String::as_str).collect::<Vec<_>>()),
        num(uniform(rng, -0.2, 0.2))
    );
    let w = 120.0 / top * uniform(rng, 0.03, 0.1);
    with_smooth(rng, v, format!("{}*tanh(({s})/{})", num(amp), num(w)), "interior layer")
}

/// A plane wave `sin(k·(n·x) + φ)` in a random direction `n`, `k` in `[top/6, top]`, beside a radial
/// bump.
pub(super) fn oblique(rng: &mut ChaCha8Rng, v: &[&str], top: f64) -> Drawn {
    let amp = amplitude(rng);
    let k = uniform(rng, top / 6.0, top);
    let n: Vec<f64> = direction(rng, v.len()).iter().map(|c| k * c).collect();
    let wave = format!("{}*sin({} + {})", num(amp), dot(&n, v), num(uniform(rng, 0.0, TAU)));
    let bump = bump(rng, v, (0.1, 0.3));
    (format!("{wave} + {bump}"), vec!["oblique wave", "radial bump"])
}

/// Two modes travelling at `velocity` and decaying at `ν|k|²`, the solutions of `u_t + b·∇u = νΔu`
/// (`v[0]` is time): `Σ a·exp(−ν|k|²t)·sin(k·(x − b t) + φ)`. `velocity` and `nu` are expressions (the
/// equation's parameter names, so that the solution is exact for the equation as written); `nu_value` is
/// ν's value, which bounds the wave numbers (at most `top` rad per unit and `ν|k|² ≤ 4`).
pub(super) fn decaying_modes(rng: &mut ChaCha8Rng, v: &[&str], top: f64, velocity: &[&str], nu: (&str, f64)) -> Drawn {
    let (t, space) = (v[0], &v[1..]);
    let k_max = top.min((4.0 / nu.1).sqrt());
    let modes: Vec<String> = (0..2)
        .map(|_| {
            let amp = amplitude(rng);
            let k: Vec<f64> = direction(rng, space.len())
                .iter()
                .map(|c| c * uniform(rng, k_max / 6.0, k_max))
                .collect();
            let k2: Vec<String> = k.iter().map(|c| format!("{}^2", num(*c))).collect();
            let moved: Vec<String> = space
                .iter()
                .zip(velocity)
                .map(|(x, b)| format!("({x} - {b}*{t})"))
                .collect();
            format!(
                "{}*exp(-{}*({})*{t})*sin({} + {})",
                num(amp),
                nu.0,
                k2.join(" + "),
                dot(&k, &moved.iter().map(String::as_str).collect::<Vec<_>>()),
                num(uniform(rng, 0.0, TAU))
            )
        })
        .collect();
    (modes.join(" + "), vec!["decaying travelling modes"])
}

/// The squared wave numbers `k²` of `Δu + k²u` on `[0, 1]^dims` with Dirichlet data (`π²|n|²`, `n` a
/// vector of positive integers) on either side of `k0²`: the largest at most `k0²` and the smallest above.
pub(super) fn dirichlet_neighbours(dims: usize, k0: f64) -> (f64, f64) {
    let target = k0 * k0 / (PI * PI);
    let n_max = target.sqrt().ceil() as u64 + 2;
    let mut below = 0f64;
    let mut above = f64::INFINITY;
    let mut visit = |s: u64| {
        let s = s as f64;
        if s <= target {
            below = below.max(s);
        } else {
            above = above.min(s);
        }
    };
    match dims {
        1 => (1..=n_max).for_each(|a| visit(a * a)),
        2 => (1..=n_max).for_each(|a| (1..=n_max).for_each(|b| visit(a * a + b * b))),
        _ => (1..=n_max).for_each(|a| (1..=n_max).for_each(|b| (1..=n_max).for_each(|c| visit(a * a + b * b + c * c)))),
    }
    (below * PI * PI, above * PI * PI)
}
