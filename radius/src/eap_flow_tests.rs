//! A simulated peer walks the EAP-MSCHAPv2 conversation through [`EapMschapv2`].

use super::*;
use crate::clients::{ClientInfo, Transport};
use crate::mschapv2::{generate_nt_response, hash_nt_password_hash, nt_password_hash};
use crate::packet::Packet;
use crate::secret::Secret;

fn request(client: &str, eap: &EapPacket, state: Option<&[u8]>) -> Request {
    let mut packet = Packet::new(Code::AccessRequest, 1, [0; 16]);
    packet.push(Attribute::user_name(b"bob"));
    packet
        .attributes
        .extend(Attribute::eap_messages(&eap.encode().unwrap()));
    if let Some(s) = state {
        packet.push(Attribute::state(s));
    }
    let info = ClientInfo {
        name: client.into(),
        source: "127.0.0.1:5000".parse().unwrap(),
        transport: Transport::Udp,
    };
    Request::new(packet, info, Secret::from("s"))
}

fn reply_eap(reply: &Reply) -> (EapPacket, Option<Vec<u8>>) {
    let mut p = Packet::new(reply.code, 0, [0; 16]);
    p.attributes = reply.attributes.clone();
    let eap = EapPacket::parse(&p.eap_message().unwrap()).unwrap();
    (eap, p.state().map(<[u8]>::to_vec))
}

fn expect_reply(step: EapStep) -> Reply {
    match step {
        EapStep::Reply(r) => r,
        EapStep::Verify(_) => panic!("expected a reply"),
    }
}

/// Runs identity + response; returns the pending verification and the state.
fn up_to_response(flow: &EapMschapv2, password: &str) -> PendingResponse {
    let identity = EapPacket::response(0, TYPE_IDENTITY, b"bob".to_vec());
    let reply = expect_reply(flow.step(&request("nas", &identity, None)));
    assert_eq!(reply.code, Code::AccessChallenge);
    let (eap, state) = reply_eap(&reply);
    assert_eq!(eap.code, EapCode::Request);
    let MschapV2Message::Challenge {
        ms_id,
        challenge,
        name,
    } = MschapV2Message::parse(EapCode::Request, &eap.data).unwrap()
    else {
        panic!("expected a challenge")
    };
    assert_eq!(name, b"passgrid");
    let peer_challenge = [0x21; 16];
    let nt_response =
        generate_nt_response(&challenge, &peer_challenge, b"bob", password.as_bytes()).unwrap();
    let response = MschapV2Message::Response {
        ms_id,
        peer_challenge,
        nt_response,
        flags: 0,
        name: b"bob".to_vec(),
    }
    .to_eap(EapCode::Response, eap.identifier)
    .unwrap();
    match flow.step(&request("nas", &response, state.as_deref())) {
        EapStep::Verify(p) => p,
        EapStep::Reply(r) => panic!("expected verify, got {r:?}"),
    }
}

#[test]
fn right_password_ends_in_accept_with_keys() {
    let flow = EapMschapv2::new("passgrid");
    let pending = up_to_response(&flow, "123456");
    assert_eq!(pending.identity(), b"bob");
    assert_eq!(pending.user_name(), b"bob");
    let verified = pending.verify(&["000000", "123456"]).unwrap();
    assert_eq!(verified.candidate_index(), 1);
    let reply = flow.accept(pending, verified, vec![Attribute::class(b"vpn")], "welcome");
    let (eap, state) = reply_eap(&reply);
    let MschapV2Message::SuccessRequest { message, .. } =
        MschapV2Message::parse(EapCode::Request, &eap.data).unwrap()
    else {
        panic!("expected success request")
    };
    assert!(message.starts_with(b"S="));
    assert!(message.ends_with(b" M=welcome"));
    let ack = MschapV2Message::SuccessResponse
        .to_eap(EapCode::Response, eap.identifier)
        .unwrap();
    let reply = expect_reply(flow.step(&request("nas", &ack, state.as_deref())));
    assert_eq!(reply.code, Code::AccessAccept);
    let (eap_success, _) = reply_eap(&reply);
    assert_eq!(eap_success, EapPacket::success(eap.identifier));
    let keys = reply.mppe_keys.clone().unwrap();
    let hash = nt_password_hash(b"123456").unwrap();
    let _ = hash_nt_password_hash(&hash);
    assert_ne!(keys.send, [0; 16]);
    assert!(reply.attributes.contains(&Attribute::class(b"vpn")));
    // The State is single-use.
    let again = expect_reply(flow.step(&request("nas", &ack, state.as_deref())));
    assert_eq!(again.code, Code::AccessReject);
    assert!(flow.is_empty());
}

#[test]
fn wrong_password_ends_in_reject() {
    let flow = EapMschapv2::new("passgrid");
    let pending = up_to_response(&flow, "999999");
    assert!(pending.verify(&["123456"]).is_none());
    assert!(pending.verify::<&str>(&[]).is_none());
    let reply = flow.reject(pending, "wrong code");
    assert_eq!(reply.code, Code::AccessChallenge);
    let (eap, state) = reply_eap(&reply);
    let MschapV2Message::FailureRequest { message, .. } =
        MschapV2Message::parse(EapCode::Request, &eap.data).unwrap()
    else {
        panic!("expected failure request")
    };
    assert!(message.starts_with(b"E=691 R=0 C="));
    let ack = MschapV2Message::FailureResponse
        .to_eap(EapCode::Response, eap.identifier)
        .unwrap();
    let reply = expect_reply(flow.step(&request("nas", &ack, state.as_deref())));
    assert_eq!(reply.code, Code::AccessReject);
    assert_eq!(reply_eap(&reply).0, EapPacket::failure(eap.identifier));
    assert!(reply.mppe_keys.is_none());
}

#[test]
fn nak_foreign_state_and_garbage_are_rejected() {
    let flow = EapMschapv2::new("passgrid");
    let identity = EapPacket::response(0, TYPE_IDENTITY, b"bob".to_vec());
    let reply = expect_reply(flow.step(&request("nas", &identity, None)));
    let (eap, state) = reply_eap(&reply);
    // Same State from another client: rejected.
    let nak = EapPacket::response(eap.identifier, TYPE_NAK, vec![4]);
    let r = expect_reply(flow.step(&request("other-nas", &nak, state.as_deref())));
    assert_eq!(r.code, Code::AccessReject);
    // A Nak with a fresh conversation: rejected.
    let reply = expect_reply(flow.step(&request("nas", &identity, None)));
    let (eap, state) = reply_eap(&reply);
    let nak = EapPacket::response(eap.identifier, TYPE_NAK, vec![4]);
    let r = expect_reply(flow.step(&request("nas", &nak, state.as_deref())));
    assert_eq!(r.code, Code::AccessReject);
    // No EAP at all, and an unknown State.
    let mut bare = request("nas", &identity, None);
    bare.packet.remove_all(crate::attributes::kind::EAP_MESSAGE);
    assert_eq!(expect_reply(flow.step(&bare)).code, Code::AccessReject);
    let stray = EapPacket::response(3, TYPE_MSCHAPV2, vec![3]);
    let r = expect_reply(flow.step(&request("nas", &stray, Some(&[0; 16]))));
    assert_eq!(r.code, Code::AccessReject);
}
