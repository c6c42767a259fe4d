//! The tests' own RADIUS client, written from RFC 2865, 2866 and 3579 and sharing no
//! code with passgrid: it builds requests (User-Password hiding, Message-Authenticator
//! valid, wrong or missing), and checks every reply's Response Authenticator and
//! Message-Authenticator itself.

use std::{
    net::{SocketAddr, UdpSocket},
    time::Duration,
};

use hmac::{Hmac, Mac};
use md5::{Digest, Md5};

pub const ACCESS_REQUEST: u8 = 1;
pub const ACCESS_ACCEPT: u8 = 2;
pub const ACCESS_REJECT: u8 = 3;
pub const ACCOUNTING_REQUEST: u8 = 4;
pub const ACCOUNTING_RESPONSE: u8 = 5;
pub const ACCESS_CHALLENGE: u8 = 11;

pub const USER_NAME: u8 = 1;
pub const USER_PASSWORD: u8 = 2;
pub const FILTER_ID: u8 = 11;
pub const REPLY_MESSAGE: u8 = 18;
pub const STATE: u8 = 24;
pub const CLASS: u8 = 25;
pub const VENDOR_SPECIFIC: u8 = 26;
pub const CALLING_STATION_ID: u8 = 31;
pub const ACCT_STATUS_TYPE: u8 = 40;
pub const ACCT_SESSION_ID: u8 = 44;
pub const MESSAGE_AUTHENTICATOR: u8 = 80;

/// What a request carries as Message-Authenticator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ma {
    Valid,
    Wrong,
    Missing,
}

/// A reply, checked.
#[derive(Clone, Debug)]
pub struct Reply {
    pub code: u8,
    pub raw: Vec<u8>,
    pub attributes: Vec<(u8, Vec<u8>)>,
}

impl Reply {
    pub fn first(&self, kind: u8) -> Option<&[u8]> {
        self.attributes
            .iter()
            .find(|(k, _)| *k == kind)
            .map(|(_, v)| v.as_slice())
    }

    pub fn all(&self, kind: u8) -> Vec<&[u8]> {
        self.attributes
            .iter()
            .filter(|(k, _)| *k == kind)
            .map(|(_, v)| v.as_slice())
            .collect()
    }

    /// Every Reply-Message, concatenated (RFC 2865 §5.18).
    pub fn message(&self) -> String {
        self.all(REPLY_MESSAGE)
            .iter()
            .map(|v| String::from_utf8_lossy(v).to_string())
            .collect()
    }
}

