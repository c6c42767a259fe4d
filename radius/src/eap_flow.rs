//! EAP-MSCHAPv2 over RADIUS (RFC 3579, draft-kamath-pppext-eap-mschapv2-02),
//! driven by the caller without owning any policy:
//!
//! 1. EAP-Response/Identity → Access-Challenge with the MS-CHAPv2 Challenge.
//! 2. MS-CHAPv2 Response → [`EapStep::Verify`]: the caller fetches the acceptable
//!    passwords (e.g. the expected OTP), calls [`PendingResponse::verify`], decides,
//!    and answers with [`EapMschapv2::accept`] or [`EapMschapv2::reject`].
//! 3. The peer's Success-Response → Access-Accept with EAP-Success and the MPPE keys
//!    (or Failure-Response → Access-Reject with EAP-Failure).
//!
//! Conversation state lives here, in memory, under single-use random State values
//! bound to the RADIUS client, for at most a minute.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::eap::{EapCode, EapPacket, MschapV2Message, TYPE_IDENTITY, TYPE_MSCHAPV2, TYPE_NAK};
use crate::mppe::MppeKeys;
use crate::mschapv2::{verify_mschapv2, MschapV2Success};
use crate::packet::{Attribute, Code};
use crate::reply::Reply;
use crate::secret::random_bytes;
use crate::server::Request;

/// How long a conversation may wait for the peer's next message.
const SESSION_TTL: Duration = Duration::from_secs(60);
/// Conversations kept at once.
const MAX_SESSIONS: usize = 65_536;

#[derive(Debug)]
enum Stage {
    ChallengeAsked {
        ms_id: u8,
        authenticator_challenge: [u8; 16],
    },
    SuccessAnnounced {
        keys: MppeKeys,
        accept_attributes: Vec<Attribute>,
    },
    FailureAnnounced,
}

#[derive(Debug)]
struct Session {
    created: Instant,
    client: String,
    identity: Vec<u8>,
    /// The EAP identifier the peer's next Response must carry.
    eap_id: u8,
    stage: Stage,
}

/// What to do with an Access-Request carrying EAP-Message.
#[derive(Debug)]
pub enum EapStep {
    /// Send this reply (a challenge, or the Accept/Reject that ends the conversation).
    Reply(Reply),
    /// The peer answered the challenge: verify it against the caller's candidates.
    Verify(PendingResponse),
}

/// An MS-CHAPv2 Response waiting for the caller's verdict.
#[derive(Debug)]
pub struct PendingResponse {
    client: String,
    identity: Vec<u8>,
    user_name: Vec<u8>,
    eap_id: u8,
    ms_id: u8,
    authenticator_challenge: [u8; 16],
    peer_challenge: [u8; 16],
    nt_response: [u8; 24],
}

/// Proof that a candidate matched; the only way to [`EapMschapv2::accept`].
#[derive(Debug)]
pub struct VerifiedResponse {
    index: usize,
    success: MschapV2Success,
}

impl VerifiedResponse {
    /// Which candidate matched (index into the slice given to `verify`).
    pub fn candidate_index(&self) -> usize {
        self.index
    }
}

impl PendingResponse {
    /// The identity from EAP-Response/Identity (what the NAS also puts in User-Name).
    pub fn identity(&self) -> &[u8] {
        &self.identity
    }

    /// The name of the RADIUS client (NAS) the conversation runs through.
    pub fn client_name(&self) -> &str {
        &self.client
    }

    /// The name inside the MS-CHAPv2 Response (it entered the challenge hash).
    pub fn user_name(&self) -> &[u8] {
        &self.user_name
    }

    /// Tries every candidate password (each compared in constant time, all of them
    /// tried so timing does not tell which matched); the first match wins.
    pub fn verify<P: AsRef<[u8]>>(&self, candidates: &[P]) -> Option<VerifiedResponse> {
        let mut found = None;
        for (index, candidate) in candidates.iter().enumerate() {
            let result = verify_mschapv2(
                candidate.as_ref(),
                &self.peer_challenge,
                &self.authenticator_challenge,
                &self.nt_response,
                &self.user_name,
            );
            if let (None, Some(success)) = (&found, result) {
                found = Some(VerifiedResponse { index, success });
            }
        }
        found
    }
}

