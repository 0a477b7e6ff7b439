//! On/off activation patterns (Cheng, Nührenberg & Yasuoka 2019): neuron `i` of a monitored layer is *on*
//! when its value is `> 0`. A pattern of `n` neurons is packed into `⌈n / 64⌉` little-endian `u64` words —
//! neuron `i` is bit `i % 64` of word `i / 64`, the unused high bits of the last word are zero — so that the
//! Hamming distance between two patterns is `Σ_w popcount(a_w XOR b_w)`.
//!
//! A [`PatternSet`] holds the distinct patterns recorded for one class, rows sorted in ascending word order.
//! [`PatternSet::nearest`] is the exact minimum Hamming distance: a binary search answers the common exact
//! match, otherwise one pass of XOR + popcount over all rows (no approximate index, so γ-enlargement stays
//! exact).

use std::cmp::Ordering;

/// Bits per packed word.
pub const WORD_BITS: usize = 64;

/// Words needed for `neurons` bits.
pub fn words_for(neurons: usize) -> usize {
    neurons.div_ceil(WORD_BITS)
}

/// Packs `value > 0` of every activation (NaN counts as off).
pub fn pack(values: &[f32]) -> Vec<u64> {
    let mut words = vec![0u64; words_for(values.len())];
    for (word, chunk) in words.iter_mut().zip(values.chunks(WORD_BITS)) {
        for (bit, &v) in chunk.iter().enumerate() {
            if v > 0.0 {
                *word |= 1 << bit;
            }
        }
    }
    words
}

/// The first `neurons` bits of `words` as one `0`/`1` byte per neuron (what the page draws).
pub fn unpack(words: &[u64], neurons: usize) -> Vec<u8> {
    (0..neurons)
        .map(|i| {
            let word = words.get(i / WORD_BITS).copied().unwrap_or(0);
            u8::from((word >> (i % WORD_BITS)) & 1 == 1)
        })
        .collect()
}

/// Number of differing bits.
#[inline]
pub fn hamming(a: &[u64], b: &[u64]) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
}

/// The distinct patterns of one class, `len × words` words, rows in strictly ascending order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternSet {
    words: usize,
    data: Vec<u64>,
}

/// The nearest recorded pattern: its row index and its Hamming distance to the query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nearest {
    pub index: usize,
    pub distance: u32,
}

impl PatternSet {
    /// An empty set of patterns `words` words wide.
    pub fn new(words: usize) -> PatternSet {
        PatternSet {
            words,
            data: Vec::new(),
        }
    }

    /// Sorts and deduplicates `rows` (a flat `count × words` buffer; a partial last row is dropped).
    pub fn from_rows(words: usize, rows: &[u64]) -> PatternSet {
        if words == 0 {
            return PatternSet::new(0);
        }
        let mut sorted: Vec<&[u64]> = rows.chunks_exact(words).collect();
        sorted.sort_unstable();
        sorted.dedup();
        PatternSet {
            words,
            data: sorted.concat(),
        }
    }

    /// Takes rows that are already strictly ascending (as a monitor file stores them); `None` when they are
    /// not, or when the buffer is not a whole number of rows.
    pub fn from_sorted(words: usize, data: Vec<u64>) -> Option<PatternSet> {
        if words == 0 {
            return data.is_empty().then(|| PatternSet::new(0));
        }
        if data.len() % words != 0 {
            return None;
        }
        let ascending = data
            .chunks_exact(words)
            .zip(data.chunks_exact(words).skip(1))
            .all(|(a, b)| a < b);
        ascending.then_some(PatternSet { words, data })
    }

    /// Words per pattern.
    pub fn words(&self) -> usize {
        self.words
    }

    /// Number of distinct patterns.
    pub fn len(&self) -> usize {
        self.data.len().checked_div(self.words).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// Pattern `i`.
    pub fn get(&self, i: usize) -> Option<&[u64]> {
        let start = i.checked_mul(self.words)?;
        self.data.get(start..start.checked_add(self.words)?)
    }

    /// All patterns, in ascending order.
    pub fn iter(&self) -> impl Iterator<Item = &[u64]> {
        self.data.chunks_exact(self.words.max(1))
    }

    /// The flat `len × words` buffer.
    pub fn as_words(&self) -> &[u64] {
        &self.data
    }

    /// Whether `pattern` was recorded (binary search).
    pub fn contains(&self, pattern: &[u64]) -> bool {
        self.position(pattern).is_some()
    }

    fn position(&self, pattern: &[u64]) -> Option<usize> {
        if pattern.len() != self.words {
            return None;
        }
        let (mut lo, mut hi) = (0, self.len());
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            match self.get(mid)?.cmp(pattern) {
                Ordering::Less => lo = mid + 1,
                Ordering::Greater => hi = mid,
                Ordering::Equal => return Some(mid),
            }
        }
        None
    }

