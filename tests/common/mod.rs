//! Shared helpers of the integration tests: a deterministic mutation generator for fuzzing the file parsers.
//!
//! [`Mutator`] damages a valid seed file in the ways that real corruption and hostile files do: truncation at
//! every length class, bit flips, bytes overwritten with 0x00, 0xFF or random values, chunks duplicated or
//! removed, runs of random bytes or ASCII digits inserted (for text headers such as PGM), and 16- or 32-bit
//! fields overwritten with huge values in either byte order (length and dimension fields). One to three
//! mutations are stacked per output. The same seed bytes and `u64` seed always give the same sequence, so a
//! failure is reproduced by its index. [`fix_png_crcs`] lets mutated PNGs past the chunk checksums so that the
//! fuzzing reaches the decoder proper.
//!
//! This file is what `mod common;` brings in. The other files of `tests/common/` are submodules that a test
//! crate declares only where it uses them, so that no crate compiles helpers it leaves unused:
//! `mod common { pub mod reference; }` reads the float64 PyTorch references of `tests/data/reference*/`.

use convscope::rng::Rng;

/// Produces mutated copies of a seed file; an endless iterator (take as many as needed).
pub struct Mutator {
    seed_bytes: Vec<u8>,
    rng: Rng,
}

impl Mutator {
    pub fn new(seed_bytes: &[u8], seed: u64) -> Mutator {
        Mutator {
            seed_bytes: seed_bytes.to_vec(),
            rng: Rng::new(seed),
        }
    }

    /// A position in `0..=len`, biased towards the first 64 bytes where headers live.
    fn position(&mut self, len: usize) -> usize {
        if self.rng.below(2) == 0 {
            self.rng.below(len.min(64) + 1)
        } else {
            self.rng.below(len + 1)
        }
    }

    /// A truncated length: empty, one byte, inside the header, anywhere, or one byte short.
    fn truncated_len(&mut self, len: usize) -> usize {
        match self.rng.below(5) {
            0 => 0,
            1 => len.min(1),
            2 => self.rng.below(len.min(32) + 1),
            3 => self.rng.below(len + 1),
            _ => len.saturating_sub(1),
        }
    }

    fn mutate(&mut self, bytes: &mut Vec<u8>) {
        let len = bytes.len();
        match self.rng.below(8) {
            0 => bytes.truncate(self.truncated_len(len)),
            1 => {
                for _ in 0..=self.rng.below(8) {
                    if len > 0 {
                        let i = self.position(len - 1);
                        bytes[i] ^= 1 << self.rng.below(8);
                    }
                }
            }
            2 => {
                for _ in 0..=self.rng.below(4) {
                    if len > 0 {
                        let i = self.position(len - 1);
                        bytes[i] = match self.rng.below(3) {
                            0 => 0x00,
                            1 => 0xFF,
                            _ => self.rng.below(256) as u8,
                        };
                    }
                }
            }
            3 => {
                let start = self.rng.below(len + 1);
                let end = (start + 1 + self.rng.below(64)).min(len);
                let chunk = bytes[start..end].to_vec();
                let at = self.position(len);
                bytes.splice(at..at, chunk);
            }
            4 => {
                let start = self.position(len);
                let end = (start + 1 + self.rng.below(64)).min(len);
                bytes.drain(start..end);
            }
            5 => {
                let at = self.position(len);
                let count = 1 + self.rng.below(12);
                let digits = self.rng.below(2) == 0;
                let run: Vec<u8> = (0..count)
                    .map(|_| {
                        if digits {
                            b'0' + self.rng.below(10) as u8
                        } else {
                            self.rng.below(256) as u8
                        }
                    })
                    .collect();
                bytes.splice(at..at, run);
            }
            _ => {
                const HUGE: [u32; 5] = [
                    0xFFFF_FFFF,
                    0x7FFF_FFFF,
                    0x8000_0000,
                    0x0001_0000,
                    0x00FF_FFFF,
                ];
                let value = HUGE[self.rng.below(HUGE.len())];
                let field: Vec<u8> = match self.rng.below(4) {
                    0 => value.to_be_bytes().to_vec(),
                    1 => value.to_le_bytes().to_vec(),
                    2 => 0xFFFFu16.to_be_bytes().to_vec(),
                    _ => (value as u16 | 0x8000).to_be_bytes().to_vec(),
                };
                let at = self.position(len.saturating_sub(field.len()));
                for (offset, byte) in field.into_iter().enumerate() {
                    if let Some(slot) = bytes.get_mut(at + offset) {
                        *slot = byte;
                    }
                }
            }
        }
    }
}

impl Iterator for Mutator {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        let mut bytes = self.seed_bytes.clone();
        for _ in 0..=self.rng.below(3) {
            self.mutate(&mut bytes);
        }
        Some(bytes)
    }
}

/// `count` mutations of `seed_bytes` drawn from the stream seeded with `seed`.
pub fn mutations(seed_bytes: &[u8], seed: u64, count: usize) -> impl Iterator<Item = Vec<u8>> {
    Mutator::new(seed_bytes, seed).take(count)
}

/// CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320) as PNG chunks use it.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Rewrites the CRC of every complete chunk of a (possibly damaged) PNG, walking from the 8-byte signature
/// while the chunk lengths stay inside the file.
pub fn fix_png_crcs(bytes: &mut [u8]) {
    let mut at = 8;
    while let Some(length) = bytes.get(at..at + 4) {
        let length = u32::from_be_bytes([length[0], length[1], length[2], length[3]]) as usize;
        let Some(crc_at) = (at + 8).checked_add(length) else {
            return;
        };
        if crc_at + 4 > bytes.len() {
            return;
        }
        let crc = crc32(&bytes[at + 4..crc_at]);
        bytes[crc_at..crc_at + 4].copy_from_slice(&crc.to_be_bytes());
        at = crc_at + 4;
    }
}