/// The EAP-MSCHAPv2 conversations of one server.
#[derive(Debug)]
pub struct EapMschapv2 {
    server_name: Vec<u8>,
    sessions: Mutex<HashMap<[u8; 16], Session>>,
}

fn eap_reply(code: Code, eap: &EapPacket) -> Reply {
    let mut reply = Reply::new(code);
    if let Ok(bytes) = eap.encode() {
        reply.attributes.extend(Attribute::eap_messages(&bytes));
    }
    reply
}

fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

impl EapMschapv2 {
    /// A flow that names itself `server_name` in its challenges.
    pub fn new(server_name: &str) -> EapMschapv2 {
        EapMschapv2 {
            server_name: server_name.as_bytes().to_vec(),
            sessions: Mutex::new(HashMap::new()),
        }
    }

    fn end_with_reject(eap_id: Option<u8>) -> EapStep {
        let reply = match eap_id {
            Some(id) => eap_reply(Code::AccessReject, &EapPacket::failure(id)),
            None => Reply::reject(),
        };
        EapStep::Reply(reply)
    }

    fn store(&self, session: Session) -> Option<[u8; 16]> {
        let state: [u8; 16] = random_bytes().ok()?;
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        if sessions.len() >= MAX_SESSIONS {
            let now = Instant::now();
            sessions.retain(|_, s| now.saturating_duration_since(s.created) < SESSION_TTL);
            if sessions.len() >= MAX_SESSIONS {
                return None;
            }
        }
        sessions.insert(state, session);
        Some(state)
    }

    fn take(&self, state: &[u8]) -> Option<Session> {
        let key: [u8; 16] = state.try_into().ok()?;
        let mut sessions = self.sessions.lock().unwrap_or_else(|e| e.into_inner());
        let session = sessions.remove(&key)?;
        (session.created.elapsed() < SESSION_TTL).then_some(session)
    }

    /// Sends an EAP-Request inside an Access-Challenge, remembering the session.
    fn challenge(&self, mut session: Session, message: MschapV2Message) -> Reply {
        let eap_id = session.eap_id;
        let Ok(eap) = message.to_eap(EapCode::Request, eap_id) else {
            return Reply::reject();
        };
        session.created = Instant::now();
        let Some(state) = self.store(session) else {
            return eap_reply(Code::AccessReject, &EapPacket::failure(eap_id));
        };
        eap_reply(Code::AccessChallenge, &eap).with(Attribute::state(&state))
    }

    /// Advances the conversation one Access-Request.
    pub fn step(&self, request: &Request) -> EapStep {
        let packet = &request.packet;
        let Some(eap) = packet.eap_message().and_then(|b| EapPacket::parse(&b).ok()) else {
            return EapMschapv2::end_with_reject(None);
        };
        if eap.code != EapCode::Response {
            return EapMschapv2::end_with_reject(Some(eap.identifier));
        }
        if eap.method == Some(TYPE_IDENTITY) {
            return self.start(request, eap);
        }
        let Some(session) = packet.state().and_then(|s| self.take(s)) else {
            return EapMschapv2::end_with_reject(Some(eap.identifier));
        };
        // A State from another NAS, or an answer to an older request, ends it.
        if session.client != request.client.name || eap.identifier != session.eap_id {
            return EapMschapv2::end_with_reject(Some(eap.identifier));
        }
        if eap.method == Some(TYPE_NAK) || eap.method != Some(TYPE_MSCHAPV2) {
            return EapMschapv2::end_with_reject(Some(eap.identifier));
        }
        let Ok(message) = MschapV2Message::parse(EapCode::Response, &eap.data) else {
            return EapMschapv2::end_with_reject(Some(eap.identifier));
        };
        match (session.stage, message) {
            (
                Stage::ChallengeAsked {
                    ms_id,
                    authenticator_challenge,
                },
                MschapV2Message::Response {
                    ms_id: answered,
                    peer_challenge,
                    nt_response,
                    name,
                    ..
                },
            ) if answered == ms_id => EapStep::Verify(PendingResponse {
                client: session.client,
                identity: session.identity,
                user_name: name,
                eap_id: eap.identifier,
                ms_id,
                authenticator_challenge,
                peer_challenge,
                nt_response,
            }),
            (
                Stage::SuccessAnnounced {
                    keys,
                    accept_attributes,
                },
                MschapV2Message::SuccessResponse,
            ) => {
                let mut reply = eap_reply(Code::AccessAccept, &EapPacket::success(eap.identifier))
                    .with(Attribute::user_name(&session.identity))
                    .with_mppe_keys(keys.clone());
                reply.attributes.extend(accept_attributes);
                EapStep::Reply(reply)
            }
            _ => EapMschapv2::end_with_reject(Some(eap.identifier)),
        }
    }

