//! Rate limits per source address and per user ID (SPEC §6.2), so that guessing is
//! slowed both from one address across many IDs and against one ID from many addresses.
//!
//! The counters live in memory, per server process, so the check costs no database
//! round trip. In a cluster of N live servers (counted from their heartbeats,
//! `cluster`) each server allows 1/N of every budget: a key's unit refills N times
//! slower and its burst is N times smaller, so an attacker spread over the servers
//! (as a load balancer spreads it) gets the configured budget, not N times it. The
//! lock-out counters (SPEC §6.1) are in the database and are what all servers share.
//!
//! Algorithm: GCRA (a token bucket kept as one "theoretical arrival time" per key). A
//! key whose TAT is in the past has a full bucket, exactly like a key never seen, so
//! such entries are dropped freely to keep memory bounded.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};

use crate::policy::Rate;
use std::net::IpAddr;
use std::sync::{
    atomic::{AtomicU32, Ordering},
    Mutex, MutexGuard, PoisonError,
};

/// Shards per table, so concurrent logins rarely wait on one lock.
const SHARDS: usize = 16;
/// Keys one shard tracks at most (16 shards: 262,144 keys, about 13 MB per table).
const MAX_KEYS_PER_SHARD: usize = 16_384;
/// A full shard drops expired keys at most this often, so a spray cannot make every
/// request scan the shard.
const SWEEP_EVERY_US: i64 = 1_000_000;
const MICROS_PER_MINUTE: i64 = 60_000_000;
const MICROS_PER_SEC: i64 = 1_000_000;

/// Whether an attempt may go ahead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allowed,
    /// Refused; the client may retry after this many seconds (at least 1).
    Limited {
        retry_after_secs: u64,
    },
}

/// The per-source and per-user limits of one server process.
pub struct RateLimits {
    per_source: Option<Table<SourceKey>>,
    per_user: Option<Table<u64>>,
    /// Keyed with a per-process random key, so nobody can choose IDs that collide.
    user_hasher: RandomState,
    /// Servers sharing the budgets (1 alone).
    servers: AtomicU32,
}

impl RateLimits {
    /// Limits with the given rates (a zero rate turns that kind of limit off).
    pub fn new(per_source: Rate, per_user: Rate) -> Self {
        RateLimits {
            per_source: Gcra::from_rate(per_source).map(Table::new),
            per_user: Gcra::from_rate(per_user).map(Table::new),
            user_hasher: RandomState::new(),
            servers: AtomicU32::new(1),
        }
    }

    /// Sets how many servers share the budgets: each allows 1/`servers` of them.
    pub fn set_servers(&self, servers: u32) {
        self.servers.store(servers.max(1), Ordering::Relaxed);
    }

    /// Charges one attempt to the source and to the user, or refuses it.
    ///
    /// A refused attempt charges neither: otherwise an attacker already limited by its
    /// source could keep draining the victim's user bucket (locking the real user out).
    pub fn check(&self, source: IpAddr, user: &str, now_ms: i64) -> Decision {
        let now = now_ms.saturating_mul(1000);
        let servers = i64::from(self.servers.load(Ordering::Relaxed).max(1));
        let source_key = SourceKey::of(source);
        // Hashing the ID is skipped when the user limit is off.
        let user_key = self.per_user.as_ref().map_or(0, |_| self.user_key(user));
        // Source shard before user shard, everywhere: a fixed order cannot deadlock.
        let mut source_shard = self
            .per_source
            .as_ref()
            .map(|table| (table.gcra.share_of(servers), table.shard(&source_key)));
        let mut user_shard = self
            .per_user
            .as_ref()
            .map(|table| (table.gcra.share_of(servers), table.shard(&user_key)));

        let source_tat = source_shard
            .as_mut()
            .map(|(gcra, shard)| shard.next_tat(gcra, &source_key, now));
        let user_tat = user_shard
            .as_mut()
            .map(|(gcra, shard)| shard.next_tat(gcra, &user_key, now));

        let wait = [&source_tat, &user_tat]
            .into_iter()
            .filter_map(|verdict| match verdict {
                Some(Err(wait)) => Some(*wait),
                _ => None,
            })
            .max();
        if let Some(wait_us) = wait {
            return Decision::Limited {
                retry_after_secs: retry_after_secs(wait_us),
            };
        }
        if let (Some((_, shard)), Some(Ok(tat))) = (source_shard.as_mut(), source_tat) {
            shard.tats.insert(source_key, tat);
        }
        if let (Some((_, shard)), Some(Ok(tat))) = (user_shard.as_mut(), user_tat) {
            shard.tats.insert(user_key, tat);
        }
        Decision::Allowed
    }