fn md5(parts: &[&[u8]]) -> [u8; 16] {
    let mut h = Md5::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

fn hmac_md5(key: &[u8], data: &[u8]) -> [u8; 16] {
    let mut mac = <Hmac<Md5> as Mac>::new_from_slice(key).expect("any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// User-Password hiding (RFC 2865 §5.2).
pub fn hide_password(password: &[u8], secret: &[u8], authenticator: &[u8; 16]) -> Vec<u8> {
    let mut padded = password.to_vec();
    let len = padded.len().div_ceil(16).max(1) * 16;
    padded.resize(len, 0);
    let mut out = Vec::with_capacity(len);
    let mut previous = authenticator.to_vec();
    for chunk in padded.chunks(16) {
        let b = md5(&[secret, &previous]);
        let c: Vec<u8> = chunk.iter().zip(b).map(|(p, k)| p ^ k).collect();
        previous = c.clone();
        out.extend(c);
    }
    out
}

fn random_authenticator() -> [u8; 16] {
    let mut a = [0u8; 16];
    let f = std::fs::read("/proc/sys/kernel/random/uuid").unwrap_or_default();
    let more = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0)
        .to_be_bytes();
    a.copy_from_slice(&md5(&[&f, &more]));
    a
}

/// Encodes an Access-Request; `password` is hidden with the authenticator.
pub fn access_request(
    id: u8,
    secret: &[u8],
    attributes: &[(u8, Vec<u8>)],
    password: Option<&[u8]>,
    ma: Ma,
) -> (Vec<u8>, [u8; 16]) {
    let authenticator = random_authenticator();
    let mut attrs = attributes.to_vec();
    if let Some(p) = password {
        attrs.push((USER_PASSWORD, hide_password(p, secret, &authenticator)));
    }
    if ma != Ma::Missing {
        attrs.push((MESSAGE_AUTHENTICATOR, vec![0; 16]));
    }
    let mut bytes = vec![ACCESS_REQUEST, id, 0, 0];
    bytes.extend_from_slice(&authenticator);
    for (k, v) in &attrs {
        bytes.push(*k);
        bytes.push((v.len() + 2) as u8);
        bytes.extend_from_slice(v);
    }
    let len = bytes.len() as u16;
    bytes[2..4].copy_from_slice(&len.to_be_bytes());
    if ma != Ma::Missing {
        // RFC 3579 §3.2: HMAC-MD5 over the packet with the attribute zeroed.
        let mut mac = hmac_md5(secret, &bytes);
        if ma == Ma::Wrong {
            mac[0] ^= 1;
        }
        let at = bytes.len() - 16;
        bytes[at..].copy_from_slice(&mac);
    }
    (bytes, authenticator)
}

/// Encodes an Accounting-Request (RFC 2866 §3: the authenticator is an MD5 over the
/// packet with a zero authenticator and the secret).
pub fn accounting_request(
    id: u8,
    secret: &[u8],
    attributes: &[(u8, Vec<u8>)],
) -> (Vec<u8>, [u8; 16]) {
    let mut bytes = vec![ACCOUNTING_REQUEST, id, 0, 0];
    bytes.extend_from_slice(&[0; 16]);
    for (k, v) in attributes {
        bytes.push(*k);
        bytes.push((v.len() + 2) as u8);
        bytes.extend_from_slice(v);
    }
    let len = bytes.len() as u16;
    bytes[2..4].copy_from_slice(&len.to_be_bytes());
    let authenticator = md5(&[&bytes, secret]);
    bytes[4..20].copy_from_slice(&authenticator);
    (bytes, authenticator)
}

/// Parses a reply and checks it answers `request_authenticator` with `secret`: the
/// Response Authenticator (RFC 2865 §3) and, when `require_ma`, a valid
/// Message-Authenticator (RFC 3579 §3.2). Panics with the reason otherwise.
pub fn check_reply(
    raw: &[u8],
    request_authenticator: &[u8; 16],
    secret: &[u8],
    require_ma: bool,
) -> Reply {
    assert!(raw.len() >= 20, "reply too short: {raw:?}");
    let len = u16::from_be_bytes([raw[2], raw[3]]) as usize;
    assert_eq!(len, raw.len(), "reply length field");
    // Response Authenticator = MD5(Code+ID+Length+RequestAuth+Attributes+Secret).
    let expected = md5(&[&raw[..4], request_authenticator, &raw[20..], secret]);
    assert_eq!(&raw[4..20], &expected, "Response Authenticator");
    let mut attributes = Vec::new();
    let mut i = 20;
    let mut ma_at = None;
    while i < raw.len() {
        let (k, l) = (raw[i], raw[i + 1] as usize);
        assert!(l >= 2 && i + l <= raw.len(), "attribute overruns the reply");
        if k == MESSAGE_AUTHENTICATOR {
            ma_at = Some(i + 2);
        }
        attributes.push((k, raw[i + 2..i + l].to_vec()));
        i += l;
    }
    if require_ma {
        let at = ma_at.expect("the reply carries Message-Authenticator");
        let mut zeroed = raw.to_vec();
        zeroed[4..20].copy_from_slice(request_authenticator);
        zeroed[at..at + 16].fill(0);
        assert_eq!(
            &raw[at..at + 16],
            &hmac_md5(secret, &zeroed),
            "Message-Authenticator"
        );
    }
    Reply {
        code: raw[0],
        raw: raw.to_vec(),
        attributes,
    }
}

/// A UDP socket on `local` (e.g. 127.0.0.1 or an unknown 127.0.0.9) talking to `server`.
pub struct Nas {
    pub socket: UdpSocket,
    pub server: SocketAddr,
    pub secret: Vec<u8>,
    next_id: u8,
}

impl Nas {
    pub fn new(local: &str, server: SocketAddr, secret: &str) -> Nas {
        let socket = UdpSocket::bind(format!("{local}:0")).expect("bind");
        socket
            .set_read_timeout(Some(Duration::from_millis(1500)))
            .unwrap();
        Nas {
            socket,
            server,
            secret: secret.as_bytes().to_vec(),
            next_id: 0,
        }
    }

    pub fn id(&mut self) -> u8 {
        self.next_id = self.next_id.wrapping_add(1);
        self.next_id
    }

    /// Sends raw octets; the reply's octets, or `None` after the timeout.
    pub fn send_raw(&self, bytes: &[u8]) -> Option<Vec<u8>> {
        self.socket.send_to(bytes, self.server).expect("send");
        let mut buf = [0u8; 4096];
        match self.socket.recv_from(&mut buf) {
            Ok((n, _)) => Some(buf[..n].to_vec()),
            Err(_) => None,
        }
    }

    /// An Access-Request for `user` with `password` (and `extra` attributes); the
    /// reply checked (Message-Authenticator required), or `None` for no answer.
    pub fn access(
        &mut self,
        user: &str,
        password: &str,
        extra: &[(u8, Vec<u8>)],
        ma: Ma,
    ) -> Option<Reply> {
        let mut attrs = vec![(USER_NAME, user.as_bytes().to_vec())];
        attrs.extend_from_slice(extra);
        let id = self.id();
        let (bytes, auth) = access_request(id, &self.secret, &attrs, Some(password.as_bytes()), ma);
        let raw = self.send_raw(&bytes)?;
        assert_eq!(raw[1], id, "the reply carries the request's identifier");
        Some(check_reply(&raw, &auth, &self.secret, true))
    }

    /// `access` that must be answered.
    pub fn ask(&mut self, user: &str, password: &str) -> Reply {
        self.ask_with(user, password, &[])
    }

    /// `ask` with more attributes (a State, say).
    pub fn ask_with(&mut self, user: &str, password: &str, extra: &[(u8, Vec<u8>)]) -> Reply {
        self.access(user, password, extra, Ma::Valid)
            .unwrap_or_else(|| panic!("no answer for {user}"))
    }
}

/// The grid digits of an Access-Challenge's Reply-Message: the numbered rows.
pub fn grid_digits(message: &str) -> String {
    message
        .lines()
        .filter(|l| l.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .flat_map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>())
        .collect()
}

/// The OTP for `cells` on a row-major digit string.
pub fn otp_at(digits: &str, cells: &[usize]) -> String {
    cells
        .iter()
        .map(|&c| char::from(digits.as_bytes()[c]))
        .collect()
}
