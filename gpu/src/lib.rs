//! # sparsimony-gpu
//!
//! The wgpu compute backend of sparsimony: it runs the heavy linear algebra on any GPU that wgpu reaches
//! (Vulkan, Metal, DX12) and, for testing, on Mesa's software Vulkan driver (lavapipe).
//!
//! * [`GpuContext`] finds an adapter, opens a device, and caches compiled compute pipelines;
//! * [`GpuCsr`] is a CSR matrix resident on the GPU with a sparse matrix–vector product (`y = A x`, `f32`):
//!   one thread per row for short rows, 32 per row for long ones; [`GpuCsrOperator`] makes it a core
//!   `LinearOperator`, so the forward–backward driver runs on it unchanged;
//! * [`matmul`]: a tiled GEMM, `f32`, or `f64` where the adapter has `SHADER_F64`; [`GpuDenseOperator`] is a
//!   resident dense matrix as a core `LinearOperator`;
//! * [`spgemm()`]: sparse × sparse products (row-wise, hash accumulators);
//! * [`kron_matvec`]: Kronecker products of dense factors applied to a vector, never formed;
//! * [`GpuVector`]: device vectors with elementwise proximal maps (soft/hard thresholding, box) and
//!   deterministic reductions (dot, norm, largest magnitude);
//! * [`GpuCorrelationDrift`]: a single-index sample resident on the GPU and its correlation loss's drift
//!   for a batch of iterates (two GEMMs and a Hermite kernel) — Langevin chains in lockstep;
//! * [`batch`]: many small regression problems at once — batched normal equations and a batched elastic net
//!   (Lasso) by coordinate descent, and batched STLSQ, one workgroup per problem.
//!
//! Results agree with the CPU path of `sparsimony-core` to single-precision rounding: each output of the SpMV
//! sums its row in the same order as [`sparsimony_core::CsrView`] does, in `f32` (the GPU fuses the
//! multiply–adds, so the two differ by a few ulp of the row's absolute sum at most).
//!
//! Every failure is a [`GpuError`]: no adapter, a device that cannot be opened or was lost, a buffer over the
//! device's limits, a validation error. None of them panics, so a caller can always fall back to the CPU.
#![warn(missing_docs)]

pub mod batch;
mod context;
mod csr;
mod error;
mod gemm;
pub mod kron;
mod single_index;
pub mod spgemm;
mod vector;

pub use batch::{Batch, BatchElasticNet, BatchFit, BatchNormal, BatchStlsq, batch_normal_equations};
pub use context::GpuContext;
pub use csr::{GpuCsr, GpuCsrOperator, SpmvKernel, VECTOR_ROW_LENGTH};
pub use error::GpuError;
pub use gemm::{GemmScalar, GpuDenseOperator, matmul};
pub use kron::kron_matvec;
pub use single_index::GpuCorrelationDrift;
pub use spgemm::spgemm;
pub use vector::GpuVector;
