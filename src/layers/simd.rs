//! Four-lane `f32` vectors for the hot loops of the layers ([`F32x4`], with [`U32x4`] for pooling switches).
//!
//! One kernel source, three back ends: WebAssembly SIMD128 (`std::arch::wasm32`) when the build enables it
//! (`.cargo/config.toml` does for wasm32), SSE on x86-64 (part of its baseline), else a plain array of four
//! lanes (which the compiler is left to vectorise; it reshuffles the linear layer's sums badly on x86-64, where
//! fc1 took twice as long as with SSE). Every operation is exact lane by lane (IEEE `+` and `×` rounded
//! separately, `max` and comparisons with the same NaN rules), so the back ends give bit-identical results: the
//! tests check the portable one against the one in use, and the kernel tests run natively and in wasm
//! (`wasm-pack test --node -- --lib`).
//!
//! Loads and stores take a slice and an offset and check that four values fit, like slice indexing; the
//! `_unchecked` ones are for loops that check their bounds once.

#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod backend {
    use core::arch::wasm32::*;

    #[derive(Clone, Copy, Debug)]
    pub struct F32x4(v128);

    #[derive(Clone, Copy, Debug)]
    pub struct U32x4(v128);

    /// A lane mask: all ones where a comparison held.
    #[derive(Clone, Copy, Debug)]
    pub struct Mask(v128);

    impl F32x4 {
        #[inline(always)]
        pub fn splat(v: f32) -> F32x4 {
            F32x4(f32x4_splat(v))
        }
        #[inline(always)]
        pub fn new(a: f32, b: f32, c: f32, d: f32) -> F32x4 {
            F32x4(f32x4(a, b, c, d))
        }
        /// `s[i..i + 4]`.
        #[inline(always)]
        pub fn load(s: &[f32], i: usize) -> F32x4 {
            let s = &s[i..i + 4];
            // SAFETY: `s` holds four floats; v128.load has no alignment requirement.
            F32x4(unsafe { v128_load(s.as_ptr().cast()) })
        }
        /// `s[i..i + 4]` without a bounds check.
        ///
        /// # Safety
        /// `i + 4 <= s.len()`.
        #[inline(always)]
        pub unsafe fn load_unchecked(s: &[f32], i: usize) -> F32x4 {
            F32x4(v128_load(s.as_ptr().add(i).cast()))
        }
        /// `s[i]` in every lane without a bounds check.
        ///
        /// # Safety
        /// `i < s.len()`.
        #[inline(always)]
        pub unsafe fn load_splat_unchecked(s: &[f32], i: usize) -> F32x4 {
            F32x4(v128_load32_splat(s.as_ptr().add(i).cast()))
        }
        /// Writes the lanes to `s[i..i + 4]` without a bounds check.
        ///
        /// # Safety
        /// `i + 4 <= s.len()`.
        #[inline(always)]
        pub unsafe fn store_unchecked(self, s: &mut [f32], i: usize) {
            v128_store(s.as_mut_ptr().add(i).cast(), self.0)
        }
        /// `s[i]` in every lane (one `v128.load32_splat`).
        #[inline(always)]
        pub fn load_splat(s: &[f32], i: usize) -> F32x4 {
            let v: *const f32 = &s[i];
            // SAFETY: `v` points to one float.
            F32x4(unsafe { v128_load32_splat(v.cast()) })
        }
        /// Writes the lanes to `s[i..i + 4]`.
        #[inline(always)]
        pub fn store(self, s: &mut [f32], i: usize) {
            let s = &mut s[i..i + 4];
            // SAFETY: `s` holds four floats; v128.store has no alignment requirement.
            unsafe { v128_store(s.as_mut_ptr().cast(), self.0) }
        }
        #[inline(always)]
        pub fn to_array(self) -> [f32; 4] {
            [
                f32x4_extract_lane::<0>(self.0),
                f32x4_extract_lane::<1>(self.0),
                f32x4_extract_lane::<2>(self.0),
                f32x4_extract_lane::<3>(self.0),
            ]
        }
        /// `self + a·b` (a multiply and an add: wasm SIMD128 has no fused multiply-add).
        #[inline(always)]
        pub fn mul_add(self, a: F32x4, b: F32x4) -> F32x4 {
            F32x4(f32x4_add(self.0, f32x4_mul(a.0, b.0)))
        }
        /// Lane-wise `if o > self { o } else { self }` (`f32x4.pmax`, one instruction on x86).
        #[inline(always)]
        pub fn max(self, o: F32x4) -> F32x4 {
            F32x4(f32x4_pmax(self.0, o.0))
        }
        #[inline(always)]
        pub fn gt(self, o: F32x4) -> Mask {
            Mask(f32x4_gt(self.0, o.0))
        }
        #[inline(always)]
        pub fn select(m: Mask, yes: F32x4, no: F32x4) -> F32x4 {
            F32x4(v128_bitselect(yes.0, no.0, m.0))
        }
        /// `([a0, a2, b0, b2], [a1, a3, b1, b3])`: the even and the odd lanes of the eight values `a, b`.
        #[inline(always)]
        pub fn even_odd(a: F32x4, b: F32x4) -> (F32x4, F32x4) {
            (
                F32x4(i32x4_shuffle::<0, 2, 4, 6>(a.0, b.0)),
                F32x4(i32x4_shuffle::<1, 3, 5, 7>(a.0, b.0)),
            )
        }
    }

    impl core::ops::Add for F32x4 {
        type Output = F32x4;
        #[inline(always)]
        fn add(self, o: F32x4) -> F32x4 {
            F32x4(f32x4_add(self.0, o.0))
        }
    }

    impl core::ops::Mul for F32x4 {
        type Output = F32x4;
        #[inline(always)]
        fn mul(self, o: F32x4) -> F32x4 {
            F32x4(f32x4_mul(self.0, o.0))
        }
    }

    impl core::ops::Add for U32x4 {
        type Output = U32x4;
        #[inline(always)]
        fn add(self, o: U32x4) -> U32x4 {
            U32x4(i32x4_add(self.0, o.0))
        }
    }

    impl U32x4 {
        #[inline(always)]
        pub fn splat(v: u32) -> U32x4 {
            U32x4(u32x4_splat(v))
        }
        #[inline(always)]
        pub fn new(a: u32, b: u32, c: u32, d: u32) -> U32x4 {
            U32x4(u32x4(a, b, c, d))
        }
        #[inline(always)]
        pub fn select(m: Mask, yes: U32x4, no: U32x4) -> U32x4 {
            U32x4(v128_bitselect(yes.0, no.0, m.0))
        }
        #[inline(always)]
        pub fn store(self, s: &mut [u32], i: usize) {
            let s = &mut s[i..i + 4];
            // SAFETY: `s` holds four u32; v128.store has no alignment requirement.
            unsafe { v128_store(s.as_mut_ptr().cast(), self.0) }
        }
    }
}

