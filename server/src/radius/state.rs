//! What binds a RADIUS sign-in's challenge to its client. RADIUS has no flow cookie,
//! so the challenge's flow hash is made from what only the right conversation has:
//!
//! - Access-Challenge: the `State` (RFC 2865 §5.24) is the challenge ID and a fresh
//!   128-bit nonce; the flow hash covers the nonce, the NAS and the user, so the State
//!   answers once (the challenge is consumed), only for that user, only through that
//!   NAS — on any server of a cluster, since nothing is kept in memory.
//! - The portal's VPN grid: bound to the user it was shown to.

use sha2::{Digest, Sha256};

use crate::random::os_random;

/// Octets of a State: 16 of challenge ID, 16 of nonce.
pub const STATE_LEN: usize = 32;

/// A State and the flow hash its challenge is bound to.
pub struct IssuedState {
    pub nonce: [u8; 16],
    pub flow_hash: [u8; 32],
}

/// The flow hash of a challenge sent in an Access-Challenge.
pub fn challenge_flow_hash(nas: &str, user: &str, nonce: &[u8; 16]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"passgrid radius challenge\0");
    h.update(nas.as_bytes());
    h.update([0]);
    h.update(user.as_bytes());
    h.update([0]);
    h.update(nonce);
    h.finalize().into()
}

/// The flow hash of the portal's VPN grid of `user_id`.
pub fn web_grid_flow_hash(user_id: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"passgrid radius web grid\0");
    h.update(user_id.as_bytes());
    h.finalize().into()
}

/// A flow hash nobody can present again (challenges drawn and answered within one
/// request: TOTP by PAP, EAP-MSCHAPv2, decoys).
pub fn one_shot_flow_hash() -> Result<[u8; 32], crate::random::RandomError> {
    let mut flow = [0u8; 32];
    os_random(&mut flow)?;
    Ok(flow)
}

/// A nonce for a new State and the flow hash that goes with it.
pub fn new_state(nas: &str, user: &str) -> Result<IssuedState, crate::random::RandomError> {
    let mut nonce = [0u8; 16];
    os_random(&mut nonce)?;
    Ok(IssuedState {
        flow_hash: challenge_flow_hash(nas, user, &nonce),
        nonce,
    })
}

/// The State octets for challenge `challenge_id` (32 hex digits) and `nonce`.
pub fn state_value(challenge_id: &str, nonce: &[u8; 16]) -> Option<Vec<u8>> {
    let mut out = hex::decode(challenge_id).ok()?;
    if out.len() != 16 {
        return None;
    }
    out.extend_from_slice(nonce);
    Some(out)
}

/// The challenge ID and nonce a State carries, if it is one of passgrid's.
pub fn parse_state(state: &[u8]) -> Option<(String, [u8; 16])> {
    if state.len() != STATE_LEN {
        return None;
    }
    let nonce: [u8; 16] = state.get(16..)?.try_into().ok()?;
    Some((hex::encode(state.get(..16)?), nonce))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_round_trips_and_binds_nas_and_user() {
        let issued = new_state("vpn", "alice").unwrap();
        let id = "00112233445566778899aabbccddeeff";
        let state = state_value(id, &issued.nonce).unwrap();
        assert_eq!(state.len(), STATE_LEN);
        let (back, nonce) = parse_state(&state).unwrap();
        assert_eq!(back, id);
        assert_eq!(
            challenge_flow_hash("vpn", "alice", &nonce),
            issued.flow_hash
        );
        assert_ne!(
            challenge_flow_hash("vpn2", "alice", &nonce),
            issued.flow_hash
        );
        assert_ne!(
            challenge_flow_hash("vpn", "alicf", &nonce),
            issued.flow_hash
        );
        assert!(parse_state(&state[..31]).is_none());
        assert!(state_value("zz", &nonce).is_none());
        assert_ne!(web_grid_flow_hash("alice"), web_grid_flow_hash("bob"));
    }
}
