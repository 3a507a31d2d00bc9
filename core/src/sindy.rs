//! Evaluation of fitted SINDy models with no allocation: the right-hand side `ẋ = Ξ θ(x, u)` of a sparse
//! model over a library of candidate terms, for a control loop on a microcontroller.
//!
//! A model is a list of **terms**, each a product of **factors** ([`Factor`]: a power, sine or cosine of one
//! input), and a sparse coefficient matrix `Ξ` (one row per output, compressed by rows). Inputs are the
//! states followed by the control inputs, `[x₀, …, x_{n−1}, u₀, …, u_{c−1}]`. The model borrows every array,
//! so it can live in flash as `static` data; `sparsimony-solvers` fits models and exports them in this form
//! (as data or as Rust source).
//!
//! ```
//! use sparsimony_core::sindy::{Factor, SindyModel};
//! // ẋ = −2x + 0.5 x²: terms x and x², one output row.
//! let factors = [Factor::Power { input: 0, exponent: 1 }, Factor::Power { input: 0, exponent: 2 }];
//! let term_ptr = [0, 1, 2];
//! let (coef_ptr, coef_term, coef_value) = ([0, 2], [0, 1], [-2.0, 0.5]);
//! let model = SindyModel::new(1, 0, &factors, &term_ptr, &coef_ptr, &coef_term, &coef_value).unwrap();
//! let mut dx = [0.0];
//! model.rhs(&[2.0], &[], &mut dx).unwrap();
//! assert_eq!(dx[0], -2.0);
//! ```

use crate::Real;
use crate::error::{Error, Result, check_finite, check_len};
use crate::ode::{Dopri5, Dopri5State, rk4_step};

/// One factor of a library term: a function of a single input.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Factor<T> {
    /// `x_input ^ exponent` (integer power by repeated multiplication; exponent 0 is the constant 1).
    Power {
        /// Index into the inputs (states, then controls).
        input: usize,
        /// The exponent.
        exponent: u32,
    },
    /// `sin(frequency · x_input)`.
    Sin {
        /// Index into the inputs.
        input: usize,
        /// Angular frequency, in radians per unit of the input.
        frequency: T,
    },
    /// `cos(frequency · x_input)`.
    Cos {
        /// Index into the inputs.
        input: usize,
        /// Angular frequency, in radians per unit of the input.
        frequency: T,
    },
}

impl<T: Real> Factor<T> {
    /// The input this factor reads.
    pub fn input(&self) -> usize {
        match *self {
            Factor::Power { input, .. } | Factor::Sin { input, .. } | Factor::Cos { input, .. } => input,
        }
    }

    /// The factor's value at `v = x_input`.
    #[inline]
    pub fn eval(&self, v: T) -> T {
        match *self {
            Factor::Power { exponent, .. } => {
                let mut p = T::one();
                for _ in 0..exponent {
                    p = p * v;
                }
                p
            }
            Factor::Sin { frequency, .. } => (frequency * v).sin(),
            Factor::Cos { frequency, .. } => (frequency * v).cos(),
        }
    }

    /// The same factor in another precision (a model fitted in `f64`, flown in `f32`).
    pub fn cast<U: Real>(self) -> Factor<U> {
        match self {
            Factor::Power { input, exponent } => Factor::Power { input, exponent },
            Factor::Sin { input, frequency } => Factor::Sin {
                input,
                frequency: U::lit(frequency.to_f64_lossless()),
            },
            Factor::Cos { input, frequency } => Factor::Cos {
                input,
                frequency: U::lit(frequency.to_f64_lossless()),
            },
        }
    }

    /// The factor's derivative with respect to its input, at `v = x_input`.
    #[inline]
    pub fn derivative(&self, v: T) -> T {
        match *self {
            Factor::Power { exponent: 0, .. } => T::zero(),
            Factor::Power { exponent, .. } => {
                let mut p = T::lit(f64::from(exponent));
                for _ in 1..exponent {
                    p = p * v;
                }
                p
            }
            Factor::Sin { frequency, .. } => frequency * (frequency * v).cos(),
            Factor::Cos { frequency, .. } => -(frequency * (frequency * v).sin()),
        }
    }
}

/// A fitted SINDy model `y = Ξ θ(x, u)`, borrowing its arrays.
///
/// * `factors[term_ptr[k]..term_ptr[k+1]]` are the factors of term `k` (an empty product is the constant 1);
/// * row `i` of `Ξ` holds `coef_value[p]` at term `coef_term[p]` for `p` in `coef_ptr[i]..coef_ptr[i+1]`.
///
/// The output `y` is `ẋ` for a continuous-time model and `x[k+1]` for a discrete-time one.
#[derive(Debug, Clone, Copy)]
pub struct SindyModel<'a, T> {
    n_states: usize,
    n_controls: usize,
    factors: &'a [Factor<T>],
    term_ptr: &'a [usize],
    coef_ptr: &'a [usize],
    coef_term: &'a [usize],
    coef_value: &'a [T],
}

