//! Optional assertion encryption (SAML Core §6.2, XML Encryption 1.1): the signed
//! assertion becomes `saml:EncryptedAssertion/xenc:EncryptedData` of type Element,
//! its content key sent in `xenc:EncryptedKey` by RSA-OAEP (MGF1 with SHA-1, the
//! `rsa-oaep-mgf1p` every SAML SP supports) to the SP's encryption certificate.

use aes_gcm::aead::{Aead, KeyInit};
use base64::Engine;
use cbc::cipher::{block_padding::Pkcs7, BlockModeEncrypt, KeyIvInit};
use rand_core::{OsRng, TryRngCore};
use rsa::Oaep;
use zeroize::Zeroizing;

use crate::error::{Result, SamlError};
use crate::messages::response::Encryption;
use crate::names::{NS_ASSERTION, NS_DSIG, NS_XENC};
use crate::writer::El;

/// `rsa-oaep-mgf1p` key transport (XML Encryption §5.4.2).
pub const ALG_RSA_OAEP_MGF1P: &str = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p";
/// AES-256-GCM content encryption (XML Encryption 1.1 §5.2.4).
pub const ALG_AES256_GCM: &str = "http://www.w3.org/2009/xmlenc11#aes256-gcm";
/// AES-128-CBC content encryption (XML Encryption §5.2.2).
pub const ALG_AES128_CBC: &str = "http://www.w3.org/2001/04/xmlenc#aes128-cbc";
/// `Type` of EncryptedData holding one element.
const TYPE_ELEMENT: &str = "http://www.w3.org/2001/04/xmlenc#Element";

/// The content cipher for an encrypted assertion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentCipher {
    /// AES-256-GCM: authenticated; the default.
    Aes256Gcm,
    /// AES-128-CBC: for SPs that predate XML Encryption 1.1 (no integrity of its
    /// own; the assertion inside is signed).
    Aes128Cbc,
}

impl ContentCipher {
    /// The algorithm URI.
    pub fn uri(self) -> &'static str {
        match self {
            ContentCipher::Aes256Gcm => ALG_AES256_GCM,
            ContentCipher::Aes128Cbc => ALG_AES128_CBC,
        }
    }
}

fn random<const N: usize>() -> Result<Zeroizing<[u8; N]>> {
    let mut bytes = Zeroizing::new([0u8; N]);
    OsRng
        .try_fill_bytes(bytes.as_mut())
        .map_err(|_| SamlError::Encryption("the OS random generator failed"))?;
    Ok(bytes)
}

