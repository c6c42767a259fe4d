//! RadSec framing (RFC 6614) over an in-memory stream standing in for TLS.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use passgrid_radius::authenticator::{
    check_message_authenticator, encode_request, verify_response_authenticator,
    MessageAuthenticatorCheck,
};
use passgrid_radius::secret::radsec_secret;
use passgrid_radius::{serve_stream, Attribute, ClientInfo, Code, Counters, Packet, Transport};
use tokio::io::{AsyncReadExt, AsyncWriteExt, DuplexStream};

fn start() -> (
    DuplexStream,
    Arc<Counters>,
    tokio::task::JoinHandle<std::io::Result<()>>,
) {
    let (client_end, server_end) = tokio::io::duplex(64 * 1024);
    let counters = Arc::new(Counters::default());
    let info = ClientInfo {
        name: "radsec-nas".into(),
        source: "127.0.0.1:40000".parse().unwrap(),
        transport: Transport::RadSec,
    };
    let handler = Arc::new(TestHandler::new(Duration::ZERO));
    let task = tokio::spawn(serve_stream(server_end, info, handler, counters.clone()));
    (client_end, counters, task)
}

async fn read_packet(stream: &mut DuplexStream) -> Vec<u8> {
    let mut header = [0u8; 4];
    tokio::time::timeout(Duration::from_secs(2), stream.read_exact(&mut header))
        .await
        .unwrap()
        .unwrap();
    let len = usize::from(u16::from_be_bytes([header[2], header[3]]));
    let mut bytes = header.to_vec();
    bytes.resize(len, 0);
    stream.read_exact(&mut bytes[4..]).await.unwrap();
    bytes
}

#[tokio::test]
async fn pipelined_requests_are_answered_with_the_radsec_secret() {
    let (mut stream, counters, _task) = start();
    let secret = radsec_secret();
    let mut pap = access_request(PAP_USER, Some(PAP_PASSWORD), &secret);
    pap.identifier = 1;
    let mut acct = Packet::new(Code::AccountingRequest, 2, [0; 16]);
    acct.push(Attribute::acct_status_type(2));
    let pap_bytes = encode_request(&pap, &secret).unwrap();
    let acct_bytes = encode_request(&acct, &secret).unwrap();
    // Both in one write: framing must come from the Length fields alone.
    let mut both = pap_bytes.clone();
    both.extend_from_slice(&acct_bytes);
    stream.write_all(&both).await.unwrap();
    let mut replies = [
        read_packet(&mut stream).await,
        read_packet(&mut stream).await,
    ];
    replies.sort_by_key(|r| r[1]);
    assert!(verify_response_authenticator(
        &replies[0],
        &pap.authenticator,
        &secret
    ));
    assert_eq!(
        check_message_authenticator(&replies[0], &pap.authenticator, &secret),
        MessageAuthenticatorCheck::Valid
    );
    assert_eq!(Packet::parse(&replies[0]).unwrap().code, Code::AccessAccept);
    let acct_auth: [u8; 16] = acct_bytes[4..20].try_into().unwrap();
    assert!(verify_response_authenticator(
        &replies[1],
        &acct_auth,
        &secret
    ));
    assert_eq!(
        Packet::parse(&replies[1]).unwrap().code,
        Code::AccountingResponse
    );
    assert_eq!(counters.snapshot().replied, 2);
}

#[tokio::test]
async fn forged_packet_is_dropped_and_a_bad_length_closes_the_stream() {
    let (mut stream, counters, task) = start();
    let wrong: passgrid_radius::Secret = "not-radsec".into();
    let forged = encode_request(
        &access_request(PAP_USER, Some(PAP_PASSWORD), &wrong),
        &wrong,
    )
    .unwrap();
    stream.write_all(&forged).await.unwrap();
    // The connection still works after a dropped packet.
    let secret = radsec_secret();
    let status = Packet::new(Code::StatusServer, 5, [4; 16]);
    stream
        .write_all(&encode_request(&status, &secret).unwrap())
        .await
        .unwrap();
    let reply = read_packet(&mut stream).await;
    assert_eq!(reply[1], 5);
    assert_eq!(Packet::parse(&reply).unwrap().code, Code::AccessAccept);
    // A Length field of 5 cannot be framed: the server closes the stream.
    stream.write_all(&[1, 9, 0, 5, 0]).await.unwrap();
    let result = tokio::time::timeout(Duration::from_secs(2), task).await;
    assert!(matches!(result, Ok(Ok(Ok(())))));
    let mut rest = Vec::new();
    stream.read_to_end(&mut rest).await.unwrap();
    assert!(rest.is_empty());
    let c = counters.snapshot();
    assert_eq!(c.dropped_bad_message_authenticator, 1);
    assert_eq!(c.dropped_malformed, 1);
}