    /// Drops keys whose bucket is full again (call periodically).
    pub fn prune(&self, now_ms: i64) {
        let now = now_ms.saturating_mul(1000);
        if let Some(table) = &self.per_source {
            table.prune(now);
        }
        if let Some(table) = &self.per_user {
            table.prune(now);
        }
    }

    /// Keys tracked, sources and users together.
    pub fn len(&self) -> usize {
        self.per_source.as_ref().map_or(0, Table::len)
            + self.per_user.as_ref().map_or(0, Table::len)
    }

    /// Whether no key is tracked.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// User IDs compare case-insensitively; only a hash is kept, so memory per key is fixed.
    fn user_key(&self, user: &str) -> u64 {
        let mut hasher = self.user_hasher.build_hasher();
        for c in user.chars().flat_map(char::to_lowercase) {
            hasher.write_u32(u32::from(c));
        }
        hasher.finish()
    }
}

/// What a source is limited by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum SourceKey {
    V4(u32),
    /// The /64 prefix: one IPv6 host is usually given a whole /64.
    V6Net(u64),
}

impl SourceKey {
    fn of(ip: IpAddr) -> SourceKey {
        match ip {
            IpAddr::V4(v4) => SourceKey::V4(u32::from(v4)),
            // An IPv4 peer may arrive as an IPv4-mapped IPv6 address on a dual-stack socket.
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => SourceKey::V4(u32::from(v4)),
                None => SourceKey::V6Net((u128::from(v6) >> 64) as u64),
            },
        }
    }
}

/// One rate in GCRA terms, in microseconds.
#[derive(Clone, Copy, Debug)]
struct Gcra {
    /// Time one attempt's unit takes to refill.
    interval: i64,
    /// How far ahead of now the TAT may run: the bucket size.
    capacity: i64,
}

impl Gcra {
    fn from_rate(rate: Rate) -> Option<Gcra> {
        if rate.burst == 0 || rate.per_minute == 0 {
            return None;
        }
        let interval = (MICROS_PER_MINUTE / i64::from(rate.per_minute)).max(1);
        Some(Gcra {
            interval,
            capacity: interval.saturating_mul(i64::from(rate.burst)),
        })
    }
}

impl Gcra {
    /// One server's share when `servers` share the rate: each unit takes `servers`
    /// times longer to come back and the bucket holds 1/`servers` of the burst (the
    /// capacity in time stays the same).
    fn share_of(self, servers: i64) -> Gcra {
        Gcra {
            interval: self.interval.saturating_mul(servers.max(1)),
            capacity: self.capacity,
        }
    }
}

/// A sharded map from key to TAT.
struct Table<K> {
    gcra: Gcra,
    shards: Vec<Mutex<Shard<K>>>,
    hasher: RandomState,
}

impl<K: Hash + Eq> Table<K> {
    fn new(gcra: Gcra) -> Self {
        Table {
            gcra,
            shards: (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect(),
            hasher: RandomState::new(),
        }
    }

    fn shard(&self, key: &K) -> MutexGuard<'_, Shard<K>> {
        let index = (self.hasher.hash_one(key) % SHARDS as u64) as usize;
        lock(&self.shards[index])
    }

    fn prune(&self, now: i64) {
        for shard in &self.shards {
            lock(shard).drop_expired(now);
        }
    }

    fn len(&self) -> usize {
        self.shards.iter().map(|shard| lock(shard).tats.len()).sum()
    }
}

/// A panic elsewhere cannot leave a map of plain integers half-updated, so a poisoned
/// lock is still safe to use.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

struct Shard<K> {
    tats: HashMap<K, i64>,
    last_sweep: i64,
}

impl<K> Default for Shard<K> {
    fn default() -> Self {
        Shard {
            tats: HashMap::new(),
            last_sweep: i64::MIN,
        }
    }
}

impl<K: Hash + Eq> Shard<K> {
    /// The key's TAT after one more attempt, or the wait (µs) until one is allowed.
    /// Changes nothing: the caller stores the TAT only if every bucket allows it.
    fn next_tat(&mut self, gcra: &Gcra, key: &K, now: i64) -> Result<i64, i64> {
        let stored = match self.tats.get(key) {
            Some(tat) => *tat,
            None => {
                if self.tats.len() >= MAX_KEYS_PER_SHARD
                    && now.saturating_sub(self.last_sweep) >= SWEEP_EVERY_US
                {
                    self.drop_expired(now);
                }
                if self.tats.len() >= MAX_KEYS_PER_SHARD {
                    // Fail closed for new keys under an extreme spray: admitting untracked
                    // keys would make filling the table a way around the limit, while
                    // keys already tracked (and expiring ones, after a sweep) carry on.
                    return Err(MICROS_PER_SEC);
                }
                now
            }
        };
        let tat = stored.max(now).saturating_add(gcra.interval);
        let ahead = tat.saturating_sub(now);
        if ahead > gcra.capacity {
            Err(ahead - gcra.capacity)
        } else {
            Ok(tat)
        }
    }

