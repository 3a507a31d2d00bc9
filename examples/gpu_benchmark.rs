//! GPU kernels and batched fits against the CPU path, timed in the same run: for each, the GPU time, the CPU
//! time (faer's GEMM on all cores; sparsimony-core's CSR and Kronecker products and sprs's sparse product,
//! single-threaded; the elastic net and STLSQ per problem on all cores), their ratio, and effective GFLOP/s or GB/s. GPU times include uploading the inputs and reading
//! the results back, as a caller of these functions pays them. Results are checked against the CPU's.
//!
//! `cargo run --release --example gpu_benchmark [-- --quick]` (on the adapter wgpu picks; WGPU_ADAPTER_NAME
//! selects one). On a software adapter (lavapipe) the ratios only say that the paths run.
use sparsimony::solvers::Estimator;
use std::time::Instant;

use ndarray::{Array1, Array2};
use rayon::prelude::*;
use sparsimony::core::{CsrView, LinearOperator};
use sparsimony::core::{DenseColMajor, Kronecker};
use sparsimony::gpu::kron::Factor as KronFactor;
use sparsimony::gpu::{Batch, BatchElasticNet, BatchStlsq, GpuContext, GpuCsr, kron_matvec, matmul, spgemm};
use sparsimony::solvers::regression::{ElasticNet, NormalEquations, Precompute, Stlsq};

/// Best of `reps` wall-clock times of `f`, in seconds, and its last result.
fn best<T>(reps: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let mut out = None;
    let mut t = f64::INFINITY;
    for _ in 0..reps {
        let t0 = Instant::now();
        out = Some(f());
        t = t.min(t0.elapsed().as_secs_f64());
    }
    (t, out.expect("at least one repetition"))
}

fn fill(len: usize, seed: u64) -> Vec<f32> {
    let mut s = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            (s >> 40) as f32 / (1u64 << 24) as f32 - 0.5
        })
        .collect()
}

