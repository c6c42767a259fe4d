//! PSKC seed files (RFC 6030), plain or encrypted under a pre-shared key.

use std::collections::HashMap;

use base64::Engine as _;
use roxmltree::Node;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::*;

/// Reads a PSKC (RFC 6030) KeyContainer of TOTP keys. Secrets may be plain (base64)
/// or AES-CBC encrypted under `preshared_key` (§6.1); encrypted values must carry a
/// valid ValueMAC, checked before decrypting. One bad package refuses the whole file.
pub fn parse_pskc(
    bytes: &[u8],
    preshared_key: Option<&[u8]>,
) -> Result<Vec<TokenRecord>, TokenFileError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(TokenFileError::TooLarge {
            max: MAX_FILE_BYTES,
        });
    }
    let text = std::str::from_utf8(strip_bom(bytes))
        .map_err(|_| TokenFileError::Pskc(PskcProblem::NotXml("the text is not UTF-8".into())))?
        // Some exports start with a blank line, which XML forbids before `<?xml`.
        .trim_start();
    // DTDs stay refused (roxmltree's default, stated here so nobody flips it):
    // entity expansion is the classic XML bomb, and PSKC never needs one.
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        ..roxmltree::ParsingOptions::default()
    };
    let document = roxmltree::Document::parse_with_options(text, options).map_err(|error| {
        TokenFileError::Pskc(match error {
            roxmltree::Error::DtdDetected => PskcProblem::Dtd,
            other => PskcProblem::NotXml(other.to_string()),
        })
    })?;
    let root = document.root_element();
    if !is_element(root, PSKC_NS, "KeyContainer") {
        return Err(TokenFileError::Pskc(PskcProblem::NotPskc));
    }
    match root.attribute("Version") {
        Some("1.0") => {}
        other => {
            let version = other.map_or_else(|| "(none)".to_owned(), shown);
            return Err(TokenFileError::Pskc(PskcProblem::Version(version)));
        }
    }
    let protection = container_protection(root, preshared_key).map_err(TokenFileError::Pskc)?;

    let packages: Vec<Node<'_, '_>> = children(root, PSKC_NS, "KeyPackage").collect();
    if packages.is_empty() {
        return Err(TokenFileError::Pskc(PskcProblem::NoKeyPackages));
    }
    if packages.len() > MAX_TOKENS {
        return Err(TokenFileError::TooManyTokens { max: MAX_TOKENS });
    }
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut tokens = Vec::with_capacity(packages.len());
    for (position, package) in packages.into_iter().enumerate() {
        let index = position + 1;
        let token = read_package(index, package, protection.as_ref())?;
        if let Some(&first_index) = seen.get(&token.serial) {
            return Err(TokenFileError::KeyPackage {
                index,
                serial: Some(token.serial),
                problem: PackageProblem::DuplicateSerial { first_index },
            });
        }
        seen.insert(token.serial.clone(), index);
        tokens.push(token);
    }
    Ok(tokens)
}

/// The pre-shared key and MAC key of an encrypted container.
struct Protection {
    key: Zeroizing<Vec<u8>>,
    mac: MacKey,
}

struct MacKey {
    algorithm: MacAlgorithm,
    key: Zeroizing<Vec<u8>>,
}

#[derive(Clone, Copy)]
enum MacAlgorithm {
    HmacSha1,
    HmacSha256,
}

/// `None` for a container without encrypted values (any given key is then unused).
fn container_protection(
    root: Node<'_, '_>,
    preshared_key: Option<&[u8]>,
) -> Result<Option<Protection>, PskcProblem> {
    let encryption_key = child(root, PSKC_NS, "EncryptionKey");
    if let Some(encryption_key) = encryption_key {
        if child(encryption_key, XENC11_NS, "DerivedKey").is_some() {
            return Err(PskcProblem::UnsupportedProtection(
                "a password-derived key (PBKDF2)",
            ));
        }
        if child(encryption_key, DS_NS, "X509Data").is_some() {
            return Err(PskcProblem::UnsupportedProtection(
                "a certificate (asymmetric encryption)",
            ));
        }
    }
    let encrypted = root.descendants().any(|node| {
        is_element(node, PSKC_NS, "EncryptedValue") || is_element(node, PSKC_NS, "MACKey")
    });
    if !encrypted {
        return Ok(None);
    }
    let Some(preshared_key) = preshared_key else {
        let key_name = encryption_key
            .and_then(|node| child(node, DS_NS, "KeyName"))
            .map(|node| shown_uri(text_of(node).trim()));
        return Err(PskcProblem::NoKeyGiven { key_name });
    };
    let method = child(root, PSKC_NS, "MACMethod").ok_or(PskcProblem::NoMacMethod)?;
    let algorithm = match method.attribute("Algorithm").map(str::trim) {
        Some(HMAC_SHA1_URI) => MacAlgorithm::HmacSha1,
        Some(HMAC_SHA256_URI) => MacAlgorithm::HmacSha256,
        other => {
            return Err(PskcProblem::MacAlgorithm(shown_uri(
                other.unwrap_or("(none)"),
            )))
        }
    };
    let mac_key_node = child(method, PSKC_NS, "MACKey").ok_or(PskcProblem::NoMacKey)?;
    // The MAC key has no MAC of its own: a wrong pre-shared key shows as bad padding
    // here or, failing that, as a ValueMAC mismatch on every secret.
    let (cipher, data) = cipher_value(mac_key_node).map_err(PskcProblem::MacKey)?;
    let mac_key = decrypt_cbc(cipher, preshared_key, &data).map_err(PskcProblem::MacKey)?;
    if mac_key.is_empty() {
        return Err(PskcProblem::MacKey(ValueProblem::Empty));
    }
    Ok(Some(Protection {
        key: Zeroizing::new(preshared_key.to_vec()),
        mac: MacKey {
            algorithm,
            key: mac_key,
        },
    }))
}