impl<'a, T: Real> SindyModel<'a, T> {
    /// Checks and wraps a model with `n_states` outputs and `n_states + n_controls` inputs.
    ///
    /// # Errors
    /// [`Error::InvalidSparseStructure`] when a pointer array is not non-decreasing from 0 to the length it
    /// indexes, or a term or input index is out of range; [`Error::DimensionMismatch`] when `coef_ptr` does
    /// not have `n_states + 1` entries or `coef_term` and `coef_value` differ in length;
    /// [`Error::NonFinite`] for a non-finite coefficient or frequency.
    pub fn new(
        n_states: usize,
        n_controls: usize,
        factors: &'a [Factor<T>],
        term_ptr: &'a [usize],
        coef_ptr: &'a [usize],
        coef_term: &'a [usize],
        coef_value: &'a [T],
    ) -> Result<Self> {
        check_pointers("term_ptr", term_ptr, factors.len())?;
        check_len("coef_ptr (states + 1)", n_states + 1, coef_ptr.len())?;
        check_len("coef_value (as coef_term)", coef_term.len(), coef_value.len())?;
        check_pointers("coef_ptr", coef_ptr, coef_term.len())?;
        let n_terms = term_ptr.len() - 1;
        if let Some(position) = coef_term.iter().position(|&k| k >= n_terms) {
            return Err(Error::InvalidSparseStructure {
                reason: "coefficient term index out of range",
                position,
            });
        }
        let n_inputs = n_states + n_controls;
        for (position, f) in factors.iter().enumerate() {
            if f.input() >= n_inputs {
                return Err(Error::InvalidSparseStructure {
                    reason: "factor input index out of range",
                    position,
                });
            }
            if let Factor::Sin { frequency, .. } | Factor::Cos { frequency, .. } = *f
                && !frequency.is_finite()
            {
                return Err(Error::NonFinite {
                    what: "factor frequency",
                    index: position,
                });
            }
        }
        check_finite("SINDy coefficients", coef_value)?;
        Ok(Self {
            n_states,
            n_controls,
            factors,
            term_ptr,
            coef_ptr,
            coef_term,
            coef_value,
        })
    }

    /// Number of states (outputs).
    pub fn n_states(&self) -> usize {
        self.n_states
    }

    /// Number of control inputs.
    pub fn n_controls(&self) -> usize {
        self.n_controls
    }

    /// The model in another precision (fitted in `f64`, flown in `f32`), its factors and coefficients
    /// rounded into the caller's buffers (`factors`: [`SindyModel::n_factors`] long, `coef_value`:
    /// [`SindyModel::n_nonzero`] long); the index arrays are shared.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] for buffers of other lengths; [`Error::NonFinite`] for a coefficient
    /// or frequency beyond the new precision's range.
    pub fn cast<'b, U: Real>(&self, factors: &'b mut [Factor<U>], coef_value: &'b mut [U]) -> Result<SindyModel<'b, U>>
    where
        'a: 'b,
    {
        check_len("factors (the model's)", self.factors.len(), factors.len())?;
        check_len("coef_value (the model's)", self.coef_value.len(), coef_value.len())?;
        factors
            .iter_mut()
            .zip(self.factors)
            .for_each(|(to, from)| *to = from.cast());
        let lit = |v: T| U::lit(v.to_f64_lossless());
        coef_value
            .iter_mut()
            .zip(self.coef_value)
            .for_each(|(to, &from)| *to = lit(from));
        SindyModel::new(
            self.n_states,
            self.n_controls,
            factors,
            self.term_ptr,
            self.coef_ptr,
            self.coef_term,
            coef_value,
        )
    }

    /// Number of factors over all terms.
    pub fn n_factors(&self) -> usize {
        self.factors.len()
    }

    /// Number of library terms.
    pub fn n_terms(&self) -> usize {
        self.term_ptr.len() - 1
    }

    /// Number of nonzero coefficients.
    pub fn n_nonzero(&self) -> usize {
        self.coef_value.len()
    }

    /// Term `k` evaluated at `inputs` (states then controls). `k` and the length of `inputs` are not checked.
    #[inline]
    fn term_unchecked(&self, k: usize, inputs_x: &[T], inputs_u: &[T]) -> T {
        let mut p = T::one();
        for f in &self.factors[self.term_ptr[k]..self.term_ptr[k + 1]] {
            let i = f.input();
            let v = if i < self.n_states {
                inputs_x[i]
            } else {
                inputs_u[i - self.n_states]
            };
            p = p * f.eval(v);
        }
        p
    }

    /// `out = Ξ θ(x, u)`: `ẋ` for a continuous-time model, `x[k+1]` for a discrete-time one.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] when `x`, `u` or `out` has the wrong length.
    pub fn rhs(&self, x: &[T], u: &[T], out: &mut [T]) -> Result<()> {
        check_len("x (states)", self.n_states, x.len())?;
        check_len("u (controls)", self.n_controls, u.len())?;
        check_len("out (states)", self.n_states, out.len())?;
        for (i, o) in out.iter_mut().enumerate() {
            let mut acc = T::zero();
            for p in self.coef_ptr[i]..self.coef_ptr[i + 1] {
                acc = self.coef_value[p] * self.term_unchecked(self.coef_term[p], x, u) + acc;
            }
            *o = acc;
        }
        Ok(())
    }

