//! One verify at a time per challenge, in this process. A verify checks its answer
//! before it consumes the grid (see `login::finish_login_with_session`); without this,
//! a client could send many answers to one open grid at once and have every one
//! checked — each a TOTP code tried, or an additional phrase hashed — while only one
//! consumes the grid and takes a place in the lock-out count. The second of two at
//! once is told the grid is used, as it would be a moment later.

use std::{
    collections::HashSet,
    sync::{Mutex, MutexGuard, PoisonError},
};

#[derive(Default)]
pub struct InFlight {
    ids: Mutex<HashSet<String>>,
}

/// Held while a challenge is verified; lets the next one in when dropped.
pub struct Verifying<'a> {
    set: &'a InFlight,
    id: String,
}

impl InFlight {
    /// `None` when another verify of `challenge_id` is under way here.
    pub fn enter(&self, challenge_id: &str) -> Option<Verifying<'_>> {
        self.lock()
            .insert(challenge_id.to_owned())
            .then(|| Verifying {
                set: self,
                id: challenge_id.to_owned(),
            })
    }

    fn lock(&self) -> MutexGuard<'_, HashSet<String>> {
        self.ids.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Verifying<'_> {
    fn drop(&mut self) {
        self.set.lock().remove(&self.id);
    }
}

#[cfg(test)]
mod tests {
    use super::InFlight;

    #[test]
    fn a_second_verify_of_one_challenge_waits_for_none_and_gets_none() {
        let set = InFlight::default();
        let first = set.enter("c1").expect("first");
        assert!(set.enter("c1").is_none());
        assert!(
            set.enter("c2").is_some(),
            "other challenges are not held up"
        );
        drop(first);
        assert!(
            set.enter("c1").is_some(),
            "free again once the first is done"
        );
    }
}
