//! Hardware-token seed files from vendors (SPEC §4.2): CSV (`serial,seed[,algorithm,
//! digits,period]`) and PSKC (RFC 6030). A file is taken whole or not at all, and
//! every refusal names the line or key package and the reason, never the seed.

mod csv_seeds;
mod pskc;

pub use csv_seeds::parse_seed_csv;
pub use pskc::parse_pskc;

use super::totp::{shown, TotpAlgorithm, TotpError, TotpParams, TotpSecret};

/// Largest seed file accepted, either kind.
pub const MAX_FILE_BYTES: usize = 10 * 1024 * 1024;
/// Most tokens one file may hold.
pub const MAX_TOKENS: usize = 200_000;
/// Longest serial number accepted.
pub const MAX_SERIAL_CHARS: usize = 64;

const PSKC_NS: &str = "urn:ietf:params:xml:ns:keyprov:pskc";
const XENC_NS: &str = "http://www.w3.org/2001/04/xmlenc#";
const XENC11_NS: &str = "http://www.w3.org/2009/xmlenc11#";
const DS_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
const HMAC_SHA1_URI: &str = "http://www.w3.org/2000/09/xmldsig#hmac-sha1";
const HMAC_SHA256_URI: &str = "http://www.w3.org/2001/04/xmldsig-more#hmac-sha256";
// RFC 6030 §10.4 names TOTP with a colon; drafts some vendors still emit used '#'.
const TOTP_URIS: [&str; 2] = [
    "urn:ietf:params:xml:ns:keyprov:pskc:totp",
    "urn:ietf:params:xml:ns:keyprov:pskc#totp",
];
const HOTP_URIS: [&str; 2] = [
    "urn:ietf:params:xml:ns:keyprov:pskc:hotp",
    "urn:ietf:params:xml:ns:keyprov:pskc#hotp",
];

/// One hardware token read from a seed file.
#[derive(Debug)]
pub struct TokenRecord {
    /// The serial number printed on the token.
    pub serial: String,
    /// The seed; its `Debug` is redacted.
    pub secret: TotpSecret,
    /// Hash, digits and period.
    pub params: TotpParams,
}

/// Why a seed file was refused, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenFileError {
    /// Over `MAX_FILE_BYTES`.
    #[error("the file is larger than {max} bytes")]
    TooLarge {
        /// The limit.
        max: usize,
    },
    /// Over `MAX_TOKENS`.
    #[error("the file holds more than {max} tokens")]
    TooManyTokens {
        /// The limit.
        max: usize,
    },
    /// Nothing to import.
    #[error("the file holds no tokens")]
    NoTokens,
    /// A CSV line is wrong; `line` is 1-based and counts the header line.
    #[error("line {line}: {problem}")]
    Csv {
        /// 1-based line number in the file.
        line: u64,
        /// What is wrong there.
        problem: CsvProblem,
    },
    /// The PSKC document as a whole is wrong.
    #[error("{0}")]
    Pskc(PskcProblem),
    /// One PSKC KeyPackage is wrong; `index` is 1-based in document order.
    #[error("key package {index}{}: {problem}", serial_note(.serial))]
    KeyPackage {
        /// 1-based position of the KeyPackage.
        index: usize,
        /// Its serial, when it could be read.
        serial: Option<String>,
        /// What is wrong with it.
        problem: PackageProblem,
    },
}

fn serial_note(serial: &Option<String>) -> String {
    serial
        .as_ref()
        .map(|serial| format!(" (serial {serial})"))
        .unwrap_or_default()
}

/// What is wrong with one CSV line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CsvProblem {
    /// Bytes that are not UTF-8.
    #[error("the text is not UTF-8")]
    NotUtf8,
    /// The CSV reader gave up.
    #[error("not valid CSV ({0})")]
    Syntax(String),
    /// Without a header, 2 to 5 fields are expected.
    #[error("expected 2 to 5 fields (serial,seed[,algorithm,digits,period]), found {0}")]
    FieldCount(usize),
    /// More fields than the header names.
    #[error("{found} fields, but the header names only {expected}")]
    ExtraFields {
        /// Fields on the line.
        found: usize,
        /// Columns in the header.
        expected: usize,
    },
    /// A header column we do not know.
    #[error("unknown column {0} in the header (known: serial, seed, algorithm, digits, period)")]
    UnknownColumn(String),
    /// A header column named twice.
    #[error("the {0} column appears twice in the header")]
    RepeatedColumn(&'static str),
    /// A header without a serial or seed column.
    #[error("the header has no {0} column")]
    MissingColumn(&'static str),
    /// An empty serial.
    #[error("the serial is empty")]
    NoSerial,
    /// A serial that is too long or holds control characters.
    #[error("the serial is longer than {MAX_SERIAL_CHARS} characters or holds control characters")]
    BadSerial,
    /// The same serial twice in the file.
    #[error("serial {serial} appears twice (first on line {first_line})")]
    DuplicateSerial {
        /// The serial.
        serial: String,
        /// Where it appeared first.
        first_line: u64,
    },
    /// An empty seed.
    #[error("the seed is empty")]
    NoSeed,
    /// A seed that is neither even-length hex nor base32.
    #[error("the seed is neither hex nor base32")]
    SeedEncoding,
    /// Digits or period that are not a number.
    #[error("the {field} value {value} is not a valid number")]
    NotANumber {
        /// `digits` or `period`.
        field: &'static str,
        /// The value, when short enough to show.
        value: String,
    },
    /// Seed length, algorithm, digits or period out of range.
    #[error("{0}")]
    Totp(TotpError),
}

/// What is wrong with a PSKC document as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PskcProblem {
    /// Not well-formed XML (or not UTF-8).
    #[error("the file is not XML: {0}")]
    NotXml(String),
    /// A document type declaration, refused to rule out entity tricks.
    #[error("the file has a document type declaration (DTD); PSKC needs none and it is refused")]
    Dtd,
    /// XML, but the root is not a PSKC KeyContainer.
    #[error("the file is XML but not a PSKC KeyContainer (namespace {PSKC_NS})")]
    NotPskc,
    /// A Version other than 1.0.
    #[error("the file is PSKC version {0}; only version 1.0 is supported")]
    Version(String),
    /// No KeyPackage at all.
    #[error("the file is PSKC but holds no key packages")]
    NoKeyPackages,
    /// Encrypted values but no pre-shared key given.
    #[error("the file is PSKC but encrypted and no key was given{}", key_name_note(.key_name))]
    NoKeyGiven {
        /// The file's name for the key, if it says.
        key_name: Option<String>,
    },
    /// Protection other than a pre-shared AES key.
    #[error("the file is PSKC but protected by {0}; only a pre-shared AES key is supported")]
    UnsupportedProtection(&'static str),
    /// Encrypted values without the MAC RFC 6030 §6.1.1 requires for CBC.
    #[error(
        "the file is PSKC with encrypted values but no MACMethod (RFC 6030 §6.1.1 requires one)"
    )]
    NoMacMethod,
    /// A MAC algorithm other than HMAC-SHA1/SHA256.
    #[error("the MAC algorithm {0} is not supported (expected hmac-sha1 or hmac-sha256)")]
    MacAlgorithm(String),
    /// MACMethod without MACKey.
    #[error("the MACMethod has no MACKey")]
    NoMacKey,
    /// The MAC key could not be recovered.
    #[error("the MACKey: {0}")]
    MacKey(ValueProblem),
}

