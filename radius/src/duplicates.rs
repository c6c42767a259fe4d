//! Duplicate detection (RFC 5080 §2.2.2): a retransmitted request — same source
//! address and port, identifier and Request Authenticator — gets the identical
//! reply again and is never handed to the caller twice. A retransmission arriving
//! while the first copy is still being decided is dropped.

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Default number of remembered requests.
pub const DEFAULT_CAPACITY: usize = 65_536;
/// Default time a reply is kept for retransmissions (NAS retry windows are ~30 s).
pub const DEFAULT_TTL: Duration = Duration::from_secs(30);

/// What identifies a retransmission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RequestKey {
    /// Source address and port.
    pub source: SocketAddr,
    /// The packet identifier.
    pub identifier: u8,
    /// The Request Authenticator.
    pub authenticator: [u8; 16],
}

#[derive(Debug)]
enum Entry {
    InFlight,
    /// The encoded reply; `None` when the handler chose silence.
    Done(Option<Arc<[u8]>>),
}

#[derive(Debug)]
struct Inner {
    entries: HashMap<RequestKey, (Instant, Entry)>,
    /// Insertion order; entries all live for the same TTL, so the front expires first.
    order: VecDeque<(Instant, RequestKey)>,
}

/// What to do with an incoming request.
#[derive(Debug)]
pub enum Admission {
    /// First time seen: process it and hand the reply to [`Pending::complete`].
    New(Pending),
    /// Already being decided: drop this copy.
    InFlight,
    /// Already answered: send these octets again (or stay silent if `None`).
    Replay(Option<Arc<[u8]>>),
    /// The cache is full of live entries: drop (the NAS will retry).
    Full,
}

/// A bounded, concurrent-safe duplicate cache; clones share one cache.
#[derive(Debug, Clone)]
pub struct DuplicateCache {
    inner: Arc<Mutex<Inner>>,
    capacity: usize,
    ttl: Duration,
}

impl Default for DuplicateCache {
    fn default() -> Self {
        DuplicateCache::new(DEFAULT_CAPACITY, DEFAULT_TTL)
    }
}

/// The right to process one request; dropping it without completing forgets the
/// request so a retransmission is processed afresh (the first copy never answered).
#[derive(Debug)]
pub struct Pending {
    cache: DuplicateCache,
    key: RequestKey,
    completed: bool,
}

impl Pending {
    /// Records the reply (or silence) for retransmissions of this request.
    pub fn complete(mut self, reply: Option<Arc<[u8]>>) {
        self.completed = true;
        self.cache.finish(self.key, Some(reply), Instant::now());
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.completed {
            self.cache.finish(self.key, None, Instant::now());
        }
    }
}

impl DuplicateCache {
    /// A cache of at most `capacity` requests, each kept `ttl`.
    pub fn new(capacity: usize, ttl: Duration) -> DuplicateCache {
        DuplicateCache {
            inner: Arc::new(Mutex::new(Inner {
                entries: HashMap::new(),
                order: VecDeque::new(),
            })),
            capacity: capacity.max(1),
            ttl,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere while holding the lock leaves consistent maps behind.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn expire(&self, inner: &mut Inner, now: Instant) {
        while let Some(&(stamp, key)) = inner.order.front() {
            if now.saturating_duration_since(stamp) < self.ttl {
                break;
            }
            inner.order.pop_front();
            if inner.entries.get(&key).is_some_and(|(s, _)| *s == stamp) {
                inner.entries.remove(&key);
            }
        }
    }

    /// Looks a request up and, if new, marks it in flight.
    pub fn admit(&self, key: RequestKey) -> Admission {
        self.admit_at(key, Instant::now())
    }

    /// [`DuplicateCache::admit`] at a given time (for tests).
    pub fn admit_at(&self, key: RequestKey, now: Instant) -> Admission {
        let mut inner = self.lock();
        self.expire(&mut inner, now);
        match inner.entries.get(&key) {
            Some((_, Entry::InFlight)) => return Admission::InFlight,
            Some((_, Entry::Done(reply))) => return Admission::Replay(reply.clone()),
            None => {}
        }
        if inner.entries.len() >= self.capacity {
            return Admission::Full;
        }
        inner.entries.insert(key, (now, Entry::InFlight));
        inner.order.push_back((now, key));
        Admission::New(Pending {
            cache: self.clone(),
            key,
            completed: false,
        })
    }

    /// Stores a reply (`Some`) or forgets an abandoned request (`None`).
    fn finish(&self, key: RequestKey, reply: Option<Option<Arc<[u8]>>>, now: Instant) {
        let mut inner = self.lock();
        match reply {
            Some(reply) => {
                inner.entries.insert(key, (now, Entry::Done(reply)));
                inner.order.push_back((now, key));
            }
            None => {
                inner.entries.remove(&key);
            }
        }
    }

    /// Requests currently remembered.
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> RequestKey {
        RequestKey {
            source: "127.0.0.1:4000".parse().unwrap(),
            identifier: n,
            authenticator: [n; 16],
        }
    }

    #[test]
    fn retransmission_replays_and_in_flight_is_dropped() {
        let cache = DuplicateCache::new(10, Duration::from_secs(30));
        let Admission::New(pending) = cache.admit(key(1)) else {
            panic!("first copy must be new")
        };
        assert!(matches!(cache.admit(key(1)), Admission::InFlight));
        pending.complete(Some(Arc::from(&b"reply"[..])));
        match cache.admit(key(1)) {
            Admission::Replay(Some(bytes)) => assert_eq!(&*bytes, b"reply"),
            other => panic!("expected replay, got {other:?}"),
        }
        // Another identifier from the same source is a new request.
        assert!(matches!(cache.admit(key(2)), Admission::New(_)));
    }

    #[test]
    fn silence_is_remembered_and_abandonment_forgotten() {
        let cache = DuplicateCache::default();
        let Admission::New(p) = cache.admit(key(1)) else {
            panic!()
        };
        p.complete(None);
        assert!(matches!(cache.admit(key(1)), Admission::Replay(None)));
        let Admission::New(p) = cache.admit(key(2)) else {
            panic!()
        };
        drop(p);
        assert!(matches!(cache.admit(key(2)), Admission::New(_)));
    }

    #[test]
    fn entries_expire_and_capacity_is_bounded() {
        let cache = DuplicateCache::new(2, Duration::from_secs(30));
        let t0 = Instant::now();
        let Admission::New(a) = cache.admit_at(key(1), t0) else {
            panic!()
        };
        let Admission::New(b) = cache.admit_at(key(2), t0) else {
            panic!()
        };
        assert!(matches!(cache.admit_at(key(3), t0), Admission::Full));
        std::mem::forget(a);
        std::mem::forget(b);
        let later = t0 + Duration::from_secs(31);
        assert!(matches!(cache.admit_at(key(3), later), Admission::New(_)));
        assert!(matches!(cache.admit_at(key(1), later), Admission::New(_)));
    }

    #[test]
    fn concurrent_admissions_let_exactly_one_through() {
        let cache = DuplicateCache::default();
        let winners: usize = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let c = cache.clone();
                    s.spawn(move || match c.admit(key(9)) {
                        Admission::New(p) => {
                            std::mem::forget(p);
                            1
                        }
                        _ => 0,
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).sum()
        });
        assert_eq!(winners, 1);
    }
}
