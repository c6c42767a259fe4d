//! How many connections the server keeps, and for how long (issue #13, item 8). Every
//! open connection holds a file descriptor; a client that opens connections and says
//! nothing must not use them all up. So:
//! - a connection must bring its first request within `first_request_timeout` of being
//!   accepted (TLS handshake included), and is closed after `idle_timeout` without a
//!   request in flight (HTTP/1.1 keep-alive or HTTP/2 alike — HTTP/2 PINGs or window
//!   updates do not count as use);
//! - at most `max_per_source` connections per source address (IPv6 per /64) and
//!   `max_total` in all. When a new connection would go over either, the connection of
//!   that scope idle the longest (no request in flight) is closed to make room; only
//!   when every one is busy is the new connection refused. Idle connections therefore
//!   never keep a new client out.

use std::{
    collections::HashMap,
    net::IpAddr,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use tokio::sync::Notify;

use crate::net::Cidr;

/// The listener's connection limits (`[serve]`).
#[derive(Clone, Debug)]
pub struct ConnectionLimits {
    pub max_total: usize,
    pub max_per_source: usize,
    pub first_request_timeout: Duration,
    pub idle_timeout: Duration,
    /// Sources not held to `max_per_source`: trusted proxies carry many clients.
    pub exempt: Vec<Cidr>,
}

/// What counts as one source: an IPv4 address, or an IPv6 /64 (one subscriber).
fn source_key(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let bits = u128::from(v6) & (u128::MAX << 64);
            IpAddr::V6(bits.into())
        }
        v4 => v4,
    }
}

/// Use of one connection: requests in flight and the last time one started or ended.
#[derive(Debug)]
pub struct Activity {
    epoch: Instant,
    in_flight: AtomicUsize,
    requests: AtomicU64,
    /// Milliseconds after `epoch` of the accept or of the last request start or end.
    last_change_ms: AtomicU64,
}

impl Activity {
    fn new(epoch: Instant) -> Activity {
        let activity = Activity {
            epoch,
            in_flight: AtomicUsize::new(0),
            requests: AtomicU64::new(0),
            last_change_ms: AtomicU64::new(0),
        };
        activity.touch();
        activity
    }

    fn touch(&self) {
        let ms = u64::try_from(self.epoch.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_change_ms.store(ms, Relaxed);
    }

    fn last_change(&self) -> Instant {
        self.epoch + Duration::from_millis(self.last_change_ms.load(Relaxed))
    }

    fn is_idle(&self) -> bool {
        self.in_flight.load(Relaxed) == 0
    }

    /// A request starts; it is in flight until the guard is dropped (with the end of
    /// its response body).
    pub fn request_started(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Relaxed);
        self.requests.fetch_add(1, Relaxed);
        self.touch();
        InFlight(self.clone())
    }

    /// When this connection is to be closed as idle if nothing happens before then;
    /// `None` while a request is in flight.
    pub fn idle_deadline(&self, limits: &ConnectionLimits) -> Option<Instant> {
        if !self.is_idle() {
            return None;
        }
        let allowed = if self.requests.load(Relaxed) == 0 {
            limits.first_request_timeout
        } else {
            limits.idle_timeout
        };
        Some(self.last_change() + allowed)
    }
}

/// A request in flight on a connection.
pub struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Relaxed);
    }
}

struct Slot {
    source: IpAddr,
    activity: Arc<Activity>,
    close: Arc<Notify>,
}

#[derive(Default)]
struct Open {
    next_id: u64,
    slots: HashMap<u64, Slot>,
    per_source: HashMap<IpAddr, usize>,
}

impl Open {
    fn remove(&mut self, id: u64) -> Option<Slot> {
        let slot = self.slots.remove(&id)?;
        if let Some(n) = self.per_source.get_mut(&slot.source) {
            *n -= 1;
            if *n == 0 {
                self.per_source.remove(&slot.source);
            }
        }
        Some(slot)
    }

    /// Closes an idle connection among those `matching`: one of the source holding
    /// the most connections (a client that opens many makes way first, not the others),
    /// and of those the one idle the longest. False when every one of them is busy.
    fn evict_idlest(&mut self, matching: impl Fn(&Slot) -> bool) -> bool {
        let held = |s: &Slot| self.per_source.get(&s.source).copied().unwrap_or(0);
        let victim = self
            .slots
            .iter()
            .filter(|(_, s)| matching(s) && s.activity.is_idle())
            .min_by_key(|(_, s)| (std::cmp::Reverse(held(s)), s.activity.last_change()))
            .map(|(id, _)| *id);
        match victim.and_then(|id| self.remove(id)) {
            Some(slot) => {
                // `notify_one` keeps the wake-up if the task is not waiting yet.
                slot.close.notify_one();
                true
            }
            None => false,
        }
    }
}

/// Why a connection was not taken.
#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// The source's connections are all busy.
    SourceFull,
    /// The server's connections are all busy.
    ServerFull,
}

/// Every open connection of the listeners that share these limits.
pub struct Connections {
    pub limits: ConnectionLimits,
    epoch: Instant,
    open: Mutex<Open>,
}

/// An admitted connection; dropping it gives its place back.
pub struct Admitted {
    id: u64,
    connections: Arc<Connections>,
    pub activity: Arc<Activity>,
    /// Notified when the connection is to be closed to make room for a new one.
    pub close: Arc<Notify>,
    /// How many connections were closed to make room for this one.
    pub evicted: usize,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if let Ok(mut open) = self.connections.open.lock() {
            open.remove(self.id);
        }
    }
}

