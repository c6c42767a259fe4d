//! EAP-MSCHAPv2 through the one login decision: the portal's grid or a code as the
//! password, MPPE keys on success, never a phrase.

use super::*;

async fn eap_conversation(fx: &Fixture, user: &str, password: &str) -> Reply {
    let secret = Secret::from(SECRET);
    let request = |eap: &EapPacket, state: Option<&[u8]>| {
        let mut p = Packet::new(Code::AccessRequest, 1, rand::random());
        p.push(Attribute::user_name(user.as_bytes()));
        p.attributes
            .extend(Attribute::eap_messages(&eap.encode().expect("eap")));
        if let Some(s) = state {
            p.push(Attribute::state(s));
        }
        Request::new(p, info("vpn"), secret.clone())
    };
    let eap_of = |reply: &Reply| {
        let p = packet_of(reply);
        (
            EapPacket::parse(&p.eap_message().expect("EAP-Message")).expect("eap"),
            p.state().map(<[u8]>::to_vec),
        )
    };
    let identity = EapPacket::response(0, TYPE_IDENTITY, user.as_bytes().to_vec());
    let reply = fx.ask(request(&identity, None)).await;
    assert_eq!(reply.code, Code::AccessChallenge);
    let (eap, state) = eap_of(&reply);
    let MschapV2Message::Challenge {
        ms_id, challenge, ..
    } = MschapV2Message::parse(EapCode::Request, &eap.data).expect("challenge")
    else {
        panic!("expected the MS-CHAPv2 challenge")
    };
    let peer_challenge = [0x42; 16];
    let nt_response = generate_nt_response(
        &challenge,
        &peer_challenge,
        user.as_bytes(),
        password.as_bytes(),
    )
    .expect("nt response");
    let response = MschapV2Message::Response {
        ms_id,
        peer_challenge,
        nt_response,
        flags: 0,
        name: user.as_bytes().to_vec(),
    }
    .to_eap(EapCode::Response, eap.identifier)
    .expect("eap");
    let reply = fx.ask(request(&response, state.as_deref())).await;
    assert_eq!(reply.code, Code::AccessChallenge);
    let (eap, state) = eap_of(&reply);
    let message = MschapV2Message::parse(EapCode::Request, &eap.data).expect("ms-chapv2");
    let answer = match message {
        MschapV2Message::SuccessRequest { .. } => MschapV2Message::SuccessResponse,
        _ => MschapV2Message::FailureResponse,
    };
    let last = answer
        .to_eap(EapCode::Response, eap.identifier)
        .expect("eap");
    fx.ask(request(&last, state.as_deref())).await
}

#[tokio::test]
async fn eap_mschapv2_checks_the_portals_grid_and_gives_mppe_keys() {
    let fx = fixture(|_| {}).await;
    fx.add_user("ann", false).await;
    let issued = fx.web_grid("ann").await;
    let otp = otp_of(&issued.seed, issued.shape);
    let reply = eap_conversation(&fx, "ann", &otp).await;
    assert_eq!(reply.code, Code::AccessAccept);
    assert!(reply.mppe_keys.is_some(), "MPPE keys in the Accept");
    assert!(packet_of(&reply).classes().next().is_some());
    // The grid is spent.
    let again = eap_conversation(&fx, "ann", &otp).await;
    assert_eq!(again.code, Code::AccessReject);
    // A wrong OTP counts as a failure of the one decision.
    let issued = fx.web_grid("ann").await;
    let otp = otp_of(&issued.seed, issued.shape);
    let failures = fx.audit("auth.login", "failure").await.len();
    let reply = eap_conversation(&fx, "ann", &wrong(&otp)).await;
    assert_eq!(reply.code, Code::AccessReject);
    assert!(fx.audit("auth.login", "failure").await.len() > failures);
    assert!(packet_of(&reply)
        .vendor_attribute(microsoft::VENDOR_ID, microsoft::MS_MPPE_SEND_KEY)
        .is_none());
    // And that grid is gone too: its right OTP no longer passes.
    assert_eq!(
        eap_conversation(&fx, "ann", &otp).await.code,
        Code::AccessReject
    );
}

#[tokio::test]
async fn eap_mschapv2_with_a_totp_code_and_never_with_a_phrase() {
    let fx = fixture(|s| s.method = LoginMethod::Totp).await;
    fx.add_user("ann", false).await;
    let code = fx.give_hardware_token("ann").await;
    assert_eq!(
        eap_conversation(&fx, "ann", &code).await.code,
        Code::AccessAccept
    );
    assert_eq!(
        eap_conversation(&fx, "ann", &code).await.code,
        Code::AccessReject,
        "a code is never accepted twice"
    );

    let fx = fixture(|s| s.phrase.mode = crate::otp::phrase::PhraseMode::After).await;
    fx.add_user("ann", false).await;
    assert_eq!(
        eap_conversation(&fx, "ann", "123456abcd").await.code,
        Code::AccessReject
    );
    let refused = fx.audit("radius.refused", "failure").await;
    assert!(refused[0].reason.contains("phrase"));
}