#[cfg(target_arch = "x86_64")]
mod backend {
    use core::arch::x86_64::*;

    #[derive(Clone, Copy, Debug)]
    pub struct F32x4(__m128);

    #[derive(Clone, Copy, Debug)]
    pub struct U32x4(__m128i);

    /// A lane mask: all ones where a comparison held.
    #[derive(Clone, Copy, Debug)]
    pub struct Mask(__m128);

    // SAFETY (every `unsafe` block below): SSE and SSE2 are part of the x86-64 baseline, and the loads and
    // stores go through slices of at least four elements (or single elements) that the callers provide.
    impl F32x4 {
        #[inline(always)]
        pub fn splat(v: f32) -> F32x4 {
            F32x4(unsafe { _mm_set1_ps(v) })
        }
        #[inline(always)]
        pub fn new(a: f32, b: f32, c: f32, d: f32) -> F32x4 {
            F32x4(unsafe { _mm_setr_ps(a, b, c, d) })
        }
        /// `s[i..i + 4]`.
        #[inline(always)]
        pub fn load(s: &[f32], i: usize) -> F32x4 {
            let s = &s[i..i + 4];
            F32x4(unsafe { _mm_loadu_ps(s.as_ptr()) })
        }
        /// `s[i]` in every lane.
        #[inline(always)]
        pub fn load_splat(s: &[f32], i: usize) -> F32x4 {
            F32x4::splat(s[i])
        }
        /// `s[i..i + 4]` without a bounds check.
        ///
        /// # Safety
        /// `i + 4 <= s.len()`.
        #[inline(always)]
        pub unsafe fn load_unchecked(s: &[f32], i: usize) -> F32x4 {
            F32x4(_mm_loadu_ps(s.as_ptr().add(i)))
        }
        /// `s[i]` in every lane without a bounds check.
        ///
        /// # Safety
        /// `i < s.len()`.
        #[inline(always)]
        pub unsafe fn load_splat_unchecked(s: &[f32], i: usize) -> F32x4 {
            F32x4(_mm_load1_ps(s.as_ptr().add(i)))
        }
        /// Writes the lanes to `s[i..i + 4]`.
        #[inline(always)]
        pub fn store(self, s: &mut [f32], i: usize) {
            let s = &mut s[i..i + 4];
            unsafe { _mm_storeu_ps(s.as_mut_ptr(), self.0) }
        }
        /// Writes the lanes to `s[i..i + 4]` without a bounds check.
        ///
        /// # Safety
        /// `i + 4 <= s.len()`.
        #[inline(always)]
        pub unsafe fn store_unchecked(self, s: &mut [f32], i: usize) {
            _mm_storeu_ps(s.as_mut_ptr().add(i), self.0)
        }
        #[inline(always)]
        pub fn to_array(self) -> [f32; 4] {
            let mut a = [0.0f32; 4];
            unsafe { _mm_storeu_ps(a.as_mut_ptr(), self.0) };
            a
        }
        /// `self + a·b` (a multiply and an add, rounded twice, as in wasm).
        #[inline(always)]
        pub fn mul_add(self, a: F32x4, b: F32x4) -> F32x4 {
            F32x4(unsafe { _mm_add_ps(self.0, _mm_mul_ps(a.0, b.0)) })
        }
        /// Lane-wise `if o > self { o } else { self }` (`maxps` returns its second operand when unordered).
        #[inline(always)]
        pub fn max(self, o: F32x4) -> F32x4 {
            F32x4(unsafe { _mm_max_ps(o.0, self.0) })
        }
        #[inline(always)]
        pub fn gt(self, o: F32x4) -> Mask {
            Mask(unsafe { _mm_cmpgt_ps(self.0, o.0) })
        }
        #[inline(always)]
        pub fn select(m: Mask, yes: F32x4, no: F32x4) -> F32x4 {
            F32x4(unsafe { _mm_or_ps(_mm_and_ps(m.0, yes.0), _mm_andnot_ps(m.0, no.0)) })
        }
        /// `([a0, a2, b0, b2], [a1, a3, b1, b3])`: the even and the odd lanes of the eight values `a, b`.
        #[inline(always)]
        pub fn even_odd(a: F32x4, b: F32x4) -> (F32x4, F32x4) {
            unsafe {
                (
                    F32x4(_mm_shuffle_ps::<0b10_00_10_00>(a.0, b.0)),
                    F32x4(_mm_shuffle_ps::<0b11_01_11_01>(a.0, b.0)),
                )
            }
        }
    }

