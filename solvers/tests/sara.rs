//! The SARA dictionary: its Daubechies filters against the closed-form conditions that define them, each
//! basis's perfect reconstruction, the tight-frame identity `ΨΨ† = I`, the dot-product test of its
//! adjoint, and bad parameters refused. (Its coefficients against PyWavelets: `tests/sara_reference.rs`.)

use rand_chacha::ChaCha8Rng;
use rand_core::SeedableRng;
use sparsimony_core::LinearOperator;
use sparsimony_core::random::standard_normal;
use sparsimony_solvers::Error;
use sparsimony_solvers::radio::{Basis, Sara};

fn random(len: usize, seed: u64) -> Vec<f64> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..len).map(|_| standard_normal(&mut rng)).collect()
}

fn norm(x: &[f64]) -> f64 {
    x.iter().map(|v| v * v).sum::<f64>().sqrt()
}

#[test]
fn daubechies_filters_satisfy_their_defining_conditions() {
    for p in 1..=8 {
        let h = Basis::Daubechies(p).filter().unwrap();
        assert_eq!(h.len(), 2 * p);
        let sum: f64 = h.iter().sum();
        assert!((sum - 2f64.sqrt()).abs() < 1e-14, "db{p}: Σh = {sum}");
        // Orthonormal to its even shifts.
        for shift in 0..p {
            let dot: f64 = (0..h.len() - 2 * shift).map(|k| h[k] * h[k + 2 * shift]).sum();
            let expected = if shift == 0 { 1.0 } else { 0.0 };
            assert!(
                (dot - expected).abs() < 1e-14,
                "db{p}: Σ h_k h_(k+{}) = {dot}",
                2 * shift
            );
        }
        // p vanishing moments of the wavelet: Σ (−1)^k k^j h_k = 0 for j < p.
        for j in 0..p as i32 {
            let moment: f64 = h
                .iter()
                .enumerate()
                .map(|(k, &hk)| if k % 2 == 0 { 1.0 } else { -1.0 } * (k as f64).powi(j) * hk)
                .sum();
            let scale: f64 = h.iter().enumerate().map(|(k, hk)| (k as f64).powi(j) * hk.abs()).sum();
            assert!(moment.abs() < 1e-12 * scale, "db{p}: moment {j} = {moment:e}");
        }
    }
    assert_eq!(Basis::Dirac.filter(), None);
    assert_eq!(Basis::Daubechies(9).filter(), None);
}

#[test]
fn each_basis_reconstructs_perfectly_and_keeps_the_norm() {
    for (n, levels) in [(32, 4), (127, 4), (20, 2)] {
        let mut bases = vec![Basis::Dirac];
        bases.extend((1..=8).map(Basis::Daubechies));
        for basis in bases {
            let psi = Sara::with_bases(n, levels, vec![basis]).unwrap();
            let x = random(n * n, 7);
            let mut c = vec![0.0; psi.nrows()];
            let mut back = vec![0.0; n * n];
            let mut scratch = vec![0.0; psi.scratch_len()];
            psi.apply(&x, &mut c, &mut scratch).unwrap();
            psi.apply_adjoint(&c, &mut back, &mut scratch).unwrap();
            let err = norm(&back.iter().zip(&x).map(|(a, b)| a - b).collect::<Vec<_>>());
            assert!(err < 1e-12 * norm(&x), "{basis:?}, N = {n}: ‖ΨΨ†x − x‖ = {err:e}");
            // Orthonormal basis of the padded image, and the padding is zero: Parseval.
            assert!((norm(&c) - norm(&x)).abs() < 1e-12 * norm(&x), "{basis:?}: ‖Ψ†x‖ ≠ ‖x‖");
        }
    }
}

#[test]
fn sara_is_a_tight_frame_with_an_exact_adjoint() {
    let n = 127;
    let psi = Sara::new(n, 4).unwrap();
    assert_eq!(psi.bases().len(), 9);
    assert_eq!(psi.padded_size(), 128);
    assert_eq!(psi.nrows(), 9 * 128 * 128);
    let x = random(n * n, 1);
    let z = random(psi.nrows(), 2);
    let mut scratch = vec![0.0; psi.scratch_len()];
    let mut psi_t_x = vec![0.0; psi.nrows()];
    let mut psi_z = vec![0.0; n * n];
    psi.apply(&x, &mut psi_t_x, &mut scratch).unwrap();
    psi.apply_adjoint(&z, &mut psi_z, &mut scratch).unwrap();
    let lhs: f64 = psi_t_x.iter().zip(&z).map(|(a, b)| a * b).sum();
    let rhs: f64 = x.iter().zip(&psi_z).map(|(a, b)| a * b).sum();
    assert!(
        (lhs - rhs).abs() <= 1e-12 * norm(&psi_t_x) * norm(&z),
        "⟨Ψ†x, z⟩ = {lhs}, ⟨x, Ψz⟩ = {rhs}"
    );
    // ΨΨ† = I (a tight frame of bound 1), so ‖Ψ†x‖ = ‖x‖ ...
    let mut back = vec![0.0; n * n];
    psi.apply_adjoint(&psi_t_x, &mut back, &mut scratch).unwrap();
    let err = norm(&back.iter().zip(&x).map(|(a, b)| a - b).collect::<Vec<_>>());
    assert!(err < 1e-12 * norm(&x), "‖ΨΨ†x − x‖ = {err:e}");
    assert!((norm(&psi_t_x) - norm(&x)).abs() < 1e-12 * norm(&x));
    // ... while Ψ†Ψ is a projection, not the identity: a random coefficient vector loses most of its norm.
    let mut again = vec![0.0; psi.nrows()];
    psi.apply(&psi_z, &mut again, &mut scratch).unwrap();
    assert!(norm(&again) < 0.5 * norm(&z));
    // A pool of one thread gives the same coefficients and, the bases' images summed in a fixed order,
    // the same synthesis, bit for bit.
    let single = rayon::ThreadPoolBuilder::new().num_threads(1).build().unwrap();
    let mut serial = vec![0.0; psi.nrows()];
    single.install(|| psi.apply(&x, &mut serial, &mut scratch).unwrap());
    assert_eq!(serial, psi_t_x);
    let mut serial = vec![0.0; n * n];
    single.install(|| psi.apply_adjoint(&z, &mut serial, &mut scratch).unwrap());
    assert_eq!(serial, psi_z);
}

#[test]
fn bad_parameters_are_refused() {
    let refused = |r: Result<Sara, Error>, name: &str| match r {
        Err(Error::InvalidParameter { name: got, .. }) => assert_eq!(got, name),
        other => panic!("expected {name} refused, got {other:?}"),
    };
    refused(Sara::new(0, 4), "image_size");
    refused(Sara::new(16, 0), "sara_levels");
    refused(Sara::new(16, 5), "sara_levels");
    refused(Sara::new(16, 400), "sara_levels");
    refused(Sara::with_bases(16, 2, vec![]), "bases");
    refused(Sara::with_bases(16, 2, vec![Basis::Daubechies(9)]), "bases");
    refused(Sara::with_bases(16, 2, vec![Basis::Daubechies(0)]), "bases");
    let psi = Sara::new(16, 2).unwrap();
    let mut y = vec![0.0; psi.nrows()];
    let mut scratch = vec![0.0; psi.scratch_len()];
    assert!(psi.apply(&[0.0; 10], &mut y, &mut scratch).is_err());
    assert!(psi.apply(&[0.0; 256], &mut y, &mut scratch[..3]).is_err());
}
