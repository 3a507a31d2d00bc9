//! The adapters from the data users hold to the core operators.
use ndarray::array;
use sparsimony_core::LinearOperator;
use sparsimony_solvers::Error;
use sparsimony_solvers::data::{ColMajor, csr_view};

#[test]
fn sprs_csr_becomes_a_core_operator_without_copying() {
    let dense = array![[1.0, 0.0, 2.0], [0.0, 0.0, 0.0], [0.0, -3.0, 4.0]];
    let mut t = sprs::TriMat::new((3, 3));
    for ((i, j), &v) in dense.indexed_iter() {
        if v != 0.0 {
            t.add_triplet(i, j, v);
        }
    }
    let a = t.to_csr::<usize>();
    let op = csr_view("A", &a).unwrap();
    let x = [1.0, 2.0, 3.0];
    let mut y = [0.0; 3];
    op.apply(&x, &mut y, &mut []).unwrap();
    assert_eq!(y.to_vec(), dense.dot(&array![1.0, 2.0, 3.0]).to_vec());
    // Column-major copy of the same matrix, through the dense operator: the same product.
    let c = ColMajor::from_array("A", dense.view()).unwrap();
    let mut z = [0.0; 3];
    c.as_operator().apply(&x, &mut z, &mut []).unwrap();
    assert_eq!(y, z);
    // CSC storage is refused with a message saying what to do.
    assert!(matches!(
        csr_view("A", &a.to_csc()),
        Err(Error::InvalidParameter { .. })
    ));
}
