//! EAP packets (RFC 3748 §4–5: Request/Response/Success/Failure, Identity, Nak) and
//! the EAP-MSCHAPv2 messages inside them (draft-kamath-pppext-eap-mschapv2-02 §2).

/// EAP method type: Identity (RFC 3748 §5.1).
pub const TYPE_IDENTITY: u8 = 1;
/// EAP method type: Nak (RFC 3748 §5.3.1).
pub const TYPE_NAK: u8 = 3;
/// EAP method type: EAP-MSCHAPv2.
pub const TYPE_MSCHAPV2: u8 = 26;

/// Why octets are not an EAP or EAP-MSCHAPv2 message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum EapError {
    /// Shorter than its header or its Length field.
    #[error("EAP packet truncated")]
    Truncated,
    /// An EAP code other than 1–4.
    #[error("unknown EAP code {0}")]
    UnknownCode(u8),
    /// A Request/Response without a type, or a malformed method message.
    #[error("malformed EAP message")]
    Malformed,
    /// An EAP-MSCHAPv2 OpCode this crate does not handle (e.g. Change-Password).
    #[error("unsupported EAP-MSCHAPv2 opcode {0}")]
    UnsupportedOpCode(u8),
    /// Too large for the 16-bit length fields.
    #[error("EAP packet too long")]
    TooLong,
}

/// EAP codes (RFC 3748 §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EapCode {
    /// Sent by the authenticator.
    Request,
    /// Sent by the peer.
    Response,
    /// Authentication succeeded.
    Success,
    /// Authentication failed.
    Failure,
}

impl EapCode {
    fn to_u8(self) -> u8 {
        match self {
            EapCode::Request => 1,
            EapCode::Response => 2,
            EapCode::Success => 3,
            EapCode::Failure => 4,
        }
    }
}

/// One EAP packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EapPacket {
    /// Request, Response, Success or Failure.
    pub code: EapCode,
    /// Matches a Response to its Request (RFC 3748 §4.1).
    pub identifier: u8,
    /// For Request/Response: the method type (first data octet).
    pub method: Option<u8>,
    /// For Request/Response: the method data after the type octet.
    pub data: Vec<u8>,
}

impl EapPacket {
    /// Parses an EAP packet; octets past its Length are ignored (RFC 3748 §4).
    pub fn parse(bytes: &[u8]) -> Result<EapPacket, EapError> {
        let header = bytes.get(..4).ok_or(EapError::Truncated)?;
        let length = usize::from(u16::from_be_bytes([header[2], header[3]]));
        if length < 4 {
            return Err(EapError::Malformed);
        }
        let body = bytes.get(4..length).ok_or(EapError::Truncated)?;
        let code = match header[0] {
            1 => EapCode::Request,
            2 => EapCode::Response,
            3 => EapCode::Success,
            4 => EapCode::Failure,
            other => return Err(EapError::UnknownCode(other)),
        };
        let (method, data) = match code {
            EapCode::Request | EapCode::Response => {
                let (&t, rest) = body.split_first().ok_or(EapError::Malformed)?;
                (Some(t), rest.to_vec())
            }
            // Success and Failure carry no data (RFC 3748 §4.2).
            EapCode::Success | EapCode::Failure => (None, Vec::new()),
        };
        Ok(EapPacket {
            code,
            identifier: header[1],
            method,
            data,
        })
    }

    /// Encodes the packet.
    pub fn encode(&self) -> Result<Vec<u8>, EapError> {
        let mut out = vec![self.code.to_u8(), self.identifier, 0, 0];
        if let Some(t) = self.method {
            out.push(t);
            out.extend_from_slice(&self.data);
        }
        let len = u16::try_from(out.len()).map_err(|_| EapError::TooLong)?;
        out[2..4].copy_from_slice(&len.to_be_bytes());
        Ok(out)
    }

    /// A Request of a method.
    pub fn request(identifier: u8, method: u8, data: Vec<u8>) -> EapPacket {
        EapPacket {
            code: EapCode::Request,
            identifier,
            method: Some(method),
            data,
        }
    }

    /// A Response of a method.
    pub fn response(identifier: u8, method: u8, data: Vec<u8>) -> EapPacket {
        EapPacket {
            code: EapCode::Response,
            identifier,
            method: Some(method),
            data,
        }
    }

    /// EAP-Success with the identifier of the Response it answers (RFC 3748 §4.2).
    pub fn success(identifier: u8) -> EapPacket {
        EapPacket {
            code: EapCode::Success,
            identifier,
            method: None,
            data: Vec::new(),
        }
    }

    /// EAP-Failure with the identifier of the Response it answers.
    pub fn failure(identifier: u8) -> EapPacket {
        EapPacket {
            code: EapCode::Failure,
            identifier,
            method: None,
            data: Vec::new(),
        }
    }
}

