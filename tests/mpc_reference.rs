//! One control step of the model-predictive controller (`sparsimony_core::mpc`) against OSQP on the same
//! problem: the committed fixture `tests/fixtures/mpc/lorenz_qp.json` (made by `make_lorenz_qp.py` beside
//! it) holds, for the controlled Lorenz system, the nominal trajectory, the condensed QP built from
//! complex-step Jacobians of the RK4 map and an explicit prediction matrix, and OSQP's solution at 1e-12.
mod common;
use common::fixture;
use serde_json::Value;
use sparsimony::core::mpc::{Mpc, MpcSettings};

#[allow(dead_code)]
#[path = "../examples/sindy_mpc.rs"]
mod sindy_mpc;

fn list(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(a) => a.iter().flat_map(list).collect(),
        other => vec![other.as_f64().expect("a number")],
    }
}

fn assert_close(what: &str, ours: &[f64], theirs: &[f64], rel: f64) {
    assert_eq!(ours.len(), theirs.len(), "{what}: length");
    let scale = theirs.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1e-300);
    let worst = ours.iter().zip(theirs).fold(0.0f64, |m, (a, b)| m.max((a - b).abs())) / scale;
    assert!(
        worst <= rel,
        "{what}: differs by {worst:e} of its largest entry (allowed {rel:e})"
    );
}

#[test]
fn one_control_step_matches_osqp_on_the_lorenz_system() {
    let data = fixture("mpc/lorenz_qp.json");
    let m = &data["model"];
    // The example's true model (σ, ρ, β of the fixture's generator; checked here).
    let model = sindy_mpc::true_model();
    for (key, value) in [("sigma", 10.0), ("rho", 28.0), ("beta", 8.0 / 3.0)] {
        assert_eq!(m[key].as_f64().unwrap(), value, "{key}");
    }
    let cases = data["cases"].as_array().unwrap();
    assert!(cases.len() >= 3);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let get = |k: &str| list(&case[k]);
        let (target, q, q_final, r, r_delta) = (get("target"), get("q"), get("q_final"), get("r"), get("r_delta"));
        let (u_min, u_max) = (get("u_min"), get("u_max"));
        let horizon = case["horizon"].as_u64().unwrap() as usize;
        let settings = MpcSettings {
            horizon,
            dt: case["dt"].as_f64().unwrap(),
            substeps: case["substeps"].as_u64().unwrap() as usize,
            target: &target,
            q: &q,
            q_final: &q_final,
            r: &r,
            r_delta: &r_delta,
            u_min: &u_min,
            u_max: &u_max,
            max_iter: 200_000,
            tol: 1e-15,
        };
        let mpc = Mpc::new(model, settings).unwrap();
        let (x0, u_prev, plan) = (get("x0"), get("u_prev"), get("plan"));
        let mut scratch = vec![0.0; mpc.scratch_len()];
        let qp = mpc.condensed_qp(&x0, &u_prev, &plan, &mut scratch).unwrap();
        // The RK4 sensitivities and the recursive condensing against complex-step derivatives and the
        // explicit prediction matrix.
        assert_close(
            &format!("{name}: nominal trajectory"),
            qp.nominal,
            &get("nominal"),
            1e-13,
        );
        let h_ref = get("H"); // row-major, symmetric
        assert_close(&format!("{name}: H"), qp.h, &h_ref, 1e-9);
        assert_close(&format!("{name}: c"), qp.c, &get("c"), 1e-9);

        let (mut u, mut next_plan) = (u_prev.clone(), plan.clone());
        let step = mpc.step(&x0, &mut u, &mut next_plan, &mut scratch).unwrap();
        assert!(step.converged, "{name}: {step:?}");
        // The applied input and the shifted rest of the plan are OSQP's solution.
        let mut ours = u.clone();
        ours.extend_from_slice(&next_plan[..horizon - 1]);
        let theirs = get("u_osqp");
        let worst = ours.iter().zip(&theirs).fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
        assert!(worst <= 1e-6, "{name}: plan differs from OSQP's by {worst:e}");
        assert_eq!(
            next_plan[horizon - 1],
            next_plan[horizon - 2],
            "{name}: the last input repeated"
        );
        let objective = case["objective"].as_f64().unwrap();
        let ours_obj = step.predicted_cost - qp_constant(&mpc, &x0, &u_prev, &plan);
        assert!(
            (ours_obj - objective).abs() <= 1e-9 * objective.abs().max(1.0),
            "{name}: objective {ours_obj} vs OSQP's {objective}"
        );
        eprintln!(
            "{name}: max |u − u_osqp| = {worst:.1e} in {} FISTA iterations, active bounds {}",
            step.iterations, case["active"]
        );
    }
}

fn qp_constant(mpc: &Mpc<'_, f64>, x0: &[f64], u_prev: &[f64], plan: &[f64]) -> f64 {
    let mut scratch = vec![0.0; mpc.scratch_len()];
    mpc.condensed_qp(x0, u_prev, plan, &mut scratch).unwrap().constant
}