fn read_package(
    index: usize,
    package: Node<'_, '_>,
    protection: Option<&Protection>,
) -> Result<TokenRecord, TokenFileError> {
    let keys: Vec<Node<'_, '_>> = children(package, PSKC_NS, "Key").collect();
    let device_serial = child(package, PSKC_NS, "DeviceInfo")
        .and_then(|info| child(info, PSKC_NS, "SerialNo"))
        .map(|node| text_of(node).trim().to_owned())
        .filter(|serial| !serial.is_empty());
    let serial = device_serial.or_else(|| {
        keys.first()
            .and_then(|key| key.attribute("Id"))
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty())
    });
    let serial = match serial {
        Some(serial) if serial_is_acceptable(&serial) => Some(serial),
        Some(_) => return Err(package_error(index, None, PackageProblem::BadSerial)),
        None => None,
    };
    let fail = |problem| package_error(index, serial.clone(), problem);

    let key = match keys.as_slice() {
        [] => return Err(fail(PackageProblem::NoKey)),
        [key] => *key,
        several => return Err(fail(PackageProblem::SeveralKeys(several.len()))),
    };
    let Some(serial) = serial.clone() else {
        return Err(fail(PackageProblem::NoSerial));
    };
    let algorithm_uri = key
        .attribute("Algorithm")
        .map(str::trim)
        .ok_or_else(|| fail(PackageProblem::NoAlgorithm))?;
    if !TOTP_URIS.contains(&algorithm_uri) {
        let name = if HOTP_URIS.contains(&algorithm_uri) {
            format!("HOTP ({algorithm_uri})")
        } else {
            shown_uri(algorithm_uri)
        };
        return Err(fail(PackageProblem::NotTotp(name)));
    }

    let defaults = TotpParams::default();
    let parameters = child(key, PSKC_NS, "AlgorithmParameters");
    let algorithm = match parameters.and_then(|node| child(node, PSKC_NS, "Suite")) {
        Some(suite) => text_of(suite)
            .parse::<TotpAlgorithm>()
            .map_err(|error| fail(PackageProblem::Totp(error)))?,
        None => defaults.algorithm,
    };
    let digits = match parameters.and_then(|node| child(node, PSKC_NS, "ResponseFormat")) {
        Some(format) => {
            if let Some(encoding) = format.attribute("Encoding") {
                if !encoding.trim().eq_ignore_ascii_case("DECIMAL") {
                    return Err(fail(PackageProblem::ResponseEncoding(shown(encoding))));
                }
            }
            let length = format.attribute("Length").unwrap_or("");
            pskc_number("ResponseFormat Length", length).map_err(&fail)?
        }
        None => defaults.digits,
    };

    let data = child(key, PSKC_NS, "Data");
    let period = match data.and_then(|node| child(node, PSKC_NS, "TimeInterval")) {
        Some(interval) => plain_number(interval, "TimeInterval").map_err(&fail)?,
        None => defaults.period,
    };
    if let Some(start) = data.and_then(|node| child(node, PSKC_NS, "Time")) {
        let start: u64 = plain_number(start, "Time").map_err(&fail)?;
        if start != 0 {
            return Err(fail(PackageProblem::StartTime));
        }
    }
    let params =
        TotpParams::new(algorithm, digits, period).map_err(|e| fail(PackageProblem::Totp(e)))?;

    let secret_node = data
        .and_then(|node| child(node, PSKC_NS, "Secret"))
        .ok_or_else(|| fail(PackageProblem::NoSecret))?;
    let mut secret = secret_bytes(secret_node, protection).map_err(&fail)?;
    let secret = TotpSecret::from_bytes(std::mem::take(&mut *secret))
        .map_err(|e| fail(PackageProblem::Totp(e)))?;
    Ok(TokenRecord {
        serial,
        secret,
        params,
    })
}