fn row(name: &str, gpu: f64, cpu: f64, work: f64, unit: &str) {
    println!(
        "{name:<34} {:>10.2} {:>10.2} {:>8.2}x {:>10.3} {unit:<7} (GPU) {:>8.3} {unit:<7} (CPU)",
        gpu * 1e3,
        cpu * 1e3,
        cpu / gpu,
        work / gpu / 1e9,
        work / cpu / 1e9
    );
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let ctx = match GpuContext::new() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("no GPU adapter: {e}");
            std::process::exit(1);
        }
    };
    let info = ctx.adapter_info();
    println!(
        "adapter: {} ({:?}, {:?}); CPU threads: {}",
        info.name,
        info.backend,
        info.device_type,
        rayon::current_num_threads()
    );
    println!(
        "{:<34} {:>10} {:>10} {:>9} {:>21} {:>20}",
        "kernel", "GPU (ms)", "CPU (ms)", "CPU/GPU", "GPU rate", "CPU rate"
    );

    // GEMM, square, f32.
    for n in if quick {
        vec![256, 512]
    } else {
        vec![512, 1024, 2048, 4096]
    } {
        let (a, b) = (fill(n * n, 1), fill(n * n, 2));
        let (tg, c) = best(3, || matmul(&ctx, &a, &b, n, n, n).expect("GEMM"));
        let (ta, tb) = (
            faer::MatRef::from_column_major_slice(&a, n, n),
            faer::MatRef::from_column_major_slice(&b, n, n),
        );
        let (tc, cc) = best(3, || {
            let mut out = faer::Mat::<f32>::zeros(n, n);
            faer::linalg::matmul::matmul(out.as_mut(), faer::Accum::Replace, ta, tb, 1.0, faer::Par::rayon(0));
            out
        });
        let err = (0..n * n)
            .map(|q| (c[q] - cc[(q % n, q / n)]).abs())
            .fold(0.0f32, f32::max);
        assert!(err < 1e-3 * n as f32, "GEMM disagrees: {err}");
        row(
            &format!("GEMM f32 {n}×{n}×{n}"),
            tg,
            tc,
            2.0 * (n as f64).powi(3),
            "GFLOP/s",
        );
    }

    // CSR SpMV, 10 entries per row at random columns.
    let rows = if quick { 100_000 } else { 2_000_000 };
    let per_row = 10;
    // Rows of up to 10 distinct random columns, sorted (as sprs requires).
    let cols_raw = fill(rows * per_row, 3);
    let (mut indptr, mut indices) = (vec![0usize], Vec::with_capacity(rows * per_row));
    for r in 0..rows {
        let mut cols: Vec<usize> = cols_raw[r * per_row..(r + 1) * per_row]
            .iter()
            .map(|v| ((v + 0.5) * rows as f32) as usize % rows)
            .collect();
        cols.sort_unstable();
        cols.dedup();
        indices.extend(cols);
        indptr.push(indices.len());
    }
    let values = fill(indices.len(), 4);
    let view = CsrView::new(rows, rows, &indptr, &indices, &values).expect("a valid CSR matrix");
    let gpu_csr = GpuCsr::from_view(&ctx, &view).expect("upload");
    let x = fill(rows, 5);
    let (tg, yg) = best(5, || gpu_csr.spmv(&ctx, &x).expect("SpMV"));
    let mut scratch = vec![0.0f32; view.scratch_len()];
    let (tc, yc) = best(5, || {
        let mut y = vec![0.0f32; rows];
        view.apply(&x, &mut y, &mut scratch).expect("CPU SpMV");
        y
    });
    let err = yg.iter().zip(&yc).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(err < 1e-4, "SpMV disagrees: {err}");
    let bytes = (indices.len() * 8 + rows * 4 * 3) as f64; // values + indices, indptr, x gathered ≈ once, y
    row(&format!("SpMV CSR {rows} rows, 10/row"), tg, tc, bytes, "GB/s");

    // SpGEMM A·A on the same matrix (square, 10 per row), against sprs (single-threaded).
    let (tg, c) = best(3, || spgemm(&ctx, &view, &view).expect("SpGEMM"));
    let sp = sprs::CsMat::new((rows, rows), indptr.clone(), indices.clone(), values.clone());
    let (tc, cc) = best(3, || &sp * &sp);
    assert_eq!(c.indices.len(), cc.nnz(), "SpGEMM structure");
    let flops = 2.0 * indices.iter().map(|&k| indptr[k + 1] - indptr[k]).sum::<usize>() as f64;
    row(
        &format!("SpGEMM A·A ({} nnz out)", c.indices.len()),
        tg,
        tc,
        flops,
        "GFLOP/s",
    );

    // Kronecker matvec of three dense factors, against core's never-formed operator (single-threaded).
    let side = if quick { 32 } else { 128 };
    let facs: Vec<Vec<f32>> = (0..3).map(|k| fill(side * side, 10 + k)).collect();
    let gf: Vec<KronFactor<'_>> = facs
        .iter()
        .map(|f| KronFactor {
            data: f,
            nrows: side,
            ncols: side,
        })
        .collect();
    let dense: Vec<DenseColMajor<'_, f32>> = facs
        .iter()
        .map(|f| DenseColMajor::new(f, side, side).expect("factor"))
        .collect();
    let ops: Vec<&dyn LinearOperator<f32>> = dense.iter().map(|d| d as &dyn LinearOperator<f32>).collect();
    let kron = Kronecker::new(&ops).expect("Kronecker operator");
    let xk = fill(kron.ncols(), 13);
    let (tg, yk) = best(3, || kron_matvec(&ctx, &gf, &xk).expect("Kronecker matvec"));
    let mut scratch = vec![0.0f32; kron.scratch_len()];
    let (tc, yc) = best(3, || {
        let mut y = vec![0.0f32; kron.nrows()];
        kron.apply(&xk, &mut y, &mut scratch).expect("CPU Kronecker");
        y
    });
    let scale = yc.iter().fold(1.0f32, |m, v| m.max(v.abs()));
    assert!(
        yk.iter().zip(&yc).all(|(a, b)| (a - b).abs() <= 1e-3 * scale),
        "Kronecker disagrees"
    );
    row(
        &format!("Kronecker {side}³ (3 dense factors)"),
        tg,
        tc,
        2.0 * 3.0 * (side as f64).powi(4),
        "GFLOP/s",
    );

    // Batched Lasso: 10 000 problems, n = 200, d = 50.
    let (batch, n, d) = if quick { (1_000, 200, 50) } else { (10_000, 200, 50) };
    let x = fill(batch * n * d, 6);
    let w: Vec<f32> = (0..d)
        .map(|j| if j % 10 == 0 { 1.0 + j as f32 / 50.0 } else { 0.0 })
        .collect();
    let noise = fill(batch * n, 7);
    let y: Vec<f32> = (0..batch * n)
        .map(|q| {
            let (b, i) = (q / n, q % n);
            (0..d).map(|j| x[b * n * d + j * n + i] * w[j]).sum::<f32>() + 0.1 * noise[q]
        })
        .collect();
    let alphas = vec![0.01f32; batch];
    let data = Batch {
        x: &x,
        y: &y,
        batch,
        n,
        d,
    };
    let model = BatchElasticNet::default();
    let (tg, fit) = best(2, || model.fit(&ctx, &data, &alphas).expect("batched Lasso"));
    let cpu = ElasticNet {
        precompute: Precompute::Always,
        tol: 1e-4,
        alpha: 0.01,
        ..ElasticNet::default()
    };
    let (tc, coefs) = best(2, || {
        (0..batch)
            .into_par_iter()
            .map(|b| {
                let xm = Array2::from_shape_fn((n, d), |(i, j)| x[b * n * d + j * n + i] as f64);
                let ym = Array1::from_iter((0..n).map(|i| y[b * n + i] as f64));
                cpu.fit((xm.view(), ym.view())).expect("CPU Lasso").coef
            })
            .collect::<Vec<_>>()
    });
    let gpu_coef = &fit.coef;
    let err = coefs
        .iter()
        .enumerate()
        .flat_map(|(b, c)| {
            c.iter()
                .enumerate()
                .map(move |(j, v)| (gpu_coef[b * d + j] as f64 - v).abs())
        })
        .fold(0.0f64, f64::max);
    println!(
        "{:<34} {:>10.2} {:>10.2} {:>8.2}x   (max |Δw| = {err:.1e}, mean epochs {:.1}, {} at the cap)",
        format!("batched Lasso {batch} × ({n}×{d})"),
        tg * 1e3,
        tc * 1e3,
        tc / tg,
        fit.reports.iter().map(|r| r.iterations as f64).sum::<f64>() / batch as f64,
        fit.reports.iter().filter(|r| !r.converged).count()
    );

    // Batched STLSQ on the same problems' normal equations (GPU) against the CPU's STLSQ per problem, all
    // cores; the normal equations come from the batched Gram kernel for both.
    let normal = sparsimony::gpu::batch_normal_equations(&ctx, &data, false).expect("batched Gram");
    let index: Vec<u32> = (0..batch as u32).collect();
    let stlsq = BatchStlsq {
        threshold: 0.3,
        ..BatchStlsq::default()
    };
    let (tg, solved) = best(2, || {
        stlsq
            .fit_normal(&ctx, d, &normal.gram, &index, &normal.cross)
            .expect("batched STLSQ")
    });
    let (tc, cpu_coef) = best(2, || {
        (0..batch)
            .into_par_iter()
            .map(|b| {
                let g: Vec<f64> = normal.gram[b * d * d..(b + 1) * d * d]
                    .iter()
                    .map(|v| *v as f64)
                    .collect();
                let c: Vec<f64> = normal.cross[b * d..(b + 1) * d].iter().map(|v| *v as f64).collect();
                let ne = NormalEquations::from_parts(d, 1, n as f64, g, c, vec![normal.y_sq[b] as f64])
                    .expect("normal equations");
                Stlsq {
                    threshold: 0.3,
                    ..Stlsq::default()
                }
                .fit((&ne, 0))
                .expect("CPU STLSQ")
                .coef
            })
            .collect::<Vec<_>>()
    });
    let err = cpu_coef
        .iter()
        .enumerate()
        .flat_map(|(b, w)| w.iter().enumerate().map(move |(j, v)| (v, b * d + j)))
        .fold(0.0f64, |m, (v, q)| m.max((solved.coef[q] as f64 - v).abs()));
    println!(
        "{:<34} {:>10.2} {:>10.2} {:>8.2}x   (max |Δw| = {err:.1e})",
        format!("batched STLSQ {batch} × ({d}×{d})"),
        tg * 1e3,
        tc * 1e3,
        tc / tg
    );
}
