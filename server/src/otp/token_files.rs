//! Hardware-token seed files from vendors (SPEC §4.2): CSV (`serial,seed[,algorithm,
//! digits,period]`) and PSKC (RFC 6030). A file is taken whole or not at all, and
//! every refusal names the line or key package and the reason, never the seed.

use std::collections::HashMap;

use base64::Engine as _;
use roxmltree::Node;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

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
#[derive(Debug, thiserror::Error)]
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
    #[error("the file is PSKC with encrypted values but no MACMethod (RFC 6030 §6.1.1 requires one)")]
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

// ---------------------------------------------------------------------------- CSV

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Serial,
    Seed,
    Algorithm,
    Digits,
    Period,
}

/// The column order of a file without a header.
const POSITIONAL: [Column; 5] = [
    Column::Serial,
    Column::Seed,
    Column::Algorithm,
    Column::Digits,
    Column::Period,
];

impl Column {
    fn name(self) -> &'static str {
        match self {
            Self::Serial => "serial",
            Self::Seed => "seed",
            Self::Algorithm => "algorithm",
            Self::Digits => "digits",
            Self::Period => "period",
        }
    }

    /// Header names vendors use for each column ("Serial No", "secret", "time step"…).
    fn from_header(name: &str) -> Option<Self> {
        let key: String = name
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        match key.as_str() {
            "serial" | "serialno" | "serialnumber" => Some(Self::Serial),
            "seed" | "secret" | "key" => Some(Self::Seed),
            "algorithm" | "algo" | "hash" => Some(Self::Algorithm),
            "digits" | "length" => Some(Self::Digits),
            "period" | "interval" | "timestep" | "step" => Some(Self::Period),
            _ => None,
        }
    }
}

/// Reads a CSV seed file: `serial,seed[,algorithm,digits,period]`, UTF-8 (a BOM is
/// skipped), an optional header (its first field `serial`) that may reorder columns,
/// seeds in hex (even length) or base32. One bad line refuses the whole file.
pub fn parse_seed_csv(bytes: &[u8]) -> Result<Vec<TokenRecord>, TokenFileError> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(TokenFileError::TooLarge {
            max: MAX_FILE_BYTES,
        });
    }
    let body = strip_bom(bytes);
    if let Err(error) = std::str::from_utf8(body) {
        let line = 1 + count_newlines(&body[..error.valid_up_to()]);
        return Err(TokenFileError::Csv {
            line,
            problem: CsvProblem::NotUtf8,
        });
    }
    // Note: the csv reader keeps copies of fields in its own buffers, which are not
    // zeroized; the decoded seeds are.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(body);
    let mut record = csv::StringRecord::new();
    let mut columns: Option<Vec<Column>> = None;
    let mut first_line_seen = false;
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut tokens = Vec::new();
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(error) => {
                let line = error
                    .position()
                    .map_or(1 + count_newlines(body), csv::Position::line);
                return Err(TokenFileError::Csv {
                    line,
                    problem: CsvProblem::Syntax(csv_error_kind(&error)),
                });
            }
        }
        let line = record.position().map_or(0, csv::Position::line);
        if record.iter().all(str::is_empty) {
            continue;
        }
        let at_line = |problem| TokenFileError::Csv { line, problem };
        if !first_line_seen {
            first_line_seen = true;
            let is_header = record
                .get(0)
                .and_then(Column::from_header)
                .is_some_and(|column| column == Column::Serial);
            if is_header {
                columns = Some(header_columns(&record).map_err(at_line)?);
                continue;
            }
        }
        if tokens.len() >= MAX_TOKENS {
            return Err(TokenFileError::TooManyTokens { max: MAX_TOKENS });
        }
        let token = token_from_row(&record, columns.as_deref()).map_err(at_line)?;
        if let Some(&first_line) = seen.get(&token.serial) {
            return Err(at_line(CsvProblem::DuplicateSerial {
                serial: token.serial,
                first_line,
            }));
        }
        seen.insert(token.serial.clone(), line);
        tokens.push(token);
    }
    if tokens.is_empty() {
        return Err(TokenFileError::NoTokens);
    }
    Ok(tokens)
}

fn header_columns(record: &csv::StringRecord) -> Result<Vec<Column>, CsvProblem> {
    let mut columns = Vec::with_capacity(record.len());
    for name in record.iter() {
        let column =
            Column::from_header(name).ok_or_else(|| CsvProblem::UnknownColumn(shown(name)))?;
        if columns.contains(&column) {
            return Err(CsvProblem::RepeatedColumn(column.name()));
        }
        columns.push(column);
    }
    for needed in [Column::Serial, Column::Seed] {
        if !columns.contains(&needed) {
            return Err(CsvProblem::MissingColumn(needed.name()));
        }
    }
    Ok(columns)
}

