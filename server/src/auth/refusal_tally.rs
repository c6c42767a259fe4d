//! Audit of rate-limited attempts without a row per attempt: under a flood (measured
//! at 13,000 refusals a second, bench/README.md) one audit row each would turn the
//! limit into a write load on the database and bury the log. The first refusal per
//! source address is audited at once; the rest are counted here and written as one
//! summary row per address every minute, so every attempt is still accounted for.

use std::{collections::HashMap, sync::Mutex};

/// Addresses tracked at most; beyond them, counts go to one "other addresses" entry.
const MAX_SOURCES: usize = 10_000;
const OTHER: &str = "(other addresses)";

/// Counts per source: refusals since the last flush and the last ID tried.
#[derive(Default)]
pub struct RefusalTally {
    sources: Mutex<HashMap<String, (u64, String)>>,
}

/// One summary row to write.
pub struct Summary {
    pub source: String,
    pub count: u64,
    pub last_user: String,
}

impl RefusalTally {
    /// Records a refusal; `true` when it is the first from `source` since the last
    /// flush (audit it now), `false` when it was counted for the summary.
    pub fn record(&self, source: &str, user: &str) -> bool {
        let mut sources = self
            .sources
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((count, last)) = sources.get_mut(source) {
            *count += 1;
            if last.as_str() != user {
                last.clear();
                last.push_str(user);
            }
            return false;
        }
        if sources.len() >= MAX_SOURCES {
            let entry = sources.entry(OTHER.to_string()).or_default();
            entry.0 += 1;
            entry.1 = user.to_string();
            return false;
        }
        sources.insert(source.to_string(), (0, user.to_string()));
        true
    }

    /// Takes the counts gathered since the last flush (sources with more than the
    /// first refusal only).
    pub fn flush(&self) -> Vec<Summary> {
        let taken = std::mem::take(
            &mut *self
                .sources
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        taken
            .into_iter()
            .filter(|(_, (count, _))| *count > 0)
            .map(|(source, (count, last_user))| Summary {
                source,
                count,
                last_user,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_refusal_per_source_is_audited_the_rest_counted() {
        let tally = RefusalTally::default();
        assert!(tally.record("10.0.0.1", "a"));
        assert!(!tally.record("10.0.0.1", "b"));
        assert!(!tally.record("10.0.0.1", "c"));
        assert!(tally.record("10.0.0.2", "a"));
        let mut summaries = tally.flush();
        assert_eq!(summaries.len(), 1, "10.0.0.2 had only its first");
        let s = summaries.remove(0);
        assert_eq!(
            (s.source.as_str(), s.count, s.last_user.as_str()),
            ("10.0.0.1", 2, "c")
        );
        // After a flush, the next refusal is a first again.
        assert!(tally.record("10.0.0.1", "d"));
    }

    #[test]
    fn memory_is_bounded_under_a_spray_of_addresses() {
        let tally = RefusalTally::default();
        for i in 0..(MAX_SOURCES + 500) {
            tally.record(&format!("s{i}"), "x");
        }
        let summaries = tally.flush();
        let other = summaries
            .iter()
            .find(|s| s.source == OTHER)
            .expect("overflow entry");
        assert_eq!(other.count, 500);
    }
}
