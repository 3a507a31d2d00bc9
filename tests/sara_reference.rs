//! The SARA dictionary's wavelet bases against PyWavelets 1.8 on a committed fixture
//! (`tests/fixtures/make_sara_fixtures.py`): each Daubechies order's periodised 2D transform, coefficient
//! for coefficient in the Mallat layout.
use serde_json::Value;
use sparsimony::core::LinearOperator;
use sparsimony::solvers::radio::{Basis, Sara};

#[test]
fn daubechies_bases_match_pywavelets() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/sara_pywt.json");
    let fixture: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let n = fixture["n"].as_u64().unwrap() as usize;
    let levels = fixture["levels"].as_u64().unwrap() as usize;
    let image: Vec<f64> = serde_json::from_value(fixture["image"].clone()).unwrap();
    assert_eq!(image.len(), n * n);
    for order in 1..=8 {
        let expected: Vec<f64> = serde_json::from_value(fixture["coefficients"][order.to_string()].clone()).unwrap();
        // One basis: the normalisation 1/√q is 1, so the block is the plain orthonormal transform.
        let psi = Sara::with_bases(n, levels, vec![Basis::Daubechies(order)]).unwrap();
        assert_eq!(psi.padded_size(), n);
        let mut coefficients = vec![0.0; psi.nrows()];
        let mut scratch = vec![0.0; psi.scratch_len()];
        psi.apply(&image, &mut coefficients, &mut scratch).unwrap();
        assert_eq!(expected.len(), coefficients.len(), "db{order}: fixture length");
        let worst = coefficients
            .iter()
            .zip(&expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(worst < 1e-12, "db{order}: largest difference from PyWavelets {worst:e}");
    }
}