fn package_error(index: usize, serial: Option<String>, problem: PackageProblem) -> TokenFileError {
    TokenFileError::KeyPackage {
        index,
        serial,
        problem,
    }
}

/// The seed from `Secret/PlainValue` or, MAC checked first, `Secret/EncryptedValue`.
fn secret_bytes(
    secret: Node<'_, '_>,
    protection: Option<&Protection>,
) -> Result<Zeroizing<Vec<u8>>, PackageProblem> {
    if let Some(plain) = child(secret, PSKC_NS, "PlainValue") {
        return decode_base64(&text_of(plain))
            .map_err(|_| PackageProblem::Value(ValueProblem::Base64("secret")));
    }
    let Some(encrypted) = child(secret, PSKC_NS, "EncryptedValue") else {
        return Err(PackageProblem::NoSecret);
    };
    // container_protection returns Some whenever an EncryptedValue exists.
    let protection = protection.ok_or(PackageProblem::NoSecret)?;
    let (cipher, data) = cipher_value(encrypted).map_err(PackageProblem::Value)?;
    // Authenticate before decrypting (RFC 6030 §6.1.1), so an altered ciphertext
    // never reaches the padding check.
    check_value_mac(&protection.mac, &data, child(secret, PSKC_NS, "ValueMAC"))
        .map_err(PackageProblem::Value)?;
    decrypt_cbc(cipher, &protection.key, &data).map_err(PackageProblem::Value)
}

fn check_value_mac(
    mac: &MacKey,
    data: &[u8],
    value_mac: Option<Node<'_, '_>>,
) -> Result<(), ValueProblem> {
    use hmac::{Hmac, Mac};
    let node = value_mac.ok_or(ValueProblem::MissingMac)?;
    let given = decode_base64(&text_of(node)).map_err(|_| ValueProblem::Base64("ValueMAC"))?;
    let expected: Vec<u8> = match mac.algorithm {
        MacAlgorithm::HmacSha1 => {
            let mut hmac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(&mac.key)
                .map_err(|_| ValueProblem::MacMismatch)?;
            hmac.update(data);
            hmac.finalize().into_bytes().to_vec()
        }
        MacAlgorithm::HmacSha256 => {
            let mut hmac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(&mac.key)
                .map_err(|_| ValueProblem::MacMismatch)?;
            hmac.update(data);
            hmac.finalize().into_bytes().to_vec()
        }
    };
    // Constant time, so the comparison does not tell how many bytes were right.
    if bool::from(expected.as_slice().ct_eq(given.as_slice())) {
        Ok(())
    } else {
        Err(ValueProblem::MacMismatch)
    }
}

#[derive(Debug, Clone, Copy)]
enum CbcCipher {
    Aes128,
    Aes192,
    Aes256,
}

impl CbcCipher {
    fn from_uri(uri: &str) -> Option<Self> {
        match uri {
            "http://www.w3.org/2001/04/xmlenc#aes128-cbc" => Some(Self::Aes128),
            "http://www.w3.org/2001/04/xmlenc#aes192-cbc" => Some(Self::Aes192),
            "http://www.w3.org/2001/04/xmlenc#aes256-cbc" => Some(Self::Aes256),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Self::Aes128 => "aes128-cbc",
            Self::Aes192 => "aes192-cbc",
            Self::Aes256 => "aes256-cbc",
        }
    }

    fn key_len(self) -> usize {
        match self {
            Self::Aes128 => 16,
            Self::Aes192 => 24,
            Self::Aes256 => 32,
        }
    }
}

/// The cipher and `IV || ciphertext` of an xenc-style encrypted value.
fn cipher_value(node: Node<'_, '_>) -> Result<(CbcCipher, Vec<u8>), ValueProblem> {
    let method =
        child(node, XENC_NS, "EncryptionMethod").ok_or(ValueProblem::NoEncryptionMethod)?;
    let uri = method.attribute("Algorithm").unwrap_or("").trim();
    let cipher =
        CbcCipher::from_uri(uri).ok_or_else(|| ValueProblem::EncryptionMethod(shown_uri(uri)))?;
    let value = child(node, XENC_NS, "CipherData")
        .and_then(|data| child(data, XENC_NS, "CipherValue"))
        .ok_or(ValueProblem::NoCipherValue)?;
    let data = decode_base64(&text_of(value)).map_err(|_| ValueProblem::Base64("CipherValue"))?;
    if data.len() < 32 || !data.len().is_multiple_of(16) {
        return Err(ValueProblem::CipherLength);
    }
    Ok((cipher, data.to_vec()))
}