    /// The Jacobians of the right-hand side at `(x, u)`, exact (the product rule over each term's factors):
    /// `jx[i + n·j] = ∂out_i/∂x_j` (n × n, column-major) and `ju[i + n·j] = ∂out_i/∂u_j` (n × c,
    /// column-major), `n` states and `c` controls.
    ///
    /// # Errors
    /// [`Error::DimensionMismatch`] when a slice has the wrong length; [`Error::NonFinite`] when an entry
    /// overflows (`jx` first, then `ju`, by linear index).
    pub fn jacobian(&self, x: &[T], u: &[T], jx: &mut [T], ju: &mut [T]) -> Result<()> {
        let n = self.n_states;
        check_len("x (states)", n, x.len())?;
        check_len("u (controls)", self.n_controls, u.len())?;
        check_len("jx (states²)", n * n, jx.len())?;
        check_len("ju (states × controls)", n * self.n_controls, ju.len())?;
        jx.fill(T::zero());
        ju.fill(T::zero());
        let value = |i: usize| if i < n { x[i] } else { u[i - n] };
        for i in 0..n {
            for p in self.coef_ptr[i]..self.coef_ptr[i + 1] {
                let k = self.coef_term[p];
                let factors = &self.factors[self.term_ptr[k]..self.term_ptr[k + 1]];
                for (a, fa) in factors.iter().enumerate() {
                    let mut d = self.coef_value[p] * fa.derivative(value(fa.input()));
                    if d == T::zero() {
                        continue;
                    }
                    for (b, fb) in factors.iter().enumerate() {
                        if b != a {
                            d = d * fb.eval(value(fb.input()));
                        }
                    }
                    let j = fa.input();
                    let slot = if j < n {
                        &mut jx[i + n * j]
                    } else {
                        &mut ju[i + n * (j - n)]
                    };
                    *slot = *slot + d;
                }
            }
        }
        check_finite("SINDy Jacobian ∂f/∂x", jx)?;
        check_finite("SINDy Jacobian ∂f/∂u", ju)
    }

    /// One classical RK4 step of size `h` of a continuous-time model, with the control held at `u` over the
    /// step. `scratch` needs [`crate::ode::rk4_scratch_len`]`(n_states)` elements.
    ///
    /// # Errors
    /// As [`rk4_step`] and [`SindyModel::rhs`].
    pub fn rk4_step(&self, h: T, x: &mut [T], u: &[T], scratch: &mut [T]) -> Result<()> {
        check_len("u (controls)", self.n_controls, u.len())?;
        rk4_step(
            &mut |_t, y: &[T], d: &mut [T]| self.rhs(y, u, d),
            T::zero(),
            h,
            x,
            scratch,
        )
    }

    /// Integrates a continuous-time model from time `t0` to `t1` with the adaptive Dormand–Prince method,
    /// the control given as a function of time by `control(t, u)`. `scratch` needs
    /// [`crate::ode::dopri5_scratch_len`]`(n_states)` elements plus `n_controls` more.
    ///
    /// # Errors
    /// As [`Dopri5::integrate`] and [`SindyModel::rhs`].
    #[allow(clippy::too_many_arguments)]
    pub fn integrate<C>(
        &self,
        solver: &Dopri5<T>,
        control: &mut C,
        t0: T,
        t1: T,
        x: &mut [T],
        state: &mut Dopri5State<T>,
        scratch: &mut [T],
    ) -> Result<()>
    where
        C: FnMut(T, &mut [T]),
    {
        let needed = crate::ode::dopri5_scratch_len(self.n_states) + self.n_controls;
        if scratch.len() < needed {
            return Err(Error::ScratchTooSmall {
                needed,
                found: scratch.len(),
            });
        }
        let (u, ode_scratch) = scratch.split_at_mut(self.n_controls);
        let mut f = |t: T, y: &[T], d: &mut [T]| {
            control(t, u);
            self.rhs(y, u, d)
        };
        solver.integrate(&mut f, t0, t1, x, state, ode_scratch)
    }
}

/// Checks a compressed pointer array: starts at 0, non-decreasing, ends at `len`.
fn check_pointers(what: &'static str, ptr: &[usize], len: usize) -> Result<()> {
    if ptr.is_empty() {
        return Err(Error::Empty { what });
    }
    if ptr[0] != 0 {
        return Err(Error::InvalidSparseStructure {
            reason: "pointer array must start at 0",
            position: 0,
        });
    }
    if let Some(position) = ptr.windows(2).position(|w| w[1] < w[0]) {
        return Err(Error::InvalidSparseStructure {
            reason: "pointer array must be non-decreasing",
            position: position + 1,
        });
    }
    if ptr[ptr.len() - 1] != len {
        return Err(Error::InvalidSparseStructure {
            reason: "pointer array must end at the length of the array it indexes",
            position: ptr.len() - 1,
        });
    }
    Ok(())
}
