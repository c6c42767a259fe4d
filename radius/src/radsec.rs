//! RadSec framing (RFC 6614): RADIUS packets back to back on a TLS stream, each
//! delimited by its own Length field, with the fixed shared secret "radsec". The
//! TLS handshake and the client certificate check stay with the caller.

use std::io;
use std::sync::Arc;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, Semaphore};

use crate::clients::ClientInfo;
use crate::packet::{Code, Packet, HEADER_LEN};
use crate::secret::radsec_secret;
use crate::server::{
    authenticate_request, finish_reply, status_server_reply, Counters, DropReason, Handler, Request,
};

/// Requests decided at once on one connection; reading pauses beyond that.
const MAX_IN_FLIGHT_PER_CONNECTION: usize = 64;

/// Serves one established (already authenticated) RadSec connection until the peer
/// closes it. Requests are decided concurrently and answered as they finish (RFC 6614
/// §2.5 lets replies come in any order). A packet whose Length field is impossible
/// ends the connection, since the stream can no longer be framed (RFC 6614 §2.6).
pub async fn serve_stream<S, H>(
    stream: S,
    client: ClientInfo,
    handler: H,
    counters: Arc<Counters>,
) -> io::Result<()>
where
    S: AsyncRead + AsyncWrite + Send + 'static,
    H: Handler,
{
    let handler = Arc::new(handler);
    let (mut reader, mut writer) = tokio::io::split(stream);
    let (replies, mut outgoing) = mpsc::channel::<Vec<u8>>(MAX_IN_FLIGHT_PER_CONNECTION);
    let write_counters = counters.clone();
    let writer_task = tokio::spawn(async move {
        while let Some(bytes) = outgoing.recv().await {
            writer.write_all(&bytes).await?;
            write_counters
                .replied
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        writer.shutdown().await
    });
    let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT_PER_CONNECTION));
    let secret = radsec_secret();
    let result = loop {
        let mut header = [0u8; 4];
        match reader.read_exact(&mut header).await {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break Ok(()),
            Err(e) => break Err(e),
        }
        counters
            .received
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let Ok(length) = Packet::declared_length(&header) else {
            counters.count_drop(DropReason::Malformed);
            break Ok(());
        };
        let mut packet_bytes = vec![0u8; length];
        packet_bytes[..4].copy_from_slice(&header);
        if let Some(rest) = packet_bytes.get_mut(4..) {
            if let Err(e) = reader.read_exact(rest).await {
                break if e.kind() == io::ErrorKind::UnexpectedEof {
                    Ok(())
                } else {
                    Err(e)
                };
            }
        }
        debug_assert!(packet_bytes.len() >= HEADER_LEN);
        // TLS already authenticates the peer; Message-Authenticator is checked if sent.
        let packet = match authenticate_request(&packet_bytes, &secret, false) {
            Ok(packet) => packet,
            Err(reason) => {
                counters.count_drop(reason);
                continue;
            }
        };
        if packet.code == Code::StatusServer {
            if let Some(bytes) = status_server_reply(&packet, &secret) {
                if replies.send(bytes).await.is_err() {
                    break Ok(());
                }
            }
            continue;
        }
        let Ok(slot) = slots.clone().acquire_owned().await else {
            break Ok(());
        };
        let (handler, counters, replies, info, secret) = (
            handler.clone(),
            counters.clone(),
            replies.clone(),
            client.clone(),
            secret.clone(),
        );
        tokio::spawn(async move {
            let _slot = slot;
            let request = Request::new(packet.clone(), info, secret.clone());
            let reply = handler.handle(request).await;
            if let Some(bytes) = finish_reply(reply, &packet, &secret, &counters) {
                // The writer is gone only if the connection already failed.
                let _ = replies.send(bytes).await;
            }
        });
    };
    // Let the writer drain what the spawned requests still send, then close.
    drop(replies);
    let written = writer_task.await.unwrap_or(Ok(()));
    result.and(written)
}
