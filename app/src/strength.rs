//! How strong a pattern is (issue #3): how many patterns of its length exist, and how
//! many remain plausible to someone who watched k logins (each a grid and the OTP
//! typed on it).
//!
//! Watching one login, a candidate pattern survives when the grid shows the observed
//! digit at every one of its positions. A position where the candidate uses the true
//! cell always matches; any other cell matches with probability 1/10. Treating the
//! positions as independent (cells coinciding across positions only matters for a
//! tiny share of candidates; the brute-force test bounds the error), the expected
//! number of surviving candidates after k observed logins is
//!
//! ```text
//! E_k = (1 + (N − 1) · 10^−k)^L        (N cells, pattern length L)
//! ```
//!
//! so E_0 = N^L (all patterns) and E_k → 1 (only the true one) as k grows. For a
//! true pattern that repeats a cell the estimate is low (more candidates survive,
//! e.g. 19.8 instead of 15.6 for N = 16, L = 3, k = 1), so it errs on the safe side.

/// Number of possible patterns of length `len` on `cells` cells (repeats allowed).
pub fn possible_patterns(cells: usize, len: usize) -> f64 {
    (cells as f64).powi(len as i32)
}

/// log2 of [`possible_patterns`]: the strength in bits against blind guessing.
pub fn strength_bits(cells: usize, len: usize) -> f64 {
    len as f64 * (cells as f64).log2()
}

/// Expected number of patterns (the true one included) consistent with `observed`
/// (grid, OTP) pairs.
pub fn expected_candidates(cells: usize, len: usize, observed: u32) -> f64 {
    (1.0 + (cells as f64 - 1.0) * 10f64.powi(-(observed as i32))).powi(len as i32)
}

/// How a pattern's strength is told to people: by what one watched sign-in leaves an
/// onlooker (about 34,000 candidates for 6 cells of the 48-cell grid: fair).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strength {
    Weak,
    Fair,
    Strong,
}

impl Strength {
    pub fn of(cells: usize, len: usize) -> Strength {
        let after_one = expected_candidates(cells, len, 1);
        if after_one < 10_000.0 {
            Strength::Weak
        } else if after_one < 1_000_000.0 {
            Strength::Fair
        } else {
            Strength::Strong
        }
    }

    /// The stable name (a CSS class and a test hook).
    pub fn code(self) -> &'static str {
        match self {
            Strength::Weak => "weak",
            Strength::Fair => "fair",
            Strength::Strong => "strong",
        }
    }
}

/// A count rounded to two significant digits ("about 34,000"): more digits would
/// claim a precision the estimate does not have.
pub fn rounded(n: f64) -> u64 {
    if n < 100.0 {
        return n.round().max(0.0) as u64;
    }
    let scale = 10f64.powi(n.log10().floor() as i32 - 1);
    ((n / scale).round() * scale) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rank of the constraints "grid[c_i] == grid[t_i]": cells joined by a constraint
    /// must hold the same digit; each joined pair of groups costs a factor 10.
    fn constraint_rank(c: &[usize], t: &[usize], cells: usize) -> u32 {
        let mut parent: Vec<usize> = (0..cells).collect();
        fn find(p: &mut [usize], x: usize) -> usize {
            let mut r = x;
            while p[r] != r {
                r = p[r];
            }
            p[x] = r;
            r
        }
        let mut rank = 0;
        for (&a, &b) in c.iter().zip(t) {
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            if ra != rb {
                parent[ra] = rb;
                rank += 1;
            }
        }
        rank
    }

    /// Exact expectation over uniformly random grids: Σ over all candidates of
    /// P(candidate consistent with k observations) = Σ 10^(−k·rank).
    fn brute_force(cells: usize, truth: &[usize], k: u32) -> f64 {
        let len = truth.len();
        let total = cells.pow(len as u32);
        let mut sum = 0.0;
        let mut c = vec![0usize; len];
        for mut n in 0..total {
            for slot in c.iter_mut() {
                *slot = n % cells;
                n /= cells;
            }
            let r = constraint_rank(&c, truth, cells);
            sum += 10f64.powi(-((k * r) as i32));
        }
        sum
    }

    #[test]
    fn repeated_cells_leave_more_candidates_than_estimated() {
        let exact = brute_force(16, &[3, 3, 12], 1);
        assert!(exact > expected_candidates(16, 3, 1), "{exact}");
    }

    #[test]
    fn rounded_to_two_digits() {
        assert_eq!(rounded(6016.9), 6000);
        assert_eq!(rounded(34_296.0), 34_000);
        assert_eq!(rounded(195_489.6), 200_000);
        assert_eq!(rounded(57.4), 57);
    }

    #[test]
    fn strength_words_follow_the_cell_count() {
        assert_eq!(Strength::of(48, 4), Strength::Weak);
        assert_eq!(Strength::of(48, 5), Strength::Weak);
        assert_eq!(Strength::of(48, 6), Strength::Fair);
        assert_eq!(Strength::of(48, 7), Strength::Fair);
        assert_eq!(Strength::of(48, 8), Strength::Strong);
        assert_eq!(Strength::of(16, 8), Strength::Weak);
    }

    #[test]
    fn counts_and_bits() {
        assert_eq!(possible_patterns(48, 6), 48f64.powi(6));
        assert!((strength_bits(48, 6) - 33.51).abs() < 0.01);
        assert_eq!(expected_candidates(48, 6, 0), possible_patterns(48, 6));
        assert!(expected_candidates(48, 6, 10) < 1.0001);
    }

    #[test]
    fn formula_matches_brute_force_on_small_grids() {
        // One 4×4 block (16 cells) and the default 48-cell grid; k = 1, 2, 3 observed
        // logins. Coincidences between cells matter less as the grid grows.
        let cases = [
            (16usize, vec![0usize, 5, 10], 0.10),
            (16, vec![15, 2, 9], 0.10),
            (16, vec![1, 6, 11, 14], 0.10),
            (48, vec![7, 30, 41], 0.03),
            (48, vec![0, 13, 26], 0.03),
        ];
        for (cells, truth, tolerance) in cases {
            for k in 1..=3 {
                let exact = brute_force(cells, &truth, k);
                let formula = expected_candidates(cells, truth.len(), k);
                let err = (formula - exact).abs() / exact;
                assert!(
                    err < tolerance,
                    "N={cells} t={truth:?} k={k}: formula {formula:.3} vs exact {exact:.3}"
                );
            }
        }
    }
}
