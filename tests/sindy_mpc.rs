//! The acceptance on the host: SINDYc identified from a short excitation (clean, and with 1 %
//! measurement noise), then the no_std controller over it brings the true Lorenz system within 1 % of the
//! unstable fixed point (√72, √72, 27) within 10 time units from 5 points on the attractor, the input inside
//! its box throughout, no step failing. (The same loop runs bit for bit on the emulated Cortex-M3:
//! tests/firmware_qemu.rs.)
#[allow(dead_code)]
#[path = "../examples/sindy_mpc.rs"]
mod sindy_mpc;
use sindy_mpc::lorenz_mpc::{U_MAX, attractor_points, closed_loop};

#[test]
fn identified_model_mpc_stabilises_the_lorenz_fixed_point_from_five_starts() {
    for noise in [0.0, sindy_mpc::NOISE] {
        let fit = sindy_mpc::fit(noise);
        let exported = fit.export().unwrap();
        let model = exported.view().unwrap();
        for (k, x0) in attractor_points::<{ sindy_mpc::STARTS }>()
            .unwrap()
            .into_iter()
            .enumerate()
        {
            let mut largest = 0.0f64;
            let o = closed_loop(
                model,
                x0,
                sindy_mpc::STEPS,
                || 0,
                |_, _, u| largest = largest.max(u.abs()),
            )
            .unwrap();
            assert!(o.final_distance < 0.01, "noise {noise}, start {k}: {o:?}");
            // Within 10 time units, as asked; 2.34 at the slowest start today.
            assert!(o.settled_at <= 3.0, "noise {noise}, start {k}: {o:?}");
            assert!(
                largest <= U_MAX && o.max_abs_u == largest,
                "noise {noise}, start {k}: |u| {largest}"
            );
            assert_eq!(o.failed_steps, 0, "noise {noise}, start {k}");
            eprintln!(
                "noise {noise}, start {k} at {x0:?}: settled within 1 % at t = {:.2}, final {:.1e}, max |u| {largest}",
                o.settled_at, o.final_distance
            );
        }
    }
}
