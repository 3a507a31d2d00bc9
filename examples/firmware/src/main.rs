//! Runs sparsimony-core on an emulated Cortex-M3 and prints the results through semihosting, one
//! `name value value …` line each, with `f64` printed in shortest round-trip form. Exits with failure on any
//! error or panic, so QEMU's exit code tells the host test.
#![no_std]
#![no_main]

use cortex_m as _; // its critical-section implementation, for semihosting
use cortex_m_rt::entry;
use cortex_m_semihosting::{debug, hprint, hprintln};

mod problems;

fn print_all(name: &str, values: &[f64]) {
    hprint!("{}", name);
    for v in values {
        hprint!(" {:?}", v);
    }
    hprintln!();
}

fn run() -> sparsimony_core::Result<()> {
    let (w, iterations) = problems::lasso()?;
    print_all("lasso_coef", &w);
    hprintln!("lasso_iterations {}", iterations);
    print_all("spectral_norm_sq", &[problems::spectral_norm_sq()?]);
    print_all("lorenz_state", &problems::lorenz()?);
    Ok(())
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
    loop {}
}

#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    hprintln!("panic: {}", info);
    debug::exit(debug::EXIT_FAILURE);
    loop {}
}