    impl core::ops::Add for F32x4 {
        type Output = F32x4;
        #[inline(always)]
        fn add(self, o: F32x4) -> F32x4 {
            F32x4(unsafe { _mm_add_ps(self.0, o.0) })
        }
    }

    impl core::ops::Mul for F32x4 {
        type Output = F32x4;
        #[inline(always)]
        fn mul(self, o: F32x4) -> F32x4 {
            F32x4(unsafe { _mm_mul_ps(self.0, o.0) })
        }
    }

    impl core::ops::Add for U32x4 {
        type Output = U32x4;
        #[inline(always)]
        fn add(self, o: U32x4) -> U32x4 {
            U32x4(unsafe { _mm_add_epi32(self.0, o.0) })
        }
    }

    impl U32x4 {
        #[inline(always)]
        pub fn splat(v: u32) -> U32x4 {
            U32x4(unsafe { _mm_set1_epi32(v as i32) })
        }
        #[inline(always)]
        pub fn new(a: u32, b: u32, c: u32, d: u32) -> U32x4 {
            U32x4(unsafe { _mm_setr_epi32(a as i32, b as i32, c as i32, d as i32) })
        }
        #[inline(always)]
        pub fn select(m: Mask, yes: U32x4, no: U32x4) -> U32x4 {
            unsafe {
                let m = _mm_castps_si128(m.0);
                U32x4(_mm_or_si128(
                    _mm_and_si128(m, yes.0),
                    _mm_andnot_si128(m, no.0),
                ))
            }
        }
        #[inline(always)]
        pub fn store(self, s: &mut [u32], i: usize) {
            let s = &mut s[i..i + 4];
            unsafe { _mm_storeu_si128(s.as_mut_ptr().cast(), self.0) }
        }
    }
}