/// The EAP-MSCHAPv2 messages (draft-kamath-pppext-eap-mschapv2-02 §2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MschapV2Message {
    /// OpCode 1, server → peer: the authenticator challenge and server name.
    Challenge {
        /// MS-CHAPv2-ID.
        ms_id: u8,
        /// Authenticator challenge.
        challenge: [u8; 16],
        /// Server name.
        name: Vec<u8>,
    },
    /// OpCode 2, peer → server: peer challenge, NT-Response, flags and user name.
    Response {
        /// MS-CHAPv2-ID (echoes the challenge's).
        ms_id: u8,
        /// Peer challenge.
        peer_challenge: [u8; 16],
        /// NT-Response.
        nt_response: [u8; 24],
        /// Flags (0).
        flags: u8,
        /// The user name that entered ChallengeHash.
        name: Vec<u8>,
    },
    /// OpCode 3 from the server: `S=<auth> M=<message>`.
    SuccessRequest {
        /// MS-CHAPv2-ID.
        ms_id: u8,
        /// The message text.
        message: Vec<u8>,
    },
    /// OpCode 3 from the peer: the peer accepted the server's proof.
    SuccessResponse,
    /// OpCode 4 from the server: "E=691 R=0 C=… V=3 M=…".
    FailureRequest {
        /// MS-CHAPv2-ID.
        ms_id: u8,
        /// The message text.
        message: Vec<u8>,
    },
    /// OpCode 4 from the peer: acknowledges the failure.
    FailureResponse,
}

const OP_CHALLENGE: u8 = 1;
const OP_RESPONSE: u8 = 2;
const OP_SUCCESS: u8 = 3;
const OP_FAILURE: u8 = 4;

fn with_ms_header(opcode: u8, ms_id: u8, body: &[u8]) -> Result<Vec<u8>, EapError> {
    // MS-Length counts from the OpCode to the end (draft §2).
    let ms_length = u16::try_from(body.len() + 4).map_err(|_| EapError::TooLong)?;
    let mut out = vec![opcode, ms_id];
    out.extend_from_slice(&ms_length.to_be_bytes());
    out.extend_from_slice(body);
    Ok(out)
}

impl MschapV2Message {
    /// Parses the method data of an EAP-MSCHAPv2 packet; `code` tells a
    /// Success/Failure Request from a Response.
    pub fn parse(code: EapCode, data: &[u8]) -> Result<MschapV2Message, EapError> {
        let (&opcode, _) = data.split_first().ok_or(EapError::Malformed)?;
        if code == EapCode::Response && (opcode == OP_SUCCESS || opcode == OP_FAILURE) {
            // The peer's Success/Failure responses are the OpCode alone.
            return Ok(if opcode == OP_SUCCESS {
                MschapV2Message::SuccessResponse
            } else {
                MschapV2Message::FailureResponse
            });
        }
        let ms_id = *data.get(1).ok_or(EapError::Malformed)?;
        let ms_length = usize::from(u16::from_be_bytes([
            *data.get(2).ok_or(EapError::Malformed)?,
            *data.get(3).ok_or(EapError::Malformed)?,
        ]));
        let data = data.get(..ms_length).ok_or(EapError::Truncated)?;
        let body = data.get(4..).ok_or(EapError::Malformed)?;
        match (code, opcode) {
            (EapCode::Request, OP_CHALLENGE) => {
                let (&size, rest) = body.split_first().ok_or(EapError::Malformed)?;
                if size != 16 {
                    return Err(EapError::Malformed);
                }
                let challenge = rest.get(..16).ok_or(EapError::Malformed)?;
                Ok(MschapV2Message::Challenge {
                    ms_id,
                    challenge: challenge.try_into().map_err(|_| EapError::Malformed)?,
                    name: rest.get(16..).unwrap_or_default().to_vec(),
                })
            }
            (EapCode::Response, OP_RESPONSE) => {
                let (&size, rest) = body.split_first().ok_or(EapError::Malformed)?;
                // Value: peer challenge 16, reserved 8, NT-Response 24, flags 1.
                if size != 49 {
                    return Err(EapError::Malformed);
                }
                let value = rest.get(..49).ok_or(EapError::Malformed)?;
                let peer_challenge = value.get(..16).ok_or(EapError::Malformed)?;
                let nt_response = value.get(24..48).ok_or(EapError::Malformed)?;
                Ok(MschapV2Message::Response {
                    ms_id,
                    peer_challenge: peer_challenge.try_into().map_err(|_| EapError::Malformed)?,
                    nt_response: nt_response.try_into().map_err(|_| EapError::Malformed)?,
                    flags: *value.get(48).ok_or(EapError::Malformed)?,
                    name: rest.get(49..).unwrap_or_default().to_vec(),
                })
            }
            (EapCode::Request, OP_SUCCESS) => Ok(MschapV2Message::SuccessRequest {
                ms_id,
                message: body.to_vec(),
            }),
            (EapCode::Request, OP_FAILURE) => Ok(MschapV2Message::FailureRequest {
                ms_id,
                message: body.to_vec(),
            }),
            (_, other) => Err(EapError::UnsupportedOpCode(other)),
        }
    }

