//! The grid: a table of random digits made of 4×4 blocks (SPEC §1.1), derived from a
//! 256-bit seed by ChaCha20 (SPEC §1.4). The same code runs on the server (which
//! verifies) and in the browser (which renders), so both always see the same digits.

use rand_chacha::ChaCha20Rng;
use rand_core::{RngCore, SeedableRng};

/// Side of a block, in cells.
pub const BLOCK_SIDE: usize = 4;

/// How many 4×4 blocks a grid has across and down (policy: 1–4 across, 1–2 down).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GridShape {
    pub blocks_across: u8,
    pub blocks_down: u8,
}

impl Default for GridShape {
    /// 4 rows × 12 columns: three blocks side by side, 48 cells.
    fn default() -> Self {
        GridShape {
            blocks_across: 3,
            blocks_down: 1,
        }
    }
}

impl GridShape {
    /// A shape within the policy's limits, or `None`.
    pub fn new(blocks_across: u8, blocks_down: u8) -> Option<GridShape> {
        ((1..=4).contains(&blocks_across) && (1..=2).contains(&blocks_down)).then_some(GridShape {
            blocks_across,
            blocks_down,
        })
    }
    pub fn rows(self) -> usize {
        usize::from(self.blocks_down) * BLOCK_SIDE
    }
    pub fn cols(self) -> usize {
        usize::from(self.blocks_across) * BLOCK_SIDE
    }
    pub fn cells(self) -> usize {
        self.rows() * self.cols()
    }
    /// The block (numbered row-major) that holds `cell` (numbered row-major from 0).
    pub fn block_of(self, cell: usize) -> usize {
        let (row, col) = (cell / self.cols(), cell % self.cols());
        (row / BLOCK_SIDE) * usize::from(self.blocks_across) + col / BLOCK_SIDE
    }
}

/// A grid seed: 32 bytes from the OS CSPRNG, one per login attempt.
pub type Seed = [u8; 32];

/// The digits of the grid for `seed`, row-major, each uniform over 0–9.
pub fn digits_from_seed(seed: &Seed, shape: GridShape) -> Vec<u8> {
    let mut rng = ChaCha20Rng::from_seed(*seed);
    (0..shape.cells())
        .map(|_| uniform_digit(&mut rng))
        .collect()
}

/// Rejection sampling keeps the digits exactly uniform: 2^32 is not a multiple of 10,
/// so the top 6 values of a u32 would favour 0–5 very slightly.
fn uniform_digit(rng: &mut ChaCha20Rng) -> u8 {
    const LIMIT: u32 = u32::MAX - (u32::MAX % 10) - 1; // 4_294_967_289: 429_496_729 full tens
    loop {
        let x = rng.next_u32();
        if x <= LIMIT {
            return (x % 10) as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_digits() {
        let seed = [7u8; 32];
        assert_eq!(
            digits_from_seed(&seed, GridShape::default()),
            digits_from_seed(&seed, GridShape::default())
        );
        let mut other = seed;
        other[31] ^= 1;
        assert_ne!(
            digits_from_seed(&seed, GridShape::default()),
            digits_from_seed(&other, GridShape::default())
        );
    }

    #[test]
    fn shapes_and_blocks() {
        let s = GridShape::default();
        assert_eq!((s.rows(), s.cols(), s.cells()), (4, 12, 48));
        assert_eq!(s.block_of(0), 0);
        assert_eq!(s.block_of(4), 1);
        assert_eq!(s.block_of(47), 2);
        let big = GridShape::new(4, 2).unwrap();
        assert_eq!(big.cells(), 128);
        assert_eq!(big.block_of(16 * 4), 4);
        assert_eq!(big.block_of(127), 7);
        assert!(GridShape::new(5, 1).is_none());
        assert!(GridShape::new(1, 3).is_none());
        assert!(GridShape::new(0, 1).is_none());
    }

    #[test]
    fn digits_are_uniform_chi_square() {
        // 2,000 grids × 48 cells; 9 degrees of freedom: 27.88 is the 0.001 critical
        // value, so a correct generator fails this about once in a thousand seeds sets.
        let mut counts = [0u64; 10];
        for i in 0u32..2000 {
            let mut seed = [0u8; 32];
            seed[..4].copy_from_slice(&i.to_le_bytes());
            for d in digits_from_seed(&seed, GridShape::default()) {
                counts[usize::from(d)] += 1;
            }
        }
        let n: u64 = counts.iter().sum();
        let expected = n as f64 / 10.0;
        let chi2: f64 = counts
            .iter()
            .map(|&c| (c as f64 - expected).powi(2) / expected)
            .sum();
        assert!(chi2 < 27.88, "chi-square {chi2} over {counts:?}");
    }
}