/// Four `f32` lanes as a plain array, for targets with neither back end above (and for the tests, which
/// check it against the one in use).
#[allow(dead_code)]
mod portable {
    #[derive(Clone, Copy, Debug)]
    pub struct F32x4([f32; 4]);

    #[derive(Clone, Copy, Debug)]
    pub struct U32x4([u32; 4]);

    /// A lane mask: true where a comparison held.
    #[derive(Clone, Copy, Debug)]
    pub struct Mask([bool; 4]);

    #[inline(always)]
    fn lanes<U>(f: impl Fn(usize) -> U) -> [U; 4] {
        [f(0), f(1), f(2), f(3)]
    }

    impl F32x4 {
        #[inline(always)]
        pub fn splat(v: f32) -> F32x4 {
            F32x4([v; 4])
        }
        #[inline(always)]
        pub fn new(a: f32, b: f32, c: f32, d: f32) -> F32x4 {
            F32x4([a, b, c, d])
        }
        /// `s[i..i + 4]`.
        #[inline(always)]
        pub fn load(s: &[f32], i: usize) -> F32x4 {
            let s = &s[i..i + 4];
            F32x4([s[0], s[1], s[2], s[3]])
        }
        /// `s[i]` in every lane.
        #[inline(always)]
        pub fn load_splat(s: &[f32], i: usize) -> F32x4 {
            F32x4([s[i]; 4])
        }
        /// `s[i..i + 4]` without a bounds check.
        ///
        /// # Safety
        /// `i + 4 <= s.len()`.
        #[inline(always)]
        pub unsafe fn load_unchecked(s: &[f32], i: usize) -> F32x4 {
            let s = s.get_unchecked(i..i + 4);
            F32x4([s[0], s[1], s[2], s[3]])
        }
        /// `s[i]` in every lane without a bounds check.
        ///
        /// # Safety
        /// `i < s.len()`.
        #[inline(always)]
        pub unsafe fn load_splat_unchecked(s: &[f32], i: usize) -> F32x4 {
            F32x4([*s.get_unchecked(i); 4])
        }
        /// Writes the lanes to `s[i..i + 4]` without a bounds check.
        ///
        /// # Safety
        /// `i + 4 <= s.len()`.
        #[inline(always)]
        pub unsafe fn store_unchecked(self, s: &mut [f32], i: usize) {
            s.get_unchecked_mut(i..i + 4).copy_from_slice(&self.0);
        }
        /// Writes the lanes to `s[i..i + 4]`.
        #[inline(always)]
        pub fn store(self, s: &mut [f32], i: usize) {
            s[i..i + 4].copy_from_slice(&self.0);
        }
        #[inline(always)]
        pub fn to_array(self) -> [f32; 4] {
            self.0
        }
        /// `self + a·b` (a multiply and an add, rounded twice, as in wasm).
        #[inline(always)]
        pub fn mul_add(self, a: F32x4, b: F32x4) -> F32x4 {
            F32x4(lanes::<f32>(|i| self.0[i] + a.0[i] * b.0[i]))
        }
        /// Lane-wise `if o > self { o } else { self }`.
        #[inline(always)]
        pub fn max(self, o: F32x4) -> F32x4 {
            F32x4(lanes::<f32>(|i| {
                if self.0[i] < o.0[i] {
                    o.0[i]
                } else {
                    self.0[i]
                }
            }))
        }
        #[inline(always)]
        pub fn gt(self, o: F32x4) -> Mask {
            Mask(lanes::<bool>(|i| self.0[i] > o.0[i]))
        }
        #[inline(always)]
        pub fn select(m: Mask, yes: F32x4, no: F32x4) -> F32x4 {
            F32x4(lanes::<f32>(|i| if m.0[i] { yes.0[i] } else { no.0[i] }))
        }
        /// `([a0, a2, b0, b2], [a1, a3, b1, b3])`: the even and the odd lanes of the eight values `a, b`.
        #[inline(always)]
        pub fn even_odd(a: F32x4, b: F32x4) -> (F32x4, F32x4) {
            let (a, b) = (a.0, b.0);
            (
                F32x4([a[0], a[2], b[0], b[2]]),
                F32x4([a[1], a[3], b[1], b[3]]),
            )
        }
    }