/// Encrypts the (already signed, canonical) assertion XML for the SP and returns
/// the `saml:EncryptedAssertion` element.
pub(crate) fn encrypt_assertion(assertion_xml: &str, enc: &Encryption<'_>) -> Result<El> {
    let plain = assertion_xml.as_bytes();
    let (key, cipher_value): (Zeroizing<Vec<u8>>, Vec<u8>) = match enc.method {
        ContentCipher::Aes256Gcm => {
            let key = random::<32>()?;
            let iv = random::<12>()?;
            let cipher = aes_gcm::Aes256Gcm::new_from_slice(key.as_ref())
                .map_err(|_| SamlError::Encryption("AES-256-GCM key"))?;
            let nonce = aes_gcm::Nonce::from(*iv);
            let sealed = cipher
                .encrypt(&nonce, plain)
                .map_err(|_| SamlError::Encryption("AES-256-GCM failed"))?;
            // XML Encryption 1.1 §5.2.4: CipherValue = IV || ciphertext || tag.
            let mut out = iv.to_vec();
            out.extend_from_slice(&sealed);
            (Zeroizing::new(key.to_vec()), out)
        }
        ContentCipher::Aes128Cbc => {
            let key = random::<16>()?;
            let iv = random::<16>()?;
            let enc = cbc::Encryptor::<aes::Aes128>::new_from_slices(key.as_ref(), iv.as_ref())
                .map_err(|_| SamlError::Encryption("AES-128-CBC key"))?;
            // PKCS#7 padding is a valid instance of XML Encryption §5.2's padding
            // (the last octet gives the pad length); CipherValue = IV || ciphertext.
            let mut out = iv.to_vec();
            out.extend_from_slice(&enc.encrypt_padded_vec::<Pkcs7>(plain));
            (Zeroizing::new(key.to_vec()), out)
        }
    };
    let mut rng = rsa::rand_core::OsRng;
    let wrapped = enc
        .certificate
        .public_key()
        .encrypt(&mut rng, Oaep::new::<sha1::Sha1>(), key.as_slice())
        .map_err(|_| SamlError::Encryption("RSA-OAEP key transport failed"))?;

    let b64 = base64::engine::general_purpose::STANDARD;
    let xenc = |local| El::new("xenc", NS_XENC, local);
    let encrypted_key = xenc("EncryptedKey")
        .child(
            xenc("EncryptionMethod")
                .attr("Algorithm", ALG_RSA_OAEP_MGF1P)
                .child(
                    El::new("ds", NS_DSIG, "DigestMethod")
                        .attr("Algorithm", crate::names::ALG_SHA1),
                ),
        )
        .child(xenc("CipherData").child(xenc("CipherValue").text(b64.encode(wrapped))));
    let data = xenc("EncryptedData")
        .attr("Type", TYPE_ELEMENT)
        .child(xenc("EncryptionMethod").attr("Algorithm", enc.method.uri()))
        .child(El::new("ds", NS_DSIG, "KeyInfo").child(encrypted_key))
        .child(xenc("CipherData").child(xenc("CipherValue").text(b64.encode(cipher_value))));
    Ok(El::new("saml", NS_ASSERTION, "EncryptedAssertion").child(data))
}

#[cfg(test)]
pub(crate) mod tests {
    use aes_gcm::aead::Aead;
    use cbc::cipher::BlockModeDecrypt;

    use super::*;
    use crate::keys::test_keys::certificate;
    use crate::parse::{parse_document, text_of, Limits};

    /// Decrypts an EncryptedAssertion with test key `n` (what an SP does).
    pub(crate) fn decrypt(encrypted_xml: &str, n: usize) -> String {
        let doc = parse_document(encrypted_xml, &Limits::REQUEST).unwrap();
        let values: Vec<String> = doc
            .descendants()
            .filter(|d| d.tag_name().name() == "CipherValue")
            .map(text_of)
            .collect();
        let method = doc
            .descendants()
            .find(|d| d.tag_name().name() == "EncryptionMethod")
            .and_then(|d| d.attribute("Algorithm"))
            .unwrap()
            .to_owned();
        let b64 = base64::engine::general_purpose::STANDARD;
        let wrapped = b64.decode(&values[0]).unwrap();
        let data = b64.decode(&values[1]).unwrap();
        let key = crate::keys::test_keys::private_key(n)
            .decrypt(Oaep::new::<sha1::Sha1>(), &wrapped)
            .unwrap();
        let plain = if method == ALG_AES256_GCM {
            let cipher = aes_gcm::Aes256Gcm::new_from_slice(&key).unwrap();
            let nonce = aes_gcm::Nonce::try_from(&data[..12]).unwrap();
            cipher.decrypt(&nonce, &data[12..]).unwrap()
        } else {
            cbc::Decryptor::<aes::Aes128>::new_from_slices(&key, &data[..16])
                .unwrap()
                .decrypt_padded_vec::<Pkcs7>(&data[16..])
                .unwrap()
        };
        String::from_utf8(plain).unwrap()
    }

    #[test]
    fn both_ciphers_round_trip_to_the_sp_key() {
        let cert = certificate(2);
        for method in [ContentCipher::Aes256Gcm, ContentCipher::Aes128Cbc] {
            let enc = Encryption {
                certificate: &cert,
                method,
            };
            let xml = "<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"_a\"></saml:Assertion>";
            let out = encrypt_assertion(xml, &enc).unwrap().render();
            assert!(out.starts_with("<saml:EncryptedAssertion"));
            assert!(!out.contains("_a"));
            assert_eq!(decrypt(&out, 2), xml);
        }
    }
}