    /// Encodes the method data (everything after the EAP type octet).
    pub fn encode(&self) -> Result<Vec<u8>, EapError> {
        match self {
            MschapV2Message::Challenge {
                ms_id,
                challenge,
                name,
            } => {
                let mut body = vec![16];
                body.extend_from_slice(challenge);
                body.extend_from_slice(name);
                with_ms_header(OP_CHALLENGE, *ms_id, &body)
            }
            MschapV2Message::Response {
                ms_id,
                peer_challenge,
                nt_response,
                flags,
                name,
            } => {
                let mut body = vec![49];
                body.extend_from_slice(peer_challenge);
                body.extend_from_slice(&[0u8; 8]);
                body.extend_from_slice(nt_response);
                body.push(*flags);
                body.extend_from_slice(name);
                with_ms_header(OP_RESPONSE, *ms_id, &body)
            }
            MschapV2Message::SuccessRequest { ms_id, message } => {
                with_ms_header(OP_SUCCESS, *ms_id, message)
            }
            MschapV2Message::FailureRequest { ms_id, message } => {
                with_ms_header(OP_FAILURE, *ms_id, message)
            }
            MschapV2Message::SuccessResponse => Ok(vec![OP_SUCCESS]),
            MschapV2Message::FailureResponse => Ok(vec![OP_FAILURE]),
        }
    }

    /// This message as an EAP packet of type 26.
    pub fn to_eap(&self, code: EapCode, identifier: u8) -> Result<EapPacket, EapError> {
        Ok(EapPacket {
            code,
            identifier,
            method: Some(TYPE_MSCHAPV2),
            data: self.encode()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eap_round_trips_and_rejects_garbage() {
        let p = EapPacket::response(5, TYPE_IDENTITY, b"bob".to_vec());
        let bytes = p.encode().unwrap();
        assert_eq!(bytes, [2, 5, 0, 8, 1, b'b', b'o', b'b']);
        assert_eq!(EapPacket::parse(&bytes).unwrap(), p);
        let s = EapPacket::success(9).encode().unwrap();
        assert_eq!(s, [3, 9, 0, 4]);
        assert_eq!(EapPacket::parse(&s).unwrap(), EapPacket::success(9));
        assert_eq!(EapPacket::parse(&[2, 1, 0]), Err(EapError::Truncated));
        assert_eq!(EapPacket::parse(&[2, 1, 0, 9, 1]), Err(EapError::Truncated));
        assert_eq!(EapPacket::parse(&[2, 1, 0, 3]), Err(EapError::Malformed));
        assert_eq!(EapPacket::parse(&[2, 1, 0, 4]), Err(EapError::Malformed));
        assert_eq!(
            EapPacket::parse(&[7, 1, 0, 4]),
            Err(EapError::UnknownCode(7))
        );
        // Padding past Length is ignored.
        assert_eq!(
            EapPacket::parse(&[3, 9, 0, 4, 0, 0]).unwrap(),
            EapPacket::success(9)
        );
    }

    #[test]
    fn mschapv2_messages_round_trip() {
        let messages = [
            (
                EapCode::Request,
                MschapV2Message::Challenge {
                    ms_id: 1,
                    challenge: [7; 16],
                    name: b"passgrid".to_vec(),
                },
            ),
            (
                EapCode::Response,
                MschapV2Message::Response {
                    ms_id: 1,
                    peer_challenge: [8; 16],
                    nt_response: [9; 24],
                    flags: 0,
                    name: b"bob".to_vec(),
                },
            ),
            (
                EapCode::Request,
                MschapV2Message::SuccessRequest {
                    ms_id: 1,
                    message: b"S=00 M=ok".to_vec(),
                },
            ),
            (EapCode::Response, MschapV2Message::SuccessResponse),
            (
                EapCode::Request,
                MschapV2Message::FailureRequest {
                    ms_id: 1,
                    message: b"E=691 R=0".to_vec(),
                },
            ),
            (EapCode::Response, MschapV2Message::FailureResponse),
        ];
        for (code, m) in messages {
            let eap = m.to_eap(code, 3).unwrap().encode().unwrap();
            let back = EapPacket::parse(&eap).unwrap();
            assert_eq!(back.method, Some(TYPE_MSCHAPV2));
            assert_eq!(MschapV2Message::parse(code, &back.data).unwrap(), m);
        }
    }

    #[test]
    fn malformed_mschapv2_is_an_error() {
        assert!(MschapV2Message::parse(EapCode::Response, &[]).is_err());
        assert!(MschapV2Message::parse(EapCode::Response, &[2, 1, 0, 60, 49]).is_err());
        assert!(MschapV2Message::parse(EapCode::Response, &[2, 1, 0, 5, 48]).is_err());
        assert!(MschapV2Message::parse(EapCode::Request, &[1, 1, 0, 5, 16]).is_err());
        assert_eq!(
            MschapV2Message::parse(EapCode::Response, &[7, 1, 0, 4]),
            Err(EapError::UnsupportedOpCode(7))
        );
    }
}