    impl core::ops::Add for F32x4 {
        type Output = F32x4;
        #[inline(always)]
        fn add(self, o: F32x4) -> F32x4 {
            F32x4(lanes::<f32>(|i| self.0[i] + o.0[i]))
        }
    }

    impl core::ops::Mul for F32x4 {
        type Output = F32x4;
        #[inline(always)]
        fn mul(self, o: F32x4) -> F32x4 {
            F32x4(lanes::<f32>(|i| self.0[i] * o.0[i]))
        }
    }

    impl core::ops::Add for U32x4 {
        type Output = U32x4;
        #[inline(always)]
        fn add(self, o: U32x4) -> U32x4 {
            U32x4(lanes::<u32>(|i| self.0[i].wrapping_add(o.0[i])))
        }
    }

    impl U32x4 {
        #[inline(always)]
        pub fn splat(v: u32) -> U32x4 {
            U32x4([v; 4])
        }
        #[inline(always)]
        pub fn new(a: u32, b: u32, c: u32, d: u32) -> U32x4 {
            U32x4([a, b, c, d])
        }
        #[inline(always)]
        pub fn select(m: Mask, yes: U32x4, no: U32x4) -> U32x4 {
            U32x4(lanes::<u32>(|i| if m.0[i] { yes.0[i] } else { no.0[i] }))
        }
        #[inline(always)]
        pub fn store(self, s: &mut [u32], i: usize) {
            s[i..i + 4].copy_from_slice(&self.0);
        }
    }
}

#[cfg(not(any(
    all(target_arch = "wasm32", target_feature = "simd128"),
    target_arch = "x86_64"
)))]
use portable as backend;

pub use backend::{F32x4, Mask, U32x4};

