//! FNV-1a (64-bit) over the bits of `f32` values, little-endian: the hash that pins the random texture
//! network's weights and short syntheses, natively (`tests/texture.rs`) and in wasm (`tests/web.rs`).

pub fn fnv(values: impl Iterator<Item = f32>) -> u64 {
    values.fold(0xcbf2_9ce4_8422_2325u64, |h, w| {
        w.to_bits()
            .to_le_bytes()
            .iter()
            .fold(h, |h, &b| (h ^ b as u64).wrapping_mul(0x0100_0000_01b3))
    })
}
