//! The built-in problems: the benchmarks of Fang et al. (ICLR 2024) and the classical problems beside
//! them, each a TOML description in `benchmarks/` (the format of [`Problem::from_toml`]).

use super::problem::Problem;
use crate::{Error, Result};

/// The benchmarks of Fang et al. (Table 2 of arXiv 2311.04465, as run in the authors' code): name, TOML.
const BENCHMARKS: &[(&str, &str)] = &[
    (
        "poisson_1d-single_sin",
        include_str!("benchmarks/poisson_1d-single_sin.toml"),
    ),
    ("poisson_1d-sin_cos", include_str!("benchmarks/poisson_1d-sin_cos.toml")),
    ("poisson_1d-mix_sin", include_str!("benchmarks/poisson_1d-mix_sin.toml")),
    (
        "poisson_1d-x_time_sinx",
        include_str!("benchmarks/poisson_1d-x_time_sinx.toml"),
    ),
    (
        "poisson_1d-x2_add_sinx",
        include_str!("benchmarks/poisson_1d-x2_add_sinx.toml"),
    ),
    (
        "allencahn_1d-single_sin",
        include_str!("benchmarks/allencahn_1d-single_sin.toml"),
    ),
    (
        "allencahn_1d-sin_cos",
        include_str!("benchmarks/allencahn_1d-sin_cos.toml"),
    ),
    ("poisson_2d-sin_sin", include_str!("benchmarks/poisson_2d-sin_sin.toml")),
    (
        "poisson_2d-sin_add_cos",
        include_str!("benchmarks/poisson_2d-sin_add_cos.toml"),
    ),
    (
        "allencahn_2d-mix-sincos",
        include_str!("benchmarks/allencahn_2d-mix-sincos.toml"),
    ),
    ("advection-sin", include_str!("benchmarks/advection-sin.toml")),
    ("helmholtz_2d", include_str!("benchmarks/helmholtz_2d.toml")),
    ("heat_1d", include_str!("benchmarks/heat_1d.toml")),
    ("burgers_1d", include_str!("benchmarks/burgers_1d.toml")),
    ("kovasznay", include_str!("benchmarks/kovasznay.toml")),
    ("taylor_green", include_str!("benchmarks/taylor_green.toml")),
];

impl Problem {
    /// The names of the built-in problems: the paper's eleven benchmarks, then Helmholtz, heat, viscous
    /// Burgers and Kovasznay flow.
    pub fn benchmark_names() -> Vec<&'static str> {
        BENCHMARKS.iter().map(|(n, _)| *n).collect()
    }

    /// A built-in problem by name.
    ///
    /// # Errors
    /// [`Error::Problem`] for an unknown name (the message lists the known ones).
    pub fn benchmark(name: &str) -> Result<Self> {
        Self::from_toml(Self::benchmark_toml(name)?)
    }

    /// The TOML text of a built-in problem by name: a starting point for a problem of one's own.
    ///
    /// # Errors
    /// [`Error::Problem`] for an unknown name (the message lists the known ones).
    pub fn benchmark_toml(name: &str) -> Result<&'static str> {
        BENCHMARKS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| *text)
            .ok_or_else(|| {
                Error::problem(format!(
                    "no benchmark named `{name}`; known: {}",
                    Self::benchmark_names().join(", ")
                ))
            })
    }
}
