use sparsimony::pde::{run, settings_for};
use sparsimony::solvers::gp_pde::{Method, Problem};
use std::ops::ControlFlow;
fn main() {
    for name in ["helmholtz_2d", "heat_1d", "burgers_1d", "kovasznay"] {
        let p = Problem::benchmark(name).unwrap();
        for dl in [5000usize, 1000] {
            let mut s = settings_for(&p, Method::Exact, None, None);
            s.dense_limit = dl;
            let big = p.axes().iter().map(|a| a.points).product::<usize>() * p.fields().len() > dl;
            if big {
                s.gauss_newton_steps = 3;
                s.iterations = 30;
            }
            match run(&p, &s, |_| ControlFlow::Continue(())) {
                Ok(o) => println!("{name} dl {dl}: err {:e} {:.1}s", o.rel_l2_error.unwrap(), o.seconds),
                Err(e) => println!("{name} dl {dl}: {e}"),
            }
        }
    }
}