/// AES-CBC with the IV prepended and PKCS#7 padding (RFC 6030 §6.1).
fn decrypt_cbc(
    cipher: CbcCipher,
    key: &[u8],
    data: &[u8],
) -> Result<Zeroizing<Vec<u8>>, ValueProblem> {
    use aes::cipher::{block_padding::Pkcs7, BlockModeDecrypt, KeyIvInit};
    if key.len() != cipher.key_len() {
        return Err(ValueProblem::KeyLength {
            given: key.len(),
            needed: cipher.key_len(),
            method: cipher.name(),
        });
    }
    let (iv, ciphertext) = data.split_at(16);
    let mut buffer = Zeroizing::new(ciphertext.to_vec());
    let plain_len = match cipher {
        CbcCipher::Aes128 => cbc::Decryptor::<aes::Aes128>::new_from_slices(key, iv)
            .map_err(|_| ValueProblem::Decrypt)?
            .decrypt_padded::<Pkcs7>(&mut buffer)
            .map(<[u8]>::len),
        CbcCipher::Aes192 => cbc::Decryptor::<aes::Aes192>::new_from_slices(key, iv)
            .map_err(|_| ValueProblem::Decrypt)?
            .decrypt_padded::<Pkcs7>(&mut buffer)
            .map(<[u8]>::len),
        CbcCipher::Aes256 => cbc::Decryptor::<aes::Aes256>::new_from_slices(key, iv)
            .map_err(|_| ValueProblem::Decrypt)?
            .decrypt_padded::<Pkcs7>(&mut buffer)
            .map(<[u8]>::len),
    }
    .map_err(|_| ValueProblem::Decrypt)?;
    buffer.truncate(plain_len);
    Ok(buffer)
}

/// An integer from `<Field><PlainValue>n</PlainValue></Field>`.
fn plain_number<T: std::str::FromStr>(
    field: Node<'_, '_>,
    name: &'static str,
) -> Result<T, PackageProblem> {
    match child(field, PSKC_NS, "PlainValue") {
        Some(plain) => pskc_number(name, text_of(plain).trim()),
        None if child(field, PSKC_NS, "EncryptedValue").is_some() => {
            Err(PackageProblem::EncryptedParameter(name))
        }
        None => pskc_number(name, ""),
    }
}

fn pskc_number<T: std::str::FromStr>(
    field: &'static str,
    value: &str,
) -> Result<T, PackageProblem> {
    value
        .trim()
        .parse()
        .map_err(|_| PackageProblem::NotANumber {
            field,
            value: shown(value),
        })
}

/// Namespace + local name: vendors use `pskc:`, no prefix or others for the same thing.
fn is_element(node: Node<'_, '_>, namespace: &str, name: &str) -> bool {
    node.is_element()
        && node.tag_name().name() == name
        && node.tag_name().namespace() == Some(namespace)
}

fn child<'a, 'input>(
    node: Node<'a, 'input>,
    namespace: &str,
    name: &str,
) -> Option<Node<'a, 'input>> {
    node.children()
        .find(|child| is_element(*child, namespace, name))
}

fn children<'a, 'input: 'a>(
    node: Node<'a, 'input>,
    namespace: &'static str,
    name: &'static str,
) -> impl Iterator<Item = Node<'a, 'input>> {
    node.children()
        .filter(move |child| is_element(*child, namespace, name))
}

/// All text inside an element (a comment may split it into several nodes).
fn text_of(node: Node<'_, '_>) -> Zeroizing<String> {
    let mut text = Zeroizing::new(String::new());
    for piece in node.descendants().filter(Node::is_text) {
        text.push_str(piece.text().unwrap_or(""));
    }
    text
}

/// Base64 as vendors write it: line breaks and spaces anywhere, padding optional.
fn decode_base64(text: &str) -> Result<Zeroizing<Vec<u8>>, base64::DecodeSliceError> {
    use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
    const LENIENT: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );
    let compact: Zeroizing<String> =
        Zeroizing::new(text.chars().filter(|c| !c.is_whitespace()).collect());
    let mut out = Zeroizing::new(vec![0u8; base64::decoded_len_estimate(compact.len())]);
    let len = LENIENT.decode_slice(compact.as_bytes(), &mut out[..])?;
    out.truncate(len);
    Ok(out)
}

/// URIs and names from the file in messages: whole, unless absurdly long.
fn shown_uri(value: &str) -> String {
    if value.chars().count() <= 100 {
        value.to_owned()
    } else {
        let head: String = value.chars().take(100).collect();
        format!("{head}…")
    }
}