#[cfg(test)]
mod tests {
    /// The lane operations of one back end, by hand.
    macro_rules! lane_operations {
        ($backend:path) => {{
            use $backend as b;
            let a = b::F32x4::new(1.0, -2.0, 3.0, 0.5);
            let c = b::F32x4::load(&[9.0, 4.0, -1.0, 3.0, 0.5], 1);
            assert_eq!((a + c).to_array(), [5.0, -3.0, 6.0, 1.0]);
            assert_eq!((a * c).to_array(), [4.0, 2.0, 9.0, 0.25]);
            assert_eq!(
                a.mul_add(c, b::F32x4::splat(2.0)).to_array(),
                [9.0, -4.0, 9.0, 1.5]
            );
            assert_eq!(a.max(c).to_array(), [4.0, -1.0, 3.0, 0.5]);
            let m = c.gt(a);
            assert_eq!(b::F32x4::select(m, a, c).to_array(), [1.0, -2.0, 3.0, 0.5]);
            let mut out = [0u32; 5];
            (b::U32x4::select(m, b::U32x4::splat(7), b::U32x4::new(0, 1, 2, 3))
                + b::U32x4::splat(1))
            .store(&mut out, 1);
            assert_eq!(out, [0, 8, 8, 3, 4]);
            let (even, odd) = b::F32x4::even_odd(a, c);
            assert_eq!(even.to_array(), [1.0, 3.0, 4.0, 3.0]);
            assert_eq!(odd.to_array(), [-2.0, 0.5, -1.0, 0.5]);
            let mut s = [0.0f32; 6];
            b::F32x4::load_splat(&[0.0, 2.5], 1).store(&mut s, 2);
            assert_eq!(s, [0.0, 0.0, 2.5, 2.5, 2.5, 2.5]);
            // SAFETY: in bounds.
            unsafe {
                let v = b::F32x4::load_unchecked(&s, 1) + b::F32x4::load_splat_unchecked(&[7.0], 0);
                v.store_unchecked(&mut s, 0);
            }
            assert_eq!(s, [7.0, 9.5, 9.5, 9.5, 2.5, 2.5]);
        }};
    }

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn lane_operations_of_both_back_ends() {
        lane_operations!(super::backend);
        lane_operations!(super::portable);
    }

    /// The back end in use against the portable one, to the bit (any NaN counting as one value: wasm leaves
    /// NaN payloads to the engine), on values with NaN, infinities, signed zeros and ties.
    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn the_back_end_in_use_equals_the_portable_one() {
        use super::{backend as fast, portable};
        let specials = [
            0.0,
            -0.0,
            1.0,
            -1.5,
            f32::NAN,
            f32::INFINITY,
            f32::NEG_INFINITY,
            3.25e-39,
        ];
        let mut rng = crate::rng::Rng::new(9);
        let mut pick = || {
            if rng.uniform() < 0.5 {
                specials[rng.below(specials.len())]
            } else {
                rng.normal()
            }
        };
        let bits = |v: [f32; 4]| v.map(|x| if x.is_nan() { u32::MAX } else { x.to_bits() });
        for _ in 0..2000 {
            let v: [f32; 12] = std::array::from_fn(|_| pick());
            let (a, c, d) = (
                fast::F32x4::load(&v, 0),
                fast::F32x4::load(&v, 4),
                fast::F32x4::load(&v, 8),
            );
            let (pa, pc, pd) = (
                portable::F32x4::load(&v, 0),
                portable::F32x4::load(&v, 4),
                portable::F32x4::load(&v, 8),
            );
            assert_eq!(bits((a + c).to_array()), bits((pa + pc).to_array()));
            assert_eq!(bits((a * c).to_array()), bits((pa * pc).to_array()));
            assert_eq!(
                bits(a.mul_add(c, d).to_array()),
                bits(pa.mul_add(pc, pd).to_array())
            );
            assert_eq!(
                bits(a.max(c).to_array()),
                bits(pa.max(pc).to_array()),
                "{v:?}"
            );
            let (m, pm) = (a.gt(c), pa.gt(pc));
            assert_eq!(
                bits(fast::F32x4::select(m, a, d).to_array()),
                bits(portable::F32x4::select(pm, pa, pd).to_array())
            );
            let (mut x, mut y) = ([0u32; 4], [0u32; 4]);
            fast::U32x4::select(m, fast::U32x4::splat(1), fast::U32x4::new(2, 3, 4, 5))
                .store(&mut x, 0);
            portable::U32x4::select(
                pm,
                portable::U32x4::splat(1),
                portable::U32x4::new(2, 3, 4, 5),
            )
            .store(&mut y, 0);
            assert_eq!(x, y);
            let (e, o) = fast::F32x4::even_odd(a, c);
            let (pe, po) = portable::F32x4::even_odd(pa, pc);
            assert_eq!(
                (bits(e.to_array()), bits(o.to_array())),
                (bits(pe.to_array()), bits(po.to_array()))
            );
        }
    }
}