impl Connections {
    pub fn new(limits: ConnectionLimits) -> Arc<Connections> {
        Arc::new(Connections {
            limits,
            epoch: Instant::now(),
            open: Mutex::new(Open::default()),
        })
    }

    /// Takes a new connection from `peer`, closing idle ones to make room if needed.
    pub fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<Admitted, Refused> {
        let source = source_key(peer);
        let capped = !self.limits.exempt.iter().any(|c| c.contains(peer));
        let mut open = self.open.lock().map_err(|_| Refused::ServerFull)?;
        let mut evicted = 0;
        if capped
            && open.per_source.get(&source).copied().unwrap_or(0) >= self.limits.max_per_source
        {
            if !open.evict_idlest(|s| s.source == source) {
                return Err(Refused::SourceFull);
            }
            evicted += 1;
        }
        if open.slots.len() >= self.limits.max_total {
            if !open.evict_idlest(|_| true) {
                return Err(Refused::ServerFull);
            }
            evicted += 1;
        }
        let id = open.next_id;
        open.next_id += 1;
        let activity = Arc::new(Activity::new(self.epoch));
        let close = Arc::new(Notify::new());
        open.slots.insert(
            id,
            Slot {
                source,
                activity: activity.clone(),
                close: close.clone(),
            },
        );
        *open.per_source.entry(source).or_default() += 1;
        Ok(Admitted {
            id,
            connections: self.clone(),
            activity,
            close,
            evicted,
        })
    }

    /// Open connections now (for tests and metrics).
    pub fn open_count(&self) -> usize {
        self.open.lock().map(|o| o.slots.len()).unwrap_or(0)
    }
}

/// Resolves when `activity` has been idle past its limit.
pub async fn idle_expiry(activity: &Activity, limits: &ConnectionLimits) {
    loop {
        match activity.idle_deadline(limits) {
            Some(deadline) if deadline <= Instant::now() => return,
            Some(deadline) => tokio::time::sleep_until(deadline.into()).await,
            // Busy: look again later (a request's end moves the deadline anyway).
            None => tokio::time::sleep(limits.first_request_timeout.min(limits.idle_timeout)).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(total: usize, per_source: usize) -> ConnectionLimits {
        ConnectionLimits {
            max_total: total,
            max_per_source: per_source,
            first_request_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            exempt: vec!["10.0.0.1".parse().unwrap()],
        }
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn a_full_source_makes_room_by_closing_its_idlest_connection() {
        let c = Connections::new(limits(100, 2));
        let a = c.admit(ip("192.0.2.1")).unwrap();
        let b = c.admit(ip("192.0.2.1")).unwrap();
        let _busy = a.activity.request_started();
        // b is the idle one: it goes; a is busy and stays.
        let new = c.admit(ip("192.0.2.1")).unwrap();
        assert_eq!(new.evicted, 1);
        assert_eq!(c.open_count(), 2);
        // Now every connection of the source is busy: refused.
        let _busy2 = new.activity.request_started();
        assert_eq!(c.admit(ip("192.0.2.1")).err(), Some(Refused::SourceFull));
        // Another source is not affected; b's place was given back already.
        drop(b);
        assert!(c.admit(ip("192.0.2.2")).is_ok());
    }

    #[test]
    fn the_server_cap_closes_the_idlest_anywhere_and_proxies_are_not_capped_per_source() {
        let c = Connections::new(limits(3, 1));
        let a = c.admit(ip("10.0.0.1")).unwrap();
        let b = c.admit(ip("10.0.0.1")).unwrap();
        assert_eq!(b.evicted, 0, "a trusted proxy holds many");
        let x = c.admit(ip("2001:db8::1")).unwrap();
        // Same /64: one source.
        let y = c.admit(ip("2001:db8::2")).unwrap();
        assert_eq!(y.evicted, 1);
        drop(x);
        let _busy = (
            a.activity.request_started(),
            b.activity.request_started(),
            y.activity.request_started(),
        );
        assert_eq!(c.admit(ip("192.0.2.9")).err(), Some(Refused::ServerFull));
    }

    #[test]
    fn the_source_holding_the_most_makes_way_first() {
        let c = Connections::new(limits(4, 10));
        // The idlest connection of all is a quiet client's...
        let _quiet = c.admit(ip("192.0.2.1")).unwrap();
        std::thread::sleep(Duration::from_millis(5));
        let flood: Vec<_> = (0..3)
            .map(|_| c.admit(ip("198.51.100.1")).unwrap())
            .collect();
        // ...but the server's last place goes to a newcomer at the flooder's expense.
        let newcomer = c.admit(ip("203.0.113.1")).unwrap();
        assert_eq!(newcomer.evicted, 1);
        let flood_open = flood
            .iter()
            .filter(|a| c.open.lock().unwrap().slots.contains_key(&a.id))
            .count();
        assert_eq!(flood_open, 2);
        assert!(c
            .open
            .lock()
            .unwrap()
            .per_source
            .contains_key(&ip("192.0.2.1")));
    }

    #[test]
    fn idle_deadlines_follow_requests() {
        let c = Connections::new(limits(10, 10));
        let a = c.admit(ip("192.0.2.1")).unwrap();
        let l = &c.limits;
        let first = a.activity.idle_deadline(l).unwrap();
        assert!(first <= Instant::now() + l.first_request_timeout);
        let req = a.activity.request_started();
        assert!(a.activity.idle_deadline(l).is_none(), "busy");
        drop(req);
        let later = a.activity.idle_deadline(l).unwrap();
        assert!(
            later > first + (l.idle_timeout - l.first_request_timeout) - Duration::from_secs(1)
        );
    }
}