fn key_name_note(key_name: &Option<String>) -> String {
    key_name
        .as_ref()
        .map(|name| format!(" (it names the key {name:?})"))
        .unwrap_or_default()
}

/// What is wrong with one PSKC KeyPackage.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PackageProblem {
    /// No Key element.
    #[error("no Key element")]
    NoKey,
    /// More than one Key (RFC 6030 allows one).
    #[error("{0} Key elements; RFC 6030 allows one per key package")]
    SeveralKeys(usize),
    /// Neither DeviceInfo/SerialNo nor a Key Id.
    #[error("no serial (neither DeviceInfo/SerialNo nor a Key Id)")]
    NoSerial,
    /// A serial that is too long or holds control characters.
    #[error("the serial is longer than {MAX_SERIAL_CHARS} characters or holds control characters")]
    BadSerial,
    /// The same serial in an earlier package.
    #[error("the serial also appears in key package {first_index}")]
    DuplicateSerial {
        /// The earlier package.
        first_index: usize,
    },
    /// No Algorithm attribute on the Key.
    #[error("the Key has no Algorithm")]
    NoAlgorithm,
    /// An algorithm other than TOTP.
    #[error("the algorithm is {0}, not TOTP; only TOTP tokens are supported")]
    NotTotp(String),
    /// A response encoding other than DECIMAL.
    #[error("the response encoding is {0}; only DECIMAL is supported")]
    ResponseEncoding(String),
    /// A number field that does not parse.
    #[error("the {field} value {value} is not a valid number")]
    NotANumber {
        /// Which field.
        field: &'static str,
        /// The value, when short enough to show.
        value: String,
    },
    /// An encrypted parameter other than the secret.
    #[error("an encrypted {0} is not supported")]
    EncryptedParameter(&'static str),
    /// A TOTP start time other than 0.
    #[error("a start time (T0) other than 0 is not supported")]
    StartTime,
    /// No secret at all.
    #[error("no secret")]
    NoSecret,
    /// The secret could not be read or decrypted.
    #[error(transparent)]
    Value(ValueProblem),
    /// Seed length, algorithm, digits or period out of range.
    #[error("{0}")]
    Totp(TotpError),
}

/// What is wrong with one encrypted (or base64) value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueProblem {
    /// Base64 that does not decode.
    #[error("the {0} is not valid base64")]
    Base64(&'static str),
    /// No xenc:EncryptionMethod.
    #[error("the encrypted value has no EncryptionMethod")]
    NoEncryptionMethod,
    /// A cipher other than AES-CBC.
    #[error("the encryption method {0} is not supported (expected aes128-cbc, aes192-cbc or aes256-cbc)")]
    EncryptionMethod(String),
    /// No xenc:CipherData/CipherValue.
    #[error("the encrypted value has no CipherValue")]
    NoCipherValue,
    /// Not an IV followed by whole AES blocks.
    #[error("the encrypted value is not a 16-byte IV followed by whole AES blocks")]
    CipherLength,
    /// The pre-shared key does not fit the cipher.
    #[error("the pre-shared key is {given} bytes but {method} needs {needed}")]
    KeyLength {
        /// Bytes given.
        given: usize,
        /// Bytes the cipher needs.
        needed: usize,
        /// The cipher.
        method: &'static str,
    },
    /// An encrypted value without ValueMAC.
    #[error("the encrypted value has no ValueMAC")]
    MissingMac,
    /// The ValueMAC does not match.
    #[error("the MAC does not match — wrong key or altered file")]
    MacMismatch,
    /// Padding wrong after decryption.
    #[error("the value cannot be decrypted — wrong key or altered file")]
    Decrypt,
    /// A decrypted MAC key of zero bytes.
    #[error("the value is empty")]
    Empty,
}

/// Reads a seed file of either kind: PSKC when its first character is `<`, CSV
/// otherwise.
pub fn parse_token_file(
    bytes: &[u8],
    preshared_key: Option<&[u8]>,
) -> Result<Vec<TokenRecord>, TokenFileError> {
    let first = strip_bom(bytes)
        .iter()
        .find(|byte| !byte.is_ascii_whitespace());
    if first == Some(&b'<') {
        parse_pskc(bytes, preshared_key)
    } else {
        parse_seed_csv(bytes)
    }
}

