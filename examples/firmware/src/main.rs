//! Runs sparsimony-core on an emulated Cortex-M3 and prints the results through semihosting, one
//! `name value value …` line each, with `f64` printed in shortest round-trip form. Exits with failure on any
//! error or panic, so QEMU's exit code tells the host test.
#![no_std]
#![no_main]

use cortex_m as _; // its critical-section implementation, for semihosting
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprint, hprintln};

#[path = "sindy_lorenz.rs"]
mod exported;
#[path = "sindyc_lorenz.rs"]
mod exported_sindyc;
mod lorenz_mpc;
mod problems;

/// A 64-bit count of SysTick ticks (the core clock), read as often as the 24-bit counter cannot wrap twice.
/// Under `qemu-system-arm -icount shift=0` every instruction advances the virtual clock by 1 ns, so ticks
/// are instructions times a constant the firmware calibrates with a loop of known length.
struct Ticks {
    syst: cortex_m::peripheral::SYST,
    last: u32,
    total: u64,
}

impl Ticks {
    fn start(mut syst: cortex_m::peripheral::SYST) -> Self {
        use cortex_m::peripheral::syst::SystClkSource;
        syst.set_clock_source(SystClkSource::Core);
        syst.set_reload(0x00FF_FFFF);
        syst.clear_current();
        syst.enable_counter();
        let last = cortex_m::peripheral::SYST::get_current();
        Self { syst, last, total: 0 }
    }

    fn now(&mut self) -> u64 {
        let current = cortex_m::peripheral::SYST::get_current();
        // The counter counts down from the reload value and wraps modulo 2²⁴.
        self.total += u64::from(self.last.wrapping_sub(current) & 0x00FF_FFFF);
        self.last = current;
        let _ = &self.syst;
        self.total
    }
}

/// Stack painting, to measure the peak stack use of the computations (RAM beyond the 8 bytes of `.bss`).
mod stack {
    const PAINT: u32 = 0xDEAD_BEEF;

    unsafe extern "C" {
        static mut __sheap: u32; // end of .bss/.data: the lowest address the stack may reach
        static _stack_start: u32; // top of RAM, where the stack starts
    }

    fn bottom() -> *mut u32 {
        &raw mut __sheap
    }

    fn top() -> usize {
        (&raw const _stack_start) as usize
    }

    /// Fills the unused stack (from the end of static data up to just below the current frame) with a pattern.
    pub fn paint() {
        let limit = (cortex_m::register::msp::read() as usize - 256) as *mut u32;
        let mut p = bottom();
        while p < limit {
            // SAFETY: [__sheap, msp − 256) is RAM that no live frame or static occupies.
            unsafe {
                p.write_volatile(PAINT);
                p = p.add(1);
            }
        }
    }

    /// Bytes of stack used since [`paint`]: from the top of RAM down to the lowest overwritten word.
    pub fn used() -> usize {
        let mut p = bottom();
        // SAFETY: reads RAM between the end of static data and the current stack pointer.
        while (p as usize) < top() && unsafe { p.read_volatile() } == PAINT {
            p = unsafe { p.add(1) };
        }
        top() - p as usize
    }
}

fn print_all(name: &str, values: &[f64]) {
    hprint!("{}", name);
    for v in values {
        hprint!(" {:?}", v);
    }
    hprintln!();
}

fn run() -> sparsimony_core::Result<()> {
    stack::paint();
    let (w, iterations) = problems::lasso()?;
    print_all("lasso_coef", &w);
    hprintln!("lasso_iterations {}", iterations);
    print_all("spectral_norm_sq", &[problems::spectral_norm_sq()?]);
    print_all("lorenz_state", &problems::lorenz()?);
    print_all("sindy_lorenz_f64", &problems::sindy_lorenz_f64()?);
    print_all("sindy_lorenz_f32", &problems::sindy_lorenz_f32()?.map(f64::from));
    let messages = problems::privatized_record()?;
    print_all("ldp_l2_message", &messages.l2.map(f64::from));
    print_all("ldp_cube_message", &messages.cube.map(f64::from));
    print_all("ldp_laplace_message", &messages.laplace.map(f64::from));
    print_all("ldp_gaussian_message", &messages.gaussian.map(f64::from));
    hprintln!("stack_bytes_used {}", stack::used());
    stack::paint();
    mpc_closed_loop()?;
    hprintln!("mpc_stack_bytes_used {}", stack::used());
    Ok(())
}