fn token_from_row(
    record: &csv::StringRecord,
    header: Option<&[Column]>,
) -> Result<TokenRecord, CsvProblem> {
    let count = record.len();
    let columns = match header {
        Some(columns) if count > columns.len() => {
            return Err(CsvProblem::ExtraFields {
                found: count,
                expected: columns.len(),
            })
        }
        Some(columns) => columns,
        None if !(2..=POSITIONAL.len()).contains(&count) => {
            return Err(CsvProblem::FieldCount(count))
        }
        None => &POSITIONAL[..],
    };
    let (mut serial, mut seed, mut algorithm, mut digits, mut period) = ("", "", "", "", "");
    for (column, value) in columns.iter().zip(record.iter()) {
        match column {
            Column::Serial => serial = value,
            Column::Seed => seed = value,
            Column::Algorithm => algorithm = value,
            Column::Digits => digits = value,
            Column::Period => period = value,
        }
    }

    if serial.is_empty() {
        return Err(CsvProblem::NoSerial);
    }
    if !serial_is_acceptable(serial) {
        return Err(CsvProblem::BadSerial);
    }
    let secret = seed_from_text(seed)?;
    let defaults = TotpParams::default();
    let algorithm = if algorithm.is_empty() {
        defaults.algorithm
    } else {
        algorithm.parse::<TotpAlgorithm>().map_err(CsvProblem::Totp)?
    };
    let digits = csv_number("digits", digits, defaults.digits)?;
    let period = csv_number("period", period, defaults.period)?;
    let params = TotpParams::new(algorithm, digits, period).map_err(CsvProblem::Totp)?;
    Ok(TokenRecord {
        serial: serial.to_owned(),
        secret,
        params,
    })
}

fn csv_number<T: std::str::FromStr>(
    field: &'static str,
    value: &str,
    default: T,
) -> Result<T, CsvProblem> {
    if value.is_empty() {
        return Ok(default);
    }
    value.parse().map_err(|_| CsvProblem::NotANumber {
        field,
        value: shown(value),
    })
}

/// Hex when the seed is an even number of hex digits, base32 otherwise. A base32 seed
/// made only of A–F and 2–7 would read as hex; for a random seed of 16 or more
/// characters that chance is below one in a million.
fn seed_from_text(text: &str) -> Result<TotpSecret, CsvProblem> {
    let compact: Zeroizing<String> =
        Zeroizing::new(text.chars().filter(|c| !c.is_whitespace()).collect());
    if compact.is_empty() {
        return Err(CsvProblem::NoSeed);
    }
    if compact.len() % 2 == 0 && compact.bytes().all(|b| b.is_ascii_hexdigit()) {
        let mut bytes = Zeroizing::new(vec![0u8; compact.len() / 2]);
        hex::decode_to_slice(compact.as_bytes(), &mut bytes[..])
            .map_err(|_| CsvProblem::SeedEncoding)?;
        return TotpSecret::from_bytes(std::mem::take(&mut *bytes)).map_err(CsvProblem::Totp);
    }
    TotpSecret::from_base32(&compact).map_err(|error| match error {
        TotpError::NotBase32 => CsvProblem::SeedEncoding,
        other => CsvProblem::Totp(other),
    })
}

fn csv_error_kind(error: &csv::Error) -> String {
    match error.kind() {
        csv::ErrorKind::Utf8 { .. } => "not UTF-8".to_owned(),
        csv::ErrorKind::UnequalLengths { .. } => "rows of unequal length".to_owned(),
        _ => "unreadable".to_owned(),
    }
}

// --------------------------------------------------------------------------- PSKC

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
        .map_err(|_| TokenFileError::Pskc(PskcProblem::NotXml("the text is not UTF-8".into())))?;
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
        other => return Err(PskcProblem::MacAlgorithm(shown_uri(other.unwrap_or("(none)")))),
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
    let method = child(node, XENC_NS, "EncryptionMethod").ok_or(ValueProblem::NoEncryptionMethod)?;
    let uri = method.attribute("Algorithm").unwrap_or("").trim();
    let cipher =
        CbcCipher::from_uri(uri).ok_or_else(|| ValueProblem::EncryptionMethod(shown_uri(uri)))?;
    let value = child(node, XENC_NS, "CipherData")
        .and_then(|data| child(data, XENC_NS, "CipherValue"))
        .ok_or(ValueProblem::NoCipherValue)?;
    let data = decode_base64(&text_of(value)).map_err(|_| ValueProblem::Base64("CipherValue"))?;
    if data.len() < 32 || data.len() % 16 != 0 {
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

fn pskc_number<T: std::str::FromStr>(field: &'static str, value: &str) -> Result<T, PackageProblem> {
    value.trim().parse().map_err(|_| PackageProblem::NotANumber {
        field,
        value: shown(value),
    })
}

// ------------------------------------------------------------------------ helpers

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

fn count_newlines(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|&&b| b == b'\n').fold(0, |n, _| n + 1)
}

fn serial_is_acceptable(serial: &str) -> bool {
    serial.chars().count() <= MAX_SERIAL_CHARS && !serial.chars().any(char::is_control)
}

/// Namespace + local name: vendors use `pskc:`, no prefix or others for the same thing.
fn is_element(node: Node<'_, '_>, namespace: &str, name: &str) -> bool {
    node.is_element()
        && node.tag_name().name() == name
        && node.tag_name().namespace() == Some(namespace)
}

fn child<'a, 'input>(node: Node<'a, 'input>, namespace: &str, name: &str) -> Option<Node<'a, 'input>> {
    children(node, namespace, name).next()
}

fn children<'a, 'input: 'a>(
    node: Node<'a, 'input>,
    namespace: &'a str,
    name: &'a str,
) -> impl Iterator<Item = Node<'a, 'input>> + 'a {
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