// Shared by both readers.

pub(super) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// The reader reports a record as starting where the empty lines before it began.
pub(super) fn skip_line_breaks(body: &[u8], offset: u64) -> u64 {
    let start = usize::try_from(offset)
        .unwrap_or(usize::MAX)
        .min(body.len());
    let skipped = body[start..]
        .iter()
        .take_while(|&&b| b == b'\n' || b == b'\r')
        .count();
    offset.saturating_add(u64::try_from(skipped).unwrap_or(0))
}

pub(super) fn count_newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').fold(0, |n, _| n + 1)
}

pub(super) fn serial_is_acceptable(serial: &str) -> bool {
    serial.chars().count() <= MAX_SERIAL_CHARS && !serial.chars().any(char::is_control)
}

#[cfg(test)]
mod tests {
    use super::super::totp::{code_at, step_of};
    use super::csv_seeds::*;
    use super::pskc::*;
    use super::*;
    use aes::cipher::{block_padding::Pkcs7, BlockModeEncrypt, KeyIvInit};
    use base64::engine::general_purpose::STANDARD as B64;
    use base64::Engine as _;
    use hmac::{Hmac, Mac};

    const SEED: &[u8] = b"12345678901234567890";
    const SEED_HEX: &str = "3132333435363738393031323334353637383930";
    const SEED_B32: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

    // ------------------------------------------------------------------ CSV

    fn csv(text: &str) -> Result<Vec<TokenRecord>, TokenFileError> {
        parse_seed_csv(text.as_bytes())
    }

    fn csv_err(text: &str) -> (u64, CsvProblem) {
        match csv(text) {
            Err(TokenFileError::Csv { line, problem }) => (line, problem),
            other => panic!("expected a CSV error, got {other:?}"),
        }
    }

    #[test]
    fn csv_with_header_hex_and_base32() {
        let text = "\u{feff}Serial,Seed,Algorithm,Digits,Period\n\
                    A1,3132333435363738393031323334353637383930,SHA1,6,30\n\
                    \n\
                    A2, gezdgnbvgy3tqojqgezdgnbvgy3tqojq ,HMAC-SHA256,8,60\n\
                    \"A,3\",GEZDGNBVGY3TQOJQ\n";
        let tokens = csv(text).unwrap();
        assert_eq!(tokens.len(), 3);
        assert_eq!(tokens[0].serial, "A1");
        assert_eq!(tokens[0].secret.as_bytes(), SEED);
        assert_eq!(tokens[0].params, TotpParams::default());
        assert_eq!(tokens[1].serial, "A2");
        assert_eq!(tokens[1].secret.as_bytes(), SEED);
        assert_eq!(
            tokens[1].params,
            TotpParams::new(TotpAlgorithm::Sha256, 8, 60).unwrap()
        );
        assert_eq!(tokens[2].serial, "A,3");
        assert_eq!(tokens[2].secret.as_bytes(), b"1234567890");
    }

    #[test]
    fn csv_without_header_is_positional() {
        let text = format!("S-1,{SEED_HEX}\r\nS-2,{SEED_B32},SHA512,7\r\nS-3,{SEED_HEX},,,60\r\n");
        let tokens = csv(&text).unwrap();
        assert_eq!(tokens.len(), 3);
        assert_eq!(tokens[1].params.algorithm, TotpAlgorithm::Sha512);
        assert_eq!(tokens[1].params.digits, 7);
        assert_eq!(tokens[2].params.period, 60);
        assert_eq!(tokens[2].params.digits, 6);
    }

    #[test]
    fn csv_header_may_reorder_columns() {
        let text = format!("serial no,period,secret\nX,60,{SEED_HEX}\n");
        let tokens = csv(&text).unwrap();
        assert_eq!(tokens[0].params.period, 60);
        assert_eq!(tokens[0].secret.as_bytes(), SEED);

        let (line, problem) = csv_err("serial,seed,colour\nX,GEZDGNBVGY3TQOJQ,red\n");
        assert_eq!(line, 1);
        assert_eq!(problem, CsvProblem::UnknownColumn("\"colour\"".into()));
        let (line, problem) = csv_err("serial,digits\nX,6\n");
        assert_eq!((line, problem), (1, CsvProblem::MissingColumn("seed")));
        let (line, problem) = csv_err(&format!("serial,seed\nX,{SEED_HEX},6\n"));
        assert_eq!(
            (line, problem),
            (
                2,
                CsvProblem::ExtraFields {
                    found: 3,
                    expected: 2
                }
            )
        );
    }