    fn drop_expired(&mut self, now: i64) {
        self.tats.retain(|_, tat| *tat > now);
        self.last_sweep = now;
    }
}

/// Whole seconds, rounded up, at least 1 (a Retry-After of 0 invites an instant retry).
fn retry_after_secs(wait_us: i64) -> u64 {
    let secs = wait_us.saturating_add(MICROS_PER_SEC - 1) / MICROS_PER_SEC;
    u64::try_from(secs).unwrap_or(1).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    const OFF: Rate = Rate {
        burst: 0,
        per_minute: 0,
    };

    #[test]
    fn burst_is_allowed_then_limited_with_retry_after() {
        // One unit every 10 s, three at once.
        let limits = RateLimits::new(
            Rate {
                burst: 3,
                per_minute: 6,
            },
            OFF,
        );
        let source = ip("192.0.2.1");
        for _ in 0..3 {
            assert_eq!(limits.check(source, "alice", 0), Decision::Allowed);
        }
        assert_eq!(
            limits.check(source, "alice", 0),
            Decision::Limited {
                retry_after_secs: 10
            }
        );
        // 0.5 s left rounds up to 1.
        assert_eq!(
            limits.check(source, "alice", 9_500),
            Decision::Limited {
                retry_after_secs: 1
            }
        );
        assert_eq!(limits.check(source, "alice", 10_000), Decision::Allowed);
        assert!(matches!(
            limits.check(source, "alice", 10_000),
            Decision::Limited { .. }
        ));
    }

    #[test]
    fn buckets_refill_as_time_passes() {
        let limits = RateLimits::new(
            Rate {
                burst: 3,
                per_minute: 6,
            },
            OFF,
        );
        let source = ip("192.0.2.1");
        for _ in 0..3 {
            assert_eq!(limits.check(source, "a", 0), Decision::Allowed);
        }
        assert_ne!(limits.check(source, "a", 0), Decision::Allowed);
        // After 30 s the whole burst is back, and no more.
        for _ in 0..3 {
            assert_eq!(limits.check(source, "a", 30_000), Decision::Allowed);
        }
        assert_ne!(limits.check(source, "a", 30_000), Decision::Allowed);
    }

    #[test]
    fn many_ids_from_one_address_hit_the_source_limit() {
        let rate = Rate {
            burst: 5,
            per_minute: 5,
        };
        let limits = RateLimits::new(rate, rate);
        let source = ip("198.51.100.7");
        for n in 0..5 {
            assert_eq!(
                limits.check(source, &format!("user{n}"), 0),
                Decision::Allowed
            );
        }
        assert!(matches!(
            limits.check(source, "user99", 0),
            Decision::Limited { .. }
        ));
        assert_eq!(
            limits.check(ip("198.51.100.8"), "user99", 0),
            Decision::Allowed
        );
    }

    #[test]
    fn one_id_from_many_addresses_hits_the_user_limit() {
        let rate = Rate {
            burst: 5,
            per_minute: 5,
        };
        let limits = RateLimits::new(rate, rate);
        for n in 0..5 {
            let source = ip(&format!("203.0.113.{n}"));
            assert_eq!(limits.check(source, "victim", 0), Decision::Allowed);
        }
        assert_eq!(
            limits.check(ip("203.0.113.50"), "victim", 0),
            Decision::Limited {
                retry_after_secs: 12
            }
        );
        // Case-insensitive: the same user.
        assert!(matches!(
            limits.check(ip("203.0.113.51"), "VICTIM", 0),
            Decision::Limited { .. }
        ));
        assert_eq!(
            limits.check(ip("203.0.113.50"), "other", 0),
            Decision::Allowed
        );
    }

    #[test]
    fn a_limited_attempt_consumes_nothing() {
        let rate = Rate {
            burst: 2,
            per_minute: 1,
        };
        let limits = RateLimits::new(rate, rate);
        let attacker = ip("192.0.2.66");
        assert_eq!(limits.check(attacker, "victim", 0), Decision::Allowed);
        assert_eq!(limits.check(attacker, "other", 0), Decision::Allowed);
        // Limited by its source: these must not drain the victim's bucket.
        for _ in 0..100 {
            assert_ne!(limits.check(attacker, "victim", 0), Decision::Allowed);
        }
        let second = ip("192.0.2.67");
        assert_eq!(limits.check(second, "victim", 0), Decision::Allowed);
        // Now limited by the user bucket: the second source keeps its last unit.
        assert_ne!(limits.check(second, "victim", 0), Decision::Allowed);
        assert_eq!(limits.check(second, "third", 0), Decision::Allowed);
        assert_ne!(limits.check(second, "fourth", 0), Decision::Allowed);
    }

    #[test]
    fn retry_after_is_the_longer_wait() {
        let limits = RateLimits::new(
            Rate {
                burst: 1,
                per_minute: 60,
            },
            Rate {
                burst: 1,
                per_minute: 2,
            },
        );
        assert_eq!(limits.check(ip("192.0.2.1"), "u", 0), Decision::Allowed);
        // Source waits 1 s, user 30 s.
        assert_eq!(
            limits.check(ip("192.0.2.1"), "u", 0),
            Decision::Limited {
                retry_after_secs: 30
            }
        );
    }

    #[test]
    fn two_servers_each_allow_half_the_budget() {
        let rate = Rate {
            burst: 10,
            per_minute: 6,
        };
        let limits = RateLimits::new(rate, OFF);
        limits.set_servers(2);
        let source = ip("192.0.2.1");
        for _ in 0..5 {
            assert_eq!(limits.check(source, "u", 0), Decision::Allowed);
        }
        // Half the burst, and a unit comes back every 20 s instead of 10 s.
        assert_eq!(
            limits.check(source, "u", 0),
            Decision::Limited {
                retry_after_secs: 20
            }
        );
        assert_eq!(limits.check(source, "u", 20_000), Decision::Allowed);
        limits.set_servers(1);
        assert_eq!(limits.check(ip("192.0.2.2"), "u", 0), Decision::Allowed);
    }

    #[test]
    fn ipv6_is_limited_per_64() {
        let one = Rate {
            burst: 1,
            per_minute: 1,
        };
        let limits = RateLimits::new(one, OFF);
        assert_eq!(
            limits.check(ip("2001:db8:1:2::1"), "a", 0),
            Decision::Allowed
        );
        assert_ne!(
            limits.check(ip("2001:db8:1:2:ffff:eeee:dddd:9"), "b", 0),
            Decision::Allowed,
            "same /64"
        );
        assert_eq!(
            limits.check(ip("2001:db8:1:3::1"), "c", 0),
            Decision::Allowed,
            "another /64"
        );
    }

    #[test]
    fn ipv4_mapped_ipv6_is_the_ipv4_address() {
        let one = Rate {
            burst: 1,
            per_minute: 1,
        };
        let limits = RateLimits::new(one, OFF);
        assert_eq!(limits.check(ip("192.0.2.9"), "a", 0), Decision::Allowed);
        assert_ne!(
            limits.check(ip("::ffff:192.0.2.9"), "b", 0),
            Decision::Allowed
        );
        assert_eq!(limits.len(), 1);
    }

    #[test]
    fn a_zero_rate_turns_the_limit_off() {
        let limits = RateLimits::new(
            Rate {
                burst: 0,
                per_minute: 10,
            },
            Rate {
                burst: 10,
                per_minute: 0,
            },
        );
        for _ in 0..1000 {
            assert_eq!(limits.check(ip("192.0.2.1"), "u", 0), Decision::Allowed);
        }
        assert!(limits.is_empty());
    }

    #[test]
    fn prune_removes_idle_keys() {
        let rate = Rate {
            burst: 2,
            per_minute: 6,
        };
        let limits = RateLimits::new(rate, rate);
        assert_eq!(limits.check(ip("192.0.2.1"), "a", 0), Decision::Allowed);
        assert_eq!(limits.check(ip("192.0.2.2"), "b", 0), Decision::Allowed);
        assert_eq!(limits.len(), 4);
        // Each bucket is full again 10 s later.
        limits.prune(9_999);
        assert_eq!(limits.len(), 4);
        limits.prune(10_000);
        assert!(limits.is_empty());
    }

    #[test]
    fn memory_stays_bounded_under_a_spray_of_addresses() {
        let limits = RateLimits::new(
            Rate {
                burst: 10,
                per_minute: 10,
            },
            OFF,
        );
        let known = ip("10.255.255.255");
        assert_eq!(limits.check(known, "u", 0), Decision::Allowed);
        let mut refused = 0;
        for n in 0..1_000_000u32 {
            let source = IpAddr::V4(n.into());
            if limits.check(source, "u", 0) != Decision::Allowed {
                refused += 1;
            }
        }
        assert!(limits.len() <= MAX_KEYS_PER_SHARD * SHARDS);
        assert!(refused > 0, "new keys are refused once the table is full");
        // A key tracked before the spray keeps its own bucket.
        assert_eq!(limits.check(known, "u", 0), Decision::Allowed);
        // Once entries expire (6 s per unit), new keys are tracked again.
        assert_eq!(
            limits.check(ip("172.16.0.1"), "u", 6_000),
            Decision::Allowed
        );
        limits.prune(60_000);
        assert!(limits.is_empty());
    }
}
