//! Run-time SIMD dispatch, written once: the hot block kernels (SINDy's library evaluation, the normal
//! equations' Gram products) are plain Rust compiled twice — as is, and with AVX2 enabled — and the wider
//! version runs where the processor has it. The same operations run in the same order either way, so the
//! results do not depend on the machine.

/// Runs `f` inlined into a function compiled with AVX2 (FMA stays off: `a * b + c` keeps two roundings)
/// when the processor supports it, as is otherwise. Pass an `#[inline(always)]` closure calling
/// `#[inline(always)]` kernels — `dispatch(#[inline(always)] || kernel(..))` — so that the kernel's body
/// is compiled into the AVX2 function rather than called from it.
#[inline(always)]
pub(crate) fn dispatch<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        #[target_feature(enable = "avx2")]
        fn avx2<R>(f: impl FnOnce() -> R) -> R {
            f()
        }
        // SAFETY: the processor supports AVX2, checked just above.
        return unsafe { avx2(f) };
    }
    f()
}