    #[test]
    fn csv_bad_seed_names_the_line_and_not_the_seed() {
        let text = format!("serial,seed\nA,{SEED_HEX}\nB,0123456789abcdefXYZ!\nC,{SEED_HEX}\n");
        let error = csv(&text).unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 3: the seed is neither hex nor base32"
        );
        assert!(!error.to_string().contains("0123456789"));
        // Odd-length hex is not hex; as base32 it is not valid either.
        let (line, problem) = csv_err("A,313233343536373839303\n");
        assert_eq!((line, problem), (1, CsvProblem::SeedEncoding));
        // Too short a seed.
        let (line, problem) = csv_err("A,31323334\n");
        assert_eq!(
            (line, problem),
            (1, CsvProblem::Totp(TotpError::SecretTooShort { len: 4 }))
        );
        let (_, problem) = csv_err("A,\n");
        assert_eq!(problem, CsvProblem::NoSeed);
    }

    #[test]
    fn csv_duplicate_serials_are_refused() {
        let text = format!("serial,seed\nABC,{SEED_HEX}\nDEF,{SEED_HEX}\n\nABC,{SEED_B32}\n");
        let error = csv(&text).unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 5: serial ABC appears twice (first on line 2)"
        );
        // CRLF, several blank and blank-looking lines: still the editor's line numbers.
        let text = format!("\r\n\r\nA,{SEED_HEX}\r\n  \r\n\r\n,,\r\nA,{SEED_HEX}\r\n");
        assert_eq!(
            csv(&text).unwrap_err().to_string(),
            "line 7: serial A appears twice (first on line 3)"
        );
    }

    #[test]
    fn csv_bad_digits_period_algorithm_and_field_count() {
        let (line, problem) = csv_err(&format!("A,{SEED_HEX}\nB,{SEED_HEX},SHA1,9\n"));
        assert_eq!((line, problem), (2, CsvProblem::Totp(TotpError::Digits(9))));
        let (_, problem) = csv_err(&format!("A,{SEED_HEX},SHA1,6,45\n"));
        assert_eq!(problem, CsvProblem::Totp(TotpError::Period(45)));
        let (_, problem) = csv_err(&format!("A,{SEED_HEX},SHA1,six\n"));
        assert_eq!(
            problem,
            CsvProblem::NotANumber {
                field: "digits",
                value: "\"six\"".into()
            }
        );
        let (_, problem) = csv_err(&format!("A,{SEED_HEX},MD5\n"));
        assert!(matches!(problem, CsvProblem::Totp(TotpError::Algorithm(_))));
        let (_, problem) = csv_err(&format!("A,{SEED_HEX},SHA1,6,30,extra\n"));
        assert_eq!(problem, CsvProblem::FieldCount(6));
        let (_, problem) = csv_err("lonely\n");
        assert_eq!(problem, CsvProblem::FieldCount(1));
        let (_, problem) = csv_err(&format!(",{SEED_HEX}\n"));
        assert_eq!(problem, CsvProblem::NoSerial);
        let long = "x".repeat(65);
        let (_, problem) = csv_err(&format!("{long},{SEED_HEX}\n"));
        assert_eq!(problem, CsvProblem::BadSerial);
    }

    #[test]
    fn csv_not_utf8_names_the_line() {
        let mut bytes = format!("A,{SEED_HEX}\nB,").into_bytes();
        bytes.extend_from_slice(b"\xff\xfe\n");
        match parse_seed_csv(&bytes) {
            Err(TokenFileError::Csv { line, problem }) => {
                assert_eq!((line, problem), (2, CsvProblem::NotUtf8));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn csv_empty_and_limits() {
        assert!(matches!(csv(""), Err(TokenFileError::NoTokens)));
        assert!(matches!(
            csv("serial,seed\n\n"),
            Err(TokenFileError::NoTokens)
        ));
        let big = vec![b'a'; MAX_FILE_BYTES + 1];
        assert!(matches!(
            parse_seed_csv(&big),
            Err(TokenFileError::TooLarge { .. })
        ));
        let mut many = String::with_capacity((MAX_TOKENS + 1) * 30);
        for n in 0..=MAX_TOKENS {
            many.push_str(&format!("{n},31323334353637383930\n"));
        }
        assert!(many.len() <= MAX_FILE_BYTES);
        assert!(matches!(
            csv(&many),
            Err(TokenFileError::TooManyTokens { max: MAX_TOKENS })
        ));
    }

    #[test]
    fn records_do_not_print_their_secret() {
        let tokens = csv(&format!("A,{SEED_HEX}\n")).unwrap();
        let printed = format!("{tokens:?}");
        assert!(printed.contains("[redacted]"), "{printed}");
        assert!(!printed.contains("49, 50"), "{printed}");
    }

    // ----------------------------------------------------------------- PSKC

    /// RFC 6030 Figure 2, the plain example, as published (HOTP, secret "1234").
    const RFC6030_FIGURE2: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0"
    Id="exampleID1"
    xmlns="urn:ietf:params:xml:ns:keyprov:pskc">
    <KeyPackage>
        <Key Id="12345678"
            Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
            <Issuer>Issuer-A</Issuer>
            <Data>
                <Secret>
                    <PlainValue>MTIzNA==
                    </PlainValue>
                </Secret>
            </Data>
        </Key>
    </KeyPackage>
</KeyContainer>"#;

    /// RFC 6030 §6.1 Figure 6, AES-128-CBC under the pre-shared key
    /// 12345678901234567890123456789012 (hex) with an HMAC-SHA1 MAC key.
    const RFC6030_FIGURE6: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0"
    xmlns="urn:ietf:params:xml:ns:keyprov:pskc"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#"
    xmlns:xenc="http://www.w3.org/2001/04/xmlenc#">
    <EncryptionKey>
        <ds:KeyName>Pre-shared-key</ds:KeyName>
    </EncryptionKey>
    <MACMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1">
        <MACKey>
            <xenc:EncryptionMethod
            Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
            <xenc:CipherData>
                <xenc:CipherValue>
    ESIzRFVmd4iZABEiM0RVZgKn6WjLaTC1sbeBMSvIhRejN9vJa2BOlSaMrR7I5wSX
                </xenc:CipherValue>
            </xenc:CipherData>
        </MACKey>
    </MACMethod>
    <KeyPackage>
        <DeviceInfo>
            <Manufacturer>Manufacturer</Manufacturer>
            <SerialNo>987654321</SerialNo>
        </DeviceInfo>
        <CryptoModuleInfo>
            <Id>CM_ID_001</Id>
        </CryptoModuleInfo>
        <Key Id="12345678"
            Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:hotp">
            <Issuer>Issuer</Issuer>
            <AlgorithmParameters>
                <ResponseFormat Length="8" Encoding="DECIMAL"/>
            </AlgorithmParameters>
            <Data>
                <Secret>
                    <EncryptedValue>
                        <xenc:EncryptionMethod
                        Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
                        <xenc:CipherData>
                            <xenc:CipherValue>
    AAECAwQFBgcICQoLDA0OD+cIHItlB3Wra1DUpxVvOx2lef1VmNPCMl8jwZqIUqGv
                            </xenc:CipherValue>
                        </xenc:CipherData>
                    </EncryptedValue>
                    <ValueMAC>Su+NvtQfmvfJzF6bmQiJqoLRExc=
                    </ValueMAC>
                </Secret>
                <Counter>
                    <PlainValue>0</PlainValue>
                </Counter>
            </Data>
        </Key>
    </KeyPackage>
</KeyContainer>"#;

    const RFC_PSK_HEX: &str = "12345678901234567890123456789012";
    const HOTP: &str = "urn:ietf:params:xml:ns:keyprov:pskc:hotp";
    const TOTP: &str = "urn:ietf:params:xml:ns:keyprov:pskc:totp";

    fn as_totp(document: &str) -> String {
        document.replace(HOTP, TOTP)
    }

    fn package_problem(result: Result<Vec<TokenRecord>, TokenFileError>) -> PackageProblem {
        match result {
            Err(TokenFileError::KeyPackage { problem, .. }) => problem,
            other => panic!("expected a key package error, got {other:?}"),
        }
    }

    fn container_problem(result: Result<Vec<TokenRecord>, TokenFileError>) -> PskcProblem {
        match result {
            Err(TokenFileError::Pskc(problem)) => problem,
            other => panic!("expected a container error, got {other:?}"),
        }
    }

    #[test]
    fn rfc6030_figure2_plain() {
        // As published it is HOTP: refused with the reason.
        let error = parse_pskc(RFC6030_FIGURE2.as_bytes(), None).unwrap_err();
        assert_eq!(
            error.to_string(),
            format!("key package 1 (serial 12345678): the algorithm is HOTP ({HOTP}), not TOTP; only TOTP tokens are supported")
        );
        // As TOTP its 4-byte secret is too short for us.
        let totp = as_totp(RFC6030_FIGURE2);
        assert_eq!(
            package_problem(parse_pskc(totp.as_bytes(), None)),
            PackageProblem::Totp(TotpError::SecretTooShort { len: 4 })
        );
        // With a 20-byte secret it imports; the serial falls back to the Key Id.
        let totp = totp.replace("MTIzNA==", &B64.encode(SEED));
        let tokens = parse_pskc(totp.as_bytes(), None).unwrap();
        assert_eq!(tokens.len(), 1);
        assert_eq!(tokens[0].serial, "12345678");
        assert_eq!(tokens[0].secret.as_bytes(), SEED);
        assert_eq!(tokens[0].params, TotpParams::default());
    }

    #[test]
    fn rfc6030_figure6_preshared_key() {
        let key = hex::decode(RFC_PSK_HEX).unwrap();
        let totp = as_totp(RFC6030_FIGURE6);
        let tokens = parse_pskc(totp.as_bytes(), Some(&key)).unwrap();
        assert_eq!(tokens.len(), 1);
        assert_eq!(tokens[0].serial, "987654321");
        // The RFC's secret is the ASCII of "12345678901234567890".
        assert_eq!(hex::encode(tokens[0].secret.as_bytes()), SEED_HEX);
        assert_eq!(tokens[0].params.digits, 8);

        // As published (HOTP) it is refused for the algorithm.
        assert!(matches!(
            package_problem(parse_pskc(RFC6030_FIGURE6.as_bytes(), Some(&key))),
            PackageProblem::NotTotp(_)
        ));
        // Without the key: says so and names the key the file asks for.
        let error = parse_pskc(totp.as_bytes(), None).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the file is PSKC but encrypted and no key was given (it names the key \"Pre-shared-key\")"
        );
        // With a wrong key of the right length.
        let wrong = [0x42u8; 16];
        let error = parse_pskc(totp.as_bytes(), Some(&wrong)).unwrap_err();
        assert!(error.to_string().contains("wrong key"), "{error}");
        // With a key of the wrong length.
        assert_eq!(
            container_problem(parse_pskc(totp.as_bytes(), Some(&key[..10]))),
            PskcProblem::MacKey(ValueProblem::KeyLength {
                given: 10,
                needed: 16,
                method: "aes128-cbc"
            })
        );
        // An altered ciphertext is caught by the MAC before decryption.
        let altered = totp.replace("AAECAwQFBgcICQoLDA0OD+cI", "AAECAwQFBgcICQoLDA0OD+cJ");
        assert_eq!(
            parse_pskc(altered.as_bytes(), Some(&key))
                .unwrap_err()
                .to_string(),
            "key package 1 (serial 987654321): the MAC does not match — wrong key or altered file"
        );
    }

    #[test]
    fn password_derived_keys_are_refused_with_the_reason() {
        // RFC 6030 Figure 7 protects the file with a PBKDF2-derived key instead.
        let derived = as_totp(RFC6030_FIGURE6).replace(
            "<ds:KeyName>Pre-shared-key</ds:KeyName>",
            "<xenc11:DerivedKey xmlns:xenc11=\"http://www.w3.org/2009/xmlenc11#\">\
             <xenc11:MasterKeyName>My Password 1</xenc11:MasterKeyName></xenc11:DerivedKey>",
        );
        let key = hex::decode(RFC_PSK_HEX).unwrap();
        assert_eq!(
            parse_pskc(derived.as_bytes(), Some(&key)).unwrap_err(),
            TokenFileError::Pskc(PskcProblem::UnsupportedProtection(
                "a password-derived key (PBKDF2)"
            ))
        );
    }

    /// What a generated KeyPackage holds.
    struct Package<'a> {
        serial: Option<&'a str>,
        key_id: &'a str,
        algorithm: &'a str,
        suite: Option<&'a str>,
        digits: Option<u8>,
        period: Option<u32>,
        secret: Option<&'a [u8]>,
        mac: MacMode,
    }

    impl Default for Package<'_> {
        fn default() -> Self {
            Self {
                serial: Some("SN-1"),
                key_id: "K-1",
                algorithm: TOTP,
                suite: None,
                digits: Some(6),
                period: Some(30),
                secret: Some(SEED),
                mac: MacMode::Good,
            }
        }
    }

    #[derive(Clone, Copy, PartialEq)]
    enum MacMode {
        Good,
        Missing,
        Wrong,
    }

    /// How the generated container protects its secrets.
    enum Protect<'a> {
        Plain,
        PresharedKey { key: &'a [u8], mac_key: &'a [u8] },
    }

    fn encrypt(key: &[u8], iv: [u8; 16], plain: &[u8]) -> Vec<u8> {
        let len = plain.len();
        let mut buffer = vec![0u8; len + 16];
        buffer[..len].copy_from_slice(plain);
        let ciphertext = match key.len() {
            16 => cbc::Encryptor::<aes::Aes128>::new_from_slices(key, &iv)
                .unwrap()
                .encrypt_padded::<Pkcs7>(&mut buffer, len)
                .unwrap()
                .to_vec(),
            24 => cbc::Encryptor::<aes::Aes192>::new_from_slices(key, &iv)
                .unwrap()
                .encrypt_padded::<Pkcs7>(&mut buffer, len)
                .unwrap()
                .to_vec(),
            _ => cbc::Encryptor::<aes::Aes256>::new_from_slices(key, &iv)
                .unwrap()
                .encrypt_padded::<Pkcs7>(&mut buffer, len)
                .unwrap()
                .to_vec(),
        };
        [iv.as_slice(), &ciphertext].concat()
    }

    fn hmac_sha1(key: &[u8], data: &[u8]) -> Vec<u8> {
        let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(key).unwrap();
        mac.update(data);
        mac.finalize().into_bytes().to_vec()
    }

    fn aes_uri(key: &[u8]) -> String {
        format!("http://www.w3.org/2001/04/xmlenc#aes{}-cbc", key.len() * 8)
    }

    /// A PSKC document with `pskc:`/`xenc:`/`ds:` prefixes (the RFC examples above
    /// use a default namespace, so both styles are covered).
    fn pskc_document(packages: &[Package<'_>], protect: &Protect<'_>) -> String {
        let mut doc = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <pskc:KeyContainer Version=\"1.0\" xmlns:pskc=\"urn:ietf:params:xml:ns:keyprov:pskc\" \
             xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\" xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\">\n",
        );
        if let Protect::PresharedKey { key, mac_key } = protect {
            let wrapped = encrypt(key, [9; 16], mac_key);
            doc.push_str(&format!(
                "<pskc:EncryptionKey><ds:KeyName>Vendor PSK</ds:KeyName></pskc:EncryptionKey>\n\
                 <pskc:MACMethod Algorithm=\"{HMAC_SHA1_URI}\"><pskc:MACKey>\
                 <xenc:EncryptionMethod Algorithm=\"{}\"/>\
                 <xenc:CipherData><xenc:CipherValue>{}</xenc:CipherValue></xenc:CipherData>\
                 </pskc:MACKey></pskc:MACMethod>\n",
                aes_uri(key),
                B64.encode(wrapped)
            ));
        }
        for (n, package) in packages.iter().enumerate() {
            doc.push_str("<pskc:KeyPackage>\n");
            if let Some(serial) = package.serial {
                doc.push_str(&format!(
                    "<pskc:DeviceInfo><pskc:Manufacturer>Acme</pskc:Manufacturer>\
                     <pskc:SerialNo>{serial}</pskc:SerialNo></pskc:DeviceInfo>\n"
                ));
            }
            doc.push_str(&format!(
                "<pskc:Key Id=\"{}\" Algorithm=\"{}\">\n<pskc:AlgorithmParameters>",
                package.key_id, package.algorithm
            ));
            if let Some(suite) = package.suite {
                doc.push_str(&format!("<pskc:Suite>{suite}</pskc:Suite>"));
            }
            if let Some(digits) = package.digits {
                doc.push_str(&format!(
                    "<pskc:ResponseFormat Length=\"{digits}\" Encoding=\"DECIMAL\"/>"
                ));
            }
            doc.push_str("</pskc:AlgorithmParameters>\n<pskc:Data>\n");
            if let Some(secret) = package.secret {
                doc.push_str("<pskc:Secret>");
                match protect {
                    Protect::Plain => doc.push_str(&format!(
                        "<pskc:PlainValue>{}</pskc:PlainValue>",
                        B64.encode(secret)
                    )),
                    Protect::PresharedKey { key, mac_key } => {
                        let iv = [u8::try_from(n).unwrap(); 16];
                        let value = encrypt(key, iv, secret);
                        doc.push_str(&format!(
                            "<pskc:EncryptedValue><xenc:EncryptionMethod Algorithm=\"{}\"/>\
                             <xenc:CipherData><xenc:CipherValue>\n{}\n</xenc:CipherValue>\
                             </xenc:CipherData></pskc:EncryptedValue>",
                            aes_uri(key),
                            B64.encode(&value)
                        ));
                        let mut mac = hmac_sha1(mac_key, &value);
                        if package.mac == MacMode::Wrong {
                            mac[0] ^= 1;
                        }
                        if package.mac != MacMode::Missing {
                            doc.push_str(&format!(
                                "<pskc:ValueMAC>{}</pskc:ValueMAC>",
                                B64.encode(mac)
                            ));
                        }
                    }
                }
                doc.push_str("</pskc:Secret>\n");
            }
            if let Some(period) = package.period {
                doc.push_str(&format!(
                    "<pskc:TimeInterval><pskc:PlainValue>{period}</pskc:PlainValue></pskc:TimeInterval>\n"
                ));
            }
            doc.push_str("</pskc:Data>\n</pskc:Key>\n</pskc:KeyPackage>\n");
        }
        doc.push_str("</pskc:KeyContainer>\n");
        doc
    }

    const PSK: &[u8] = b"0123456789abcdef";
    const MAC_KEY: &[u8] = b"mac key of twenty b.";

    fn encrypted() -> Protect<'static> {
        Protect::PresharedKey {
            key: PSK,
            mac_key: MAC_KEY,
        }
    }

    #[test]
    fn generated_plain_pskc_with_parameters() {
        let seed256 = b"12345678901234567890123456789012";
        let packages = [
            Package::default(),
            Package {
                serial: Some("SN-2"),
                suite: Some("HMAC-SHA256"),
                digits: Some(8),
                period: Some(60),
                secret: Some(seed256),
                ..Package::default()
            },
            Package {
                serial: None,
                key_id: "KEY-ID-3",
                digits: None,
                period: None,
                ..Package::default()
            },
        ];
        let document = pskc_document(&packages, &Protect::Plain);
        let tokens = parse_pskc(document.as_bytes(), None).unwrap();
        assert_eq!(tokens.len(), 3);
        assert_eq!(tokens[0].serial, "SN-1");
        assert_eq!(tokens[1].serial, "SN-2");
        assert_eq!(tokens[2].serial, "KEY-ID-3");
        assert_eq!(tokens[2].params, TotpParams::default());
        let p = tokens[1].params;
        assert_eq!(p, TotpParams::new(TotpAlgorithm::Sha256, 8, 60).unwrap());
        // The RFC 6238 SHA256 vector at t=59 (period 30) is step 1; at 60 s it is step 0.
        assert_eq!(code_at(&tokens[1].secret, &p, step_of(&p, 59)), {
            let p30 = TotpParams { period: 30, ..p };
            code_at(&tokens[1].secret, &p30, 0)
        });
        // A key given to a plain file is simply unused.
        assert!(parse_pskc(document.as_bytes(), Some(PSK)).is_ok());
    }

    #[test]
    fn generated_encrypted_pskc_all_aes_sizes() {
        let keys: [&[u8]; 3] = [
            PSK,
            b"0123456789abcdef01234567",
            b"0123456789abcdef0123456789abcdef",
        ];
        for key in keys {
            let protect = Protect::PresharedKey {
                key,
                mac_key: MAC_KEY,
            };
            let packages = [
                Package::default(),
                Package {
                    serial: Some("SN-2"),
                    ..Package::default()
                },
            ];
            let document = pskc_document(&packages, &protect);
            let tokens = parse_pskc(document.as_bytes(), Some(key)).unwrap();
            assert_eq!(tokens.len(), 2, "key of {} bytes", key.len());
            assert!(tokens.iter().all(|t| t.secret.as_bytes() == SEED));
            // Also through the sniffing entry point.
            assert_eq!(
                parse_token_file(document.as_bytes(), Some(key))
                    .unwrap()
                    .len(),
                2
            );
        }
    }

    #[test]
    fn pskc_bad_mac_is_refused_with_package_and_serial() {
        let packages = [
            Package::default(),
            Package {
                serial: Some("123"),
                mac: MacMode::Wrong,
                ..Package::default()
            },
        ];
        let document = pskc_document(&packages, &encrypted());
        let error = parse_pskc(document.as_bytes(), Some(PSK)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "key package 2 (serial 123): the MAC does not match — wrong key or altered file"
        );
    }

    #[test]
    fn pskc_missing_value_mac_is_refused() {
        let packages = [Package {
            mac: MacMode::Missing,
            ..Package::default()
        }];
        let document = pskc_document(&packages, &encrypted());
        assert_eq!(
            package_problem(parse_pskc(document.as_bytes(), Some(PSK))),
            PackageProblem::Value(ValueProblem::MissingMac)
        );
    }

    #[test]
    fn pskc_encrypted_without_mac_method_is_refused() {
        let document = pskc_document(&[Package::default()], &encrypted());
        let start = document.find("<pskc:MACMethod").unwrap();
        let end = document.find("</pskc:MACMethod>").unwrap() + "</pskc:MACMethod>".len();
        let stripped = format!("{}{}", &document[..start], &document[end..]);
        assert_eq!(
            container_problem(parse_pskc(stripped.as_bytes(), Some(PSK))),
            PskcProblem::NoMacMethod
        );
    }

    #[test]
    fn pskc_missing_secret_is_refused() {
        let packages = [
            Package::default(),
            Package {
                serial: Some("SN-9"),
                secret: None,
                ..Package::default()
            },
        ];
        let document = pskc_document(&packages, &Protect::Plain);
        assert_eq!(
            parse_pskc(document.as_bytes(), None)
                .unwrap_err()
                .to_string(),
            "key package 2 (serial SN-9): no secret"
        );
    }

    #[test]
    fn pskc_hotp_and_unknown_algorithms_are_refused() {
        let document = pskc_document(
            &[Package {
                algorithm: HOTP,
                ..Package::default()
            }],
            &Protect::Plain,
        );
        assert_eq!(
            package_problem(parse_pskc(document.as_bytes(), None)),
            PackageProblem::NotTotp(format!("HOTP ({HOTP})"))
        );
        let document = pskc_document(
            &[Package {
                algorithm: "urn:ietf:params:xml:ns:keyprov:pskc:ocra",
                ..Package::default()
            }],
            &Protect::Plain,
        );
        assert!(matches!(
            package_problem(parse_pskc(document.as_bytes(), None)),
            PackageProblem::NotTotp(_)
        ));
    }

    #[test]
    fn pskc_wrong_key_is_refused() {
        let document = pskc_document(&[Package::default()], &encrypted());
        let error = parse_pskc(document.as_bytes(), Some(b"fedcba9876543210")).unwrap_err();
        assert!(
            error.to_string().contains("wrong key or altered file"),
            "{error}"
        );
        let error = parse_pskc(document.as_bytes(), Some(b"short")).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the MACKey: the pre-shared key is 5 bytes but aes128-cbc needs 16"
        );
    }

    #[test]
    fn pskc_encrypted_without_key_is_refused() {
        let document = pskc_document(&[Package::default()], &encrypted());
        let error = parse_pskc(document.as_bytes(), None).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("the file is PSKC but encrypted and no key was given"),
            "{error}"
        );
    }

    #[test]
    fn pskc_not_xml_dtd_version_and_root_are_refused() {
        assert!(matches!(
            container_problem(parse_pskc(b"serial,seed\nA,B\n", None)),
            PskcProblem::NotXml(_)
        ));
        assert!(matches!(
            container_problem(parse_pskc(b"<KeyContainer", None)),
            PskcProblem::NotXml(_)
        ));
        assert!(matches!(
            container_problem(parse_pskc(b"\xff\xfe<\x00", None)),
            PskcProblem::NotXml(_)
        ));
        let with_dtd = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\">]>\n\
                        <KeyContainer Version=\"1.0\" xmlns=\"urn:ietf:params:xml:ns:keyprov:pskc\">&lol;</KeyContainer>";
        assert_eq!(
            container_problem(parse_pskc(with_dtd.as_bytes(), None)),
            PskcProblem::Dtd
        );
        let version = RFC6030_FIGURE2.replace("Version=\"1.0\"", "Version=\"2.0\"");
        assert_eq!(
            container_problem(parse_pskc(version.as_bytes(), None)),
            PskcProblem::Version("\"2.0\"".into())
        );
        let no_version = RFC6030_FIGURE2.replace("Version=\"1.0\"", "");
        assert_eq!(
            container_problem(parse_pskc(no_version.as_bytes(), None)),
            PskcProblem::Version("(none)".into())
        );
        let other_namespace =
            RFC6030_FIGURE2.replace("urn:ietf:params:xml:ns:keyprov:pskc\"", "urn:example\"");
        assert_eq!(
            container_problem(parse_pskc(other_namespace.as_bytes(), None)),
            PskcProblem::NotPskc
        );
        let empty = "<KeyContainer Version=\"1.0\" xmlns=\"urn:ietf:params:xml:ns:keyprov:pskc\"/>";
        assert_eq!(
            container_problem(parse_pskc(empty.as_bytes(), None)),
            PskcProblem::NoKeyPackages
        );
        let big = vec![b' '; MAX_FILE_BYTES + 1];
        assert!(matches!(
            parse_pskc(&big, None),
            Err(TokenFileError::TooLarge { .. })
        ));
    }

    #[test]
    fn pskc_duplicate_serials_and_bad_parameters_are_refused() {
        let document = pskc_document(&[Package::default(), Package::default()], &Protect::Plain);
        assert_eq!(
            parse_pskc(document.as_bytes(), None)
                .unwrap_err()
                .to_string(),
            "key package 2 (serial SN-1): the serial also appears in key package 1"
        );
        let document = pskc_document(
            &[Package {
                digits: Some(10),
                ..Package::default()
            }],
            &Protect::Plain,
        );
        assert_eq!(
            package_problem(parse_pskc(document.as_bytes(), None)),
            PackageProblem::Totp(TotpError::Digits(10))
        );
        let document = pskc_document(
            &[Package {
                period: Some(45),
                ..Package::default()
            }],
            &Protect::Plain,
        );
        assert_eq!(
            package_problem(parse_pskc(document.as_bytes(), None)),
            PackageProblem::Totp(TotpError::Period(45))
        );
        let document = pskc_document(
            &[Package {
                suite: Some("HMAC-MD5"),
                ..Package::default()
            }],
            &Protect::Plain,
        );
        assert!(matches!(
            package_problem(parse_pskc(document.as_bytes(), None)),
            PackageProblem::Totp(TotpError::Algorithm(_))
        ));
        let hex_encoding = pskc_document(&[Package::default()], &Protect::Plain)
            .replace("Encoding=\"DECIMAL\"", "Encoding=\"HEXADECIMAL\"");
        assert!(matches!(
            package_problem(parse_pskc(hex_encoding.as_bytes(), None)),
            PackageProblem::ResponseEncoding(_)
        ));
        let no_serial = pskc_document(
            &[Package {
                serial: None,
                key_id: " ",
                ..Package::default()
            }],
            &Protect::Plain,
        );
        assert_eq!(
            parse_pskc(no_serial.as_bytes(), None)
                .unwrap_err()
                .to_string(),
            "key package 1: no serial (neither DeviceInfo/SerialNo nor a Key Id)"
        );
    }

    #[test]
    fn token_file_sniffs_the_kind() {
        let tokens = parse_token_file(format!("A,{SEED_HEX}\n").as_bytes(), None).unwrap();
        assert_eq!(tokens[0].serial, "A");
        let document = pskc_document(&[Package::default()], &Protect::Plain);
        let with_bom = format!("\u{feff}\n  {document}");
        let tokens = parse_token_file(with_bom.as_bytes(), None).unwrap();
        assert_eq!(tokens[0].serial, "SN-1");
    }
}
