//! Patterns at rest: sealed with the master key, bound to their user (the user ID is
//! part of the associated data, so a sealed pattern moved to another user's row does
//! not open). Cleartext cells live in `Zeroizing` buffers and are never logged.

use app::{
    grid::GridShape,
    pattern::{check_pattern, PatternRules},
};
use zeroize::Zeroizing;

use super::OtpError;
use crate::random::os_random;
use crate::{
    master_key::MasterKey,
    store::{patterns::NewInitialPattern, Store},
};

/// How long an initial pattern stays valid (SPEC §1.7, policy default 14 days).
pub const INITIAL_PATTERN_DAYS: i64 = 14;
/// Length of generated initial patterns: short enough to print with one digit per cell.
const INITIAL_PATTERN_LEN: usize = 6;
/// How many earlier patterns a new one may not repeat (SPEC §1.2, N = 3).
pub const HISTORY_DEPTH: i64 = 3;

fn purpose(user_id: &str) -> String {
    format!("pattern:{user_id}")
}

pub fn seal_pattern(key: &MasterKey, user_id: &str, cells: &[u16]) -> Result<Vec<u8>, OtpError> {
    let bytes: Zeroizing<Vec<u8>> =
        Zeroizing::new(cells.iter().flat_map(|c| c.to_le_bytes()).collect());
    Ok(key.seal(&bytes, &purpose(user_id))?)
}

pub fn open_pattern(
    key: &MasterKey,
    user_id: &str,
    sealed: &[u8],
) -> Result<Zeroizing<Vec<u16>>, OtpError> {
    let bytes = key.open(sealed, &purpose(user_id))?;
    Ok(Zeroizing::new(
        bytes
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect(),
    ))
}

/// A fresh initial pattern for a new account: the cells in clear (to show once) and
/// sealed for storage with its expiry, stored by the caller together with the account.
pub fn new_initial_pattern(
    key: &MasterKey,
    user_id: &str,
    shape: GridShape,
    rules: &PatternRules,
    now: i64,
) -> Result<(Zeroizing<Vec<u16>>, NewInitialPattern), OtpError> {
    let cells = generate_initial_pattern(shape, rules)?;
    let sealed = NewInitialPattern {
        sealed: seal_pattern(key, user_id, &cells)?,
        key_id: key.id_hex(),
        expires_at: now + INITIAL_PATTERN_DAYS * 24 * 3600,
    };
    Ok((cells, sealed))
}

/// A random initial pattern: distinct cells that pass `rules`.
pub fn generate_initial_pattern(
    shape: GridShape,
    rules: &PatternRules,
) -> Result<Zeroizing<Vec<u16>>, OtpError> {
    let len = INITIAL_PATTERN_LEN.clamp(rules.min_len, rules.max_len.max(rules.min_len));
    let cells = shape.cells() as u32;
    // Rejection sampling over u32 keeps every cell equally likely.
    let limit = u32::MAX - (u32::MAX % cells);
    for _ in 0..1000 {
        let mut picked: Zeroizing<Vec<u16>> = Zeroizing::new(Vec::with_capacity(len));
        while picked.len() < len {
            let mut b = [0u8; 4];
            os_random(&mut b)?;
            let x = u32::from_le_bytes(b);
            if x >= limit {
                continue;
            }
            let cell = (x % cells) as u16;
            if !picked.contains(&cell) {
                picked.push(cell);
            }
        }
        if check_pattern(&picked, shape, rules).is_empty() {
            return Ok(picked);
        }
    }
    Err(OtpError::Rules(
        "no initial pattern satisfies the policy's rules".into(),
    ))
}

/// The pattern rules of a user's policy, on the installation's grid.
#[derive(Clone, Copy, Debug)]
pub struct PatternPolicy<'a> {
    pub shape: GridShape,
    pub rules: &'a PatternRules,
}

/// Checks `cells` against the rules and, for a user's own choice, against the
/// current and last patterns.
pub async fn check_new_pattern(
    store: &Store,
    key: &MasterKey,
    user_id: &str,
    cells: &[u16],
    policy: PatternPolicy<'_>,
    is_initial: bool,
) -> Result<(), OtpError> {
    let violations = check_pattern(cells, policy.shape, policy.rules);
    if !violations.is_empty() {
        let codes: Vec<&str> = violations.iter().map(|v| v.code()).collect();
        return Err(OtpError::Rules(codes.join(", ")));
    }
    if store.user(user_id).await?.is_none() {
        return Err(OtpError::NoSuchUser);
    }
    if !is_initial {
        let mut earlier = store.pattern_history(user_id, HISTORY_DEPTH).await?;
        if let Some(current) = store.pattern(user_id).await? {
            earlier.push(current.sealed);
        }
        for sealed in earlier {
            if open_pattern(key, user_id, &sealed)?.as_slice() == cells {
                return Err(OtpError::Rules("reused".into()));
            }
        }
    }
    Ok(())
}

/// Checks `cells` (see [`check_new_pattern`]) and stores it sealed.
pub async fn store_pattern(
    store: &Store,
    key: &MasterKey,
    user_id: &str,
    cells: &[u16],
    policy: PatternPolicy<'_>,
    is_initial: bool,
    now: i64,
) -> Result<(), OtpError> {
    check_new_pattern(store, key, user_id, cells, policy, is_initial).await?;
    let sealed = seal_pattern(key, user_id, cells)?;
    let expires_at = is_initial.then_some(now + INITIAL_PATTERN_DAYS * 24 * 3600);
    store
        .set_pattern(user_id, &sealed, &key.id_hex(), is_initial, expires_at, now)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MasterKey {
        MasterKey::load_or_create(std::path::Path::new("/nonexistent"), Some(&"11".repeat(32)))
            .unwrap()
            .0
    }

    #[test]
    fn sealed_patterns_open_only_for_their_user() {
        let k = key();
        let sealed = seal_pattern(&k, "alice", &[1, 2, 40, 40, 7]).unwrap();
        assert_eq!(
            open_pattern(&k, "alice", &sealed).unwrap().as_slice(),
            &[1, 2, 40, 40, 7]
        );
        assert!(open_pattern(&k, "bob", &sealed).is_err());
    }

    #[test]
    fn initial_patterns_are_valid_distinct_and_vary() {
        let shape = GridShape::default();
        let rules = PatternRules::default();
        let a = generate_initial_pattern(shape, &rules).unwrap();
        let b = generate_initial_pattern(shape, &rules).unwrap();
        assert_eq!(a.len(), 6);
        assert!(check_pattern(&a, shape, &rules).is_empty());
        let mut sorted = a.to_vec();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 6, "distinct cells");
        assert_ne!(a.as_slice(), b.as_slice());
    }
}
