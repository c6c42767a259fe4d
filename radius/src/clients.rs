//! RADIUS clients (NAS devices): who may talk to the server, with which shared
//! secret, and whether their Access-Requests must carry Message-Authenticator.

use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;

use crate::secret::Secret;

/// A known NAS.
#[derive(Debug, Clone)]
pub struct Client {
    /// The caller's name for it (for logs, audit and access rules).
    pub name: String,
    /// Its shared secret.
    pub secret: Secret,
    /// Drop Access-Requests without Message-Authenticator (Blast-RADIUS,
    /// CVE-2024-3596); on by default in passgrid.
    pub require_message_authenticator: bool,
}

/// Finds the client a datagram's source address belongs to.
pub trait ClientTable: Send + Sync + 'static {
    /// The client for a source address, or `None` to drop the datagram.
    fn client_for(&self, source: IpAddr) -> Option<Arc<Client>>;
}

/// An address block (`10.0.0.0/8`, `2001:db8::/32`, or one address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNetwork {
    address: IpAddr,
    prefix: u8,
}

/// A CIDR that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an address or CIDR block: {0}")]
pub struct BadNetwork(pub String);

impl IpNetwork {
    /// The block of `address` with `prefix` leading bits, if the prefix fits.
    pub fn new(address: IpAddr, prefix: u8) -> Option<IpNetwork> {
        let max = if address.is_ipv4() { 32 } else { 128 };
        (prefix <= max).then_some(IpNetwork { address, prefix })
    }

    /// Leading bits that must match.
    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    fn bits(address: IpAddr) -> (u128, u8) {
        match address {
            IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
            IpAddr::V6(a) => (u128::from(a), 128),
        }
    }

    /// True if `address` lies in the block (IPv4-mapped IPv6 counts as IPv4).
    pub fn contains(&self, address: IpAddr) -> bool {
        let address = match address {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
            v4 => v4,
        };
        if address.is_ipv4() != self.address.is_ipv4() {
            return false;
        }
        let (net, width) = IpNetwork::bits(self.address);
        let (addr, _) = IpNetwork::bits(address);
        let shift = u32::from(width - self.prefix);
        let mask = if shift >= 128 { 0 } else { !0u128 << shift };
        let width_mask = if width == 128 {
            !0u128
        } else {
            (1u128 << width) - 1
        };
        (net & mask & width_mask) == (addr & mask & width_mask)
    }
}

impl FromStr for IpNetwork {
    type Err = BadNetwork;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || BadNetwork(s.to_string());
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let address: IpAddr = addr.trim().parse().map_err(|_| bad())?;
        let prefix = match prefix {
            Some(p) => p.trim().parse::<u8>().map_err(|_| bad())?,
            None if address.is_ipv4() => 32,
            None => 128,
        };
        IpNetwork::new(address, prefix).ok_or_else(bad)
    }
}

/// A fixed client list; the most specific matching block wins.
#[derive(Debug, Clone, Default)]
pub struct StaticClients {
    entries: Vec<(IpNetwork, Arc<Client>)>,
}

impl StaticClients {
    /// An empty table (every datagram is dropped).
    pub fn new() -> StaticClients {
        StaticClients::default()
    }

    /// Adds a client for a block.
    pub fn add(&mut self, network: IpNetwork, client: Client) {
        self.entries.push((network, Arc::new(client)));
        // Longest prefix first so the first match is the most specific.
        self.entries
            .sort_by_key(|(n, _)| std::cmp::Reverse(n.prefix()));
    }
}

impl ClientTable for StaticClients {
    fn client_for(&self, source: IpAddr) -> Option<Arc<Client>> {
        self.entries
            .iter()
            .find(|(n, _)| n.contains(source))
            .map(|(_, c)| c.clone())
    }
}

impl<T: ClientTable> ClientTable for Arc<T> {
    fn client_for(&self, source: IpAddr) -> Option<Arc<Client>> {
        (**self).client_for(source)
    }
}

/// Who sent a request and how.
#[derive(Debug, Clone)]
pub struct ClientInfo {
    /// The client's name from the table (or the caller's name for a RadSec peer).
    pub name: String,
    /// Source address and port.
    pub source: SocketAddr,
    /// The transport it came over.
    pub transport: Transport,
}

/// The transport a request came over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// RADIUS over UDP (RFC 2865).
    Udp,
    /// RADIUS over TLS (RFC 6614).
    RadSec,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(name: &str) -> Client {
        Client {
            name: name.into(),
            secret: Secret::from("s"),
            require_message_authenticator: true,
        }
    }

    #[test]
    fn cidr_matching_prefers_the_most_specific() {
        let mut table = StaticClients::new();
        table.add("10.0.0.0/8".parse().unwrap(), client("wide"));
        table.add("10.1.2.3".parse().unwrap(), client("one"));
        table.add("2001:db8::/32".parse().unwrap(), client("v6"));
        table.add("0.0.0.0/0".parse().unwrap(), client("all-v4"));
        let name = |a: &str| table.client_for(a.parse().unwrap()).map(|c| c.name.clone());
        assert_eq!(name("10.1.2.3").as_deref(), Some("one"));
        assert_eq!(name("10.9.9.9").as_deref(), Some("wide"));
        assert_eq!(name("::ffff:10.9.9.9").as_deref(), Some("wide"));
        assert_eq!(name("2001:db8::1").as_deref(), Some("v6"));
        assert_eq!(name("2001:db9::1"), None);
        assert_eq!(name("192.168.0.1").as_deref(), Some("all-v4"));
    }

    #[test]
    fn bad_networks_are_errors() {
        assert!("10.0.0.0/33".parse::<IpNetwork>().is_err());
        assert!("nonsense".parse::<IpNetwork>().is_err());
        assert!("::/129".parse::<IpNetwork>().is_err());
        assert!("::/0"
            .parse::<IpNetwork>()
            .unwrap()
            .contains("2001::1".parse().unwrap()));
    }
}