    /// The recorded pattern nearest to `pattern` in Hamming distance (the first such row on ties); `None` for
    /// an empty set or a pattern of another width.
    pub fn nearest(&self, pattern: &[u64]) -> Option<Nearest> {
        if pattern.len() != self.words || self.is_empty() {
            return None;
        }
        if let Some(index) = self.position(pattern) {
            return Some(Nearest { index, distance: 0 });
        }
        // Distances first, minimum second: the first loop has no data-dependent branch, so the compiler can
        // vectorise it; the common widths get a fixed-size inner loop.
        let distances: Vec<u32> = match self.words {
            1 => distances::<1>(&self.data, pattern),
            2 => distances::<2>(&self.data, pattern),
            3 => distances::<3>(&self.data, pattern),
            _ => self.iter().map(|row| hamming(row, pattern)).collect(),
        };
        let mut best = Nearest {
            index: 0,
            distance: u32::MAX,
        };
        for (index, &distance) in distances.iter().enumerate() {
            if distance < best.distance {
                best = Nearest { index, distance };
            }
        }
        Some(best)
    }
}

/// Hamming distance of every `W`-word row of `data` to `pattern` (a shorter pattern is padded with zeros;
/// [`PatternSet::nearest`] only calls this with `pattern.len() == W`).
fn distances<const W: usize>(data: &[u64], pattern: &[u64]) -> Vec<u32> {
    let mut query = [0u64; W];
    for (q, &p) in query.iter_mut().zip(pattern) {
        *q = p;
    }
    data.chunks_exact(W)
        .map(|row| {
            let mut d = 0;
            for k in 0..W {
                d += (row[k] ^ query[k]).count_ones();
            }
            d
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pack_sets_bit_i_of_word_i_over_64_for_positive_values() {
        let mut values = vec![0.0f32; 70];
        values[0] = 0.5;
        values[3] = 2.0;
        values[63] = 1e-30;
        values[64] = 1.0;
        values[69] = 3.0;
        values[5] = -1.0;
        values[6] = f32::NAN;
        let words = pack(&values);
        assert_eq!(words, vec![(1 << 0) | (1 << 3) | (1 << 63), 1 | (1 << 5)]);
        let bits = unpack(&words, 70);
        let on: Vec<usize> = (0..70).filter(|&i| bits[i] == 1).collect();
        assert_eq!(on, vec![0, 3, 63, 64, 69]);
        assert!(pack(&[]).is_empty());
    }

    #[test]
    fn hamming_counts_differing_bits_across_words() {
        assert_eq!(hamming(&[0b1011, 0], &[0b0001, 0]), 2);
        assert_eq!(hamming(&[u64::MAX, 1], &[0, 0]), 65);
        assert_eq!(hamming(&[7, 7], &[7, 7]), 0);
    }

    #[test]
    fn sets_are_sorted_deduplicated_and_search_exactly() {
        let set = PatternSet::from_rows(2, &[5, 1, 0, 9, 5, 1, 0, 2, 5, 0]);
        assert_eq!(set.len(), 4);
        assert_eq!(set.as_words(), &[0, 2, 0, 9, 5, 0, 5, 1]);
        assert!(set.contains(&[0, 9]));
        assert!(!set.contains(&[0, 3]));
        assert!(!set.contains(&[0]));
        assert_eq!(
            set.nearest(&[5, 1]),
            Some(Nearest {
                index: 3,
                distance: 0
            })
        );
        // [0, 11] differs from [0, 9] in one bit (bit 1), from [0, 2] in two (bits 0 and 3).
        assert_eq!(
            set.nearest(&[0, 11]),
            Some(Nearest {
                index: 1,
                distance: 1
            })
        );
        assert_eq!(PatternSet::new(2).nearest(&[0, 0]), None);
        assert_eq!(set.nearest(&[0, 0, 0]), None);
        assert!(PatternSet::from_sorted(2, vec![0, 2, 0, 9]).is_some());
        assert!(PatternSet::from_sorted(2, vec![0, 9, 0, 2]).is_none());
        assert!(PatternSet::from_sorted(2, vec![0, 9, 0, 9]).is_none());
        assert!(PatternSet::from_sorted(2, vec![0, 9, 0]).is_none());
    }
}