    fn start(&self, request: &Request, identity: EapPacket) -> EapStep {
        let Ok(challenge) = random_bytes::<16>() else {
            return EapMschapv2::end_with_reject(Some(identity.identifier));
        };
        let eap_id = identity.identifier.wrapping_add(1);
        let session = Session {
            created: Instant::now(),
            client: request.client.name.clone(),
            identity: identity.data,
            eap_id,
            stage: Stage::ChallengeAsked {
                ms_id: eap_id,
                authenticator_challenge: challenge,
            },
        };
        let message = MschapV2Message::Challenge {
            ms_id: eap_id,
            challenge,
            name: self.server_name.clone(),
        };
        EapStep::Reply(self.challenge(session, message))
    }

    /// Accepts a verified response: sends the MS-CHAPv2 Success-Request (the peer
    /// checks the server with "S=…"); after the peer's Success-Response the crate
    /// answers Access-Accept with EAP-Success, the MPPE keys, User-Name and
    /// `accept_attributes` (Class, Filter-Id, Session-Timeout…).
    pub fn accept(
        &self,
        pending: PendingResponse,
        verified: VerifiedResponse,
        accept_attributes: Vec<Attribute>,
        message: &str,
    ) -> Reply {
        let text = format!("{} M={}", verified.success.authenticator_response, message);
        let session = Session {
            created: Instant::now(),
            client: pending.client,
            identity: pending.identity,
            eap_id: pending.eap_id.wrapping_add(1),
            stage: Stage::SuccessAnnounced {
                keys: verified.success.keys.clone(),
                accept_attributes,
            },
        };
        let request = MschapV2Message::SuccessRequest {
            ms_id: pending.ms_id,
            message: text.into_bytes(),
        };
        self.challenge(session, request)
    }

    /// Rejects a response (wrong password, or refused by policy): sends the
    /// MS-CHAPv2 Failure-Request "E=691 R=0" (no retry), then Access-Reject with
    /// EAP-Failure once the peer acknowledges.
    pub fn reject(&self, pending: PendingResponse, message: &str) -> Reply {
        let next_challenge: [u8; 16] = random_bytes().unwrap_or_default();
        let text = format!(
            "E=691 R=0 C={} V=3 M={}",
            hex_upper(&next_challenge),
            message
        );
        let session = Session {
            created: Instant::now(),
            client: pending.client,
            identity: pending.identity,
            eap_id: pending.eap_id.wrapping_add(1),
            stage: Stage::FailureAnnounced,
        };
        let request = MschapV2Message::FailureRequest {
            ms_id: pending.ms_id,
            message: text.into_bytes(),
        };
        self.challenge(session, request)
    }

    /// Conversations currently remembered.
    pub fn len(&self) -> usize {
        self.sessions.lock().map(|s| s.len()).unwrap_or(0)
    }

    /// True when no conversation is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
#[path = "eap_flow_tests.rs"]
mod tests;