/// The closed loop on the device: the true Lorenz system as the plant, the controller over the SINDYc model
/// identified on the host from noisy data; the trace (x, y, z, u per period), the outcome and the
/// controller's ticks printed.
fn mpc_closed_loop() -> sparsimony_core::Result<()> {
    let Some(peripherals) = cortex_m::Peripherals::take() else {
        return Err(sparsimony_core::Error::Device {
            what: "core peripherals taken twice",
        });
    };
    let mut ticks = Ticks::start(peripherals.SYST);
    // Calibration: `delay(n)` runs n + 1 iterations of `subs; bne`, 2(n + 1) instructions.
    let before = ticks.now();
    cortex_m::asm::delay(1_000_000);
    hprintln!("calibration_ticks_per_2000002_instructions {}", ticks.now() - before);

    let model = exported_sindyc::sindyc_lorenz::model()?;
    let starts = lorenz_mpc::attractor_points::<{ lorenz_mpc::DEVICE_STARTS }>()?;
    let (mut total, mut slowest) = (0, 0);
    for (k, x0) in starts.into_iter().enumerate() {
        hprint!("mpc_trace_{}", k);
        let outcome = fly(model, x0, &mut ticks)?;
        hprint!("mpc_outcome_{}", k);
        print_all(
            "",
            &[
                outcome.final_distance,
                outcome.settled_at,
                outcome.max_abs_u,
                outcome.cost,
                outcome.max_qp_iterations as f64,
                outcome.capped_steps as f64,
                outcome.failed_steps as f64,
            ],
        );
        total += outcome.controller_ticks;
        slowest = slowest.max(outcome.max_controller_ticks);
    }
    hprintln!("mpc_controller_ticks {} {}", total, slowest);

    // The same controller computing in f32 (what a Cortex-M4F's FPU runs; in software here), start 0.
    use exported_sindyc::sindyc_lorenz as m;
    let mut factors = [sparsimony_core::sindy::Factor::Power { input: 0, exponent: 0 }; m::FACTORS.len()];
    let mut coef = [0.0f32; m::COEF_VALUE.len()];
    let single = model.cast(&mut factors, &mut coef)?;
    hprint!("mpc_f32_trace");
    let outcome = fly(single, starts[0], &mut ticks)?;
    hprintln!(
        "mpc_f32_controller_ticks {} {}",
        outcome.controller_ticks,
        outcome.max_controller_ticks
    );
    Ok(())
}

/// One closed loop of `DEVICE_STEPS` periods from `x0`, its trace (x, y, z, u per period) printed on the
/// current line, which it ends.
fn fly<T: sparsimony_core::Real>(
    model: sparsimony_core::sindy::SindyModel<'_, T>,
    x0: [f64; 3],
    ticks: &mut Ticks,
) -> sparsimony_core::Result<lorenz_mpc::Outcome> {
    let outcome = lorenz_mpc::closed_loop(
        model,
        x0,
        lorenz_mpc::DEVICE_STEPS,
        || ticks.now(),
        |_, x, u| {
            hprint!(" {:?} {:?} {:?} {:?}", x[0], x[1], x[2], u);
        },
    )?;
    hprintln!();
    Ok(outcome)
}

#[entry]
fn main() -> ! {
    match run() {
        Ok(()) => {
            hprintln!("done");
            debug::exit(debug::EXIT_SUCCESS);
        }
        Err(e) => {
            hprintln!("error: {}", e);
            debug::exit(debug::EXIT_FAILURE);
        }
    }
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    hprintln!("panic: {}", info);
    debug::exit(debug::EXIT_FAILURE);
    loop {
        cortex_m::asm::wfi();
    }
}
