//! RFC 6238 time-based one-time passwords (SPEC §4.1, §4.3): the secret, code
//! generation and checking with replay refusal and drift, and the `otpauth://` URI and
//! QR code an authenticator app enrols from.

use std::fmt;
use std::str::FromStr;

use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use zeroize::Zeroizing;

/// Fewest secret bytes accepted: 80 bits, because older tokens and apps ship 80-bit
/// seeds; RFC 4226 §4 asks for 128 and `TotpSecret::generate` makes 160.
pub const MIN_SECRET_BYTES: usize = 10;
/// Most secret bytes accepted: more than any HMAC block needs, so longer is an error.
pub const MAX_SECRET_BYTES: usize = 128;
/// Widest window `verify_code` honours: each extra step is another chance to guess.
pub const MAX_WINDOW: i64 = 10;

/// The HMAC hash of a TOTP (RFC 6238 §1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TotpAlgorithm {
    /// HMAC-SHA-1, what nearly every app and token uses.
    #[default]
    Sha1,
    /// HMAC-SHA-256.
    Sha256,
    /// HMAC-SHA-512.
    Sha512,
}

impl TotpAlgorithm {
    /// The name used in `otpauth://` URIs and stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA1",
            Self::Sha256 => "SHA256",
            Self::Sha512 => "SHA512",
        }
    }

    fn to_library(self) -> totp_rs::Algorithm {
        match self {
            Self::Sha1 => totp_rs::Algorithm::SHA1,
            Self::Sha256 => totp_rs::Algorithm::SHA256,
            Self::Sha512 => totp_rs::Algorithm::SHA512,
        }
    }
}

impl fmt::Display for TotpAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for TotpAlgorithm {
    type Err = TotpError;

    /// Accepts the spellings vendors use: `SHA1`, `sha-256`, `HMAC-SHA512`, …
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let upper = s.trim().to_ascii_uppercase();
        let name = upper.strip_prefix("HMAC").unwrap_or(&upper);
        let compact: String = name.chars().filter(|c| !matches!(c, '-' | '_')).collect();
        match compact.as_str() {
            "SHA1" => Ok(Self::Sha1),
            "SHA256" => Ok(Self::Sha256),
            "SHA512" => Ok(Self::Sha512),
            _ => Err(TotpError::Algorithm(shown(s))),
        }
    }
}

/// How codes are made: hash, number of digits and time step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TotpParams {
    /// The HMAC hash.
    pub algorithm: TotpAlgorithm,
    /// Digits per code, 6 to 8.
    pub digits: u8,
    /// Seconds per time step, 30 or 60.
    pub period: u32,
}

impl TotpParams {
    /// Checked parameters: 6–8 digits and a 30 or 60 s period (SPEC §4.1).
    pub fn new(algorithm: TotpAlgorithm, digits: u8, period: u32) -> Result<Self, TotpError> {
        let params = Self {
            algorithm,
            digits,
            period,
        };
        params.check()?;
        Ok(params)
    }

    /// Whether hand-built parameters are in range; `verify_code` refuses any that are not.
    pub fn check(&self) -> Result<(), TotpError> {
        if !(6..=8).contains(&self.digits) {
            return Err(TotpError::Digits(self.digits));
        }
        if !matches!(self.period, 30 | 60) {
            return Err(TotpError::Period(self.period));
        }
        Ok(())
    }
}

impl Default for TotpParams {
    /// SHA1, 6 digits, 30 s: what every authenticator app understands.
    fn default() -> Self {
        Self {
            algorithm: TotpAlgorithm::Sha1,
            digits: 6,
            period: 30,
        }
    }
}

/// A TOTP shared secret; zeroized on drop and never printed.
#[derive(Clone)]
pub struct TotpSecret(Zeroizing<Vec<u8>>);

impl TotpSecret {
    /// Takes raw seed bytes, refusing fewer than 10 or more than 128.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Self, TotpError> {
        // Wrapped first so a refused seed is wiped too.
        let bytes = Zeroizing::new(bytes);
        let len = bytes.len();
        if len < MIN_SECRET_BYTES {
            return Err(TotpError::SecretTooShort { len });
        }
        if len > MAX_SECRET_BYTES {
            return Err(TotpError::SecretTooLong { len });
        }
        Ok(Self(bytes))
    }

    /// A fresh 160-bit secret from the OS CSPRNG (RFC 4226 §4 R6 recommends 160 bits).
    pub fn generate() -> Result<Self, TotpError> {
        use rand::{rngs::OsRng, TryRngCore};
        let mut bytes = Zeroizing::new(vec![0u8; 20]);
        OsRng
            .try_fill_bytes(&mut bytes)
            .map_err(|_| TotpError::Random)?;
        Ok(Self(bytes))
    }

    /// The raw seed bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// RFC 4648 base32 without padding, as authenticator apps expect.
    pub fn to_base32(&self) -> Zeroizing<String> {
        Zeroizing::new(data_encoding::BASE32_NOPAD.encode(&self.0))
    }

    /// Reads base32 as people type it: any case, spaces and `=` padding allowed.
    pub fn from_base32(text: &str) -> Result<Self, TotpError> {
        let cleaned: Zeroizing<String> = Zeroizing::new(
            text.chars()
                .filter(|c| !c.is_whitespace() && *c != '=')
                .map(|c| c.to_ascii_uppercase())
                .collect(),
        );
        let bytes = data_encoding::BASE32_NOPAD
            .decode(cleaned.as_bytes())
            .map_err(|_| TotpError::NotBase32)?;
        Self::from_bytes(bytes)
    }
}

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret([redacted])")
    }
}

/// What went wrong with a TOTP secret, parameter or enrolment picture. Never holds
/// secret material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TotpError {
    /// The seed has fewer than `MIN_SECRET_BYTES`.
    #[error("the TOTP secret is {len} bytes; at least 10 (80 bits) are needed")]
    SecretTooShort {
        /// Bytes found.
        len: usize,
    },
    /// The seed has more than `MAX_SECRET_BYTES`.
    #[error("the TOTP secret is {len} bytes; at most 128 are allowed")]
    SecretTooLong {
        /// Bytes found.
        len: usize,
    },
    /// The text is not RFC 4648 base32.
    #[error("the TOTP secret is not valid base32")]
    NotBase32,
    /// Digits outside 6..=8.
    #[error("a TOTP code has 6, 7 or 8 digits, not {0}")]
    Digits(u8),
    /// A period other than 30 or 60 s.
    #[error("a TOTP period is 30 or 60 seconds, not {0}")]
    Period(u32),
    /// An unknown hash name (shown only when short, see `shown`).
    #[error("unknown TOTP algorithm {0} (expected SHA1, SHA256 or SHA512)")]
    Algorithm(String),
    /// The OS random generator failed.
    #[error("the operating system's random generator failed")]
    Random,
    /// The data does not fit in a QR code.
    #[error("the QR code cannot be made: {0}")]
    QrCode(String),
}

/// The time step `unix_time` falls in (RFC 6238 §4.2, T0 = 0).
pub fn step_of(params: &TotpParams, unix_time: i64) -> i64 {
    // max(1): a hand-built zero period must not divide by zero.
    unix_time.div_euclid(i64::from(params.period.max(1)))
}

/// The code for one time step, zero-padded to `params.digits`. Steps before 1970 count
/// as step 0 (RFC 6238's T is unsigned); out-of-range digits are clamped to 6..=8 so a
/// hand-built `TotpParams` cannot panic here.
pub fn code_at(secret: &TotpSecret, params: &TotpParams, step: i64) -> String {
    let counter = u64::try_from(step).unwrap_or(0);
    code_generator(secret, params).generate(counter).to_string()
}

/// A code `verify_code` accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    /// The time step the code belongs to; store it as the new last used step.
    pub step: i64,
    /// `step` minus the current step; store it as the token's drift.
    pub drift: i64,
}

/// Checks `code` against the steps `now_step + drift ± window`, skipping every step at
/// or before `last_step` so no code is accepted twice (SPEC §4.3). Every candidate is
/// computed and compared in constant time, so timing does not tell which one matched.
/// The window is capped at `MAX_WINDOW`; the caller trims the user's input.
pub fn verify_code(
    secret: &TotpSecret,
    params: &TotpParams,
    code: &str,
    now: i64,
    last_step: Option<i64>,
    drift: i64,
    window: i64,
) -> Option<Accepted> {
    if params.check().is_err() {
        return None;
    }
    let typed = code.as_bytes();
    if typed.len() != usize::from(params.digits) || !typed.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let window = window.clamp(0, MAX_WINDOW);
    let now_step = step_of(params, now);
    let centre = now_step.checked_add(drift)?;
    let first = centre.checked_sub(window)?;
    let last = centre.checked_add(window)?;
    let generator = code_generator(secret, params);

    let mut found = Choice::from(0);
    let mut matched = 0i64;
    for step in first..=last {
        // Which steps are tried depends only on the clock and stored state, not on
        // the code, so skipping here leaks nothing.
        if last_step.is_some_and(|used| step <= used) {
            continue;
        }
        let Ok(counter) = u64::try_from(step) else {
            continue;
        };
        let expected = Zeroizing::new(generator.generate(counter).to_string());
        let hit = expected.as_bytes().ct_eq(typed);
        // Keep the earliest matching step without branching on the comparison.
        matched = i64::conditional_select(&matched, &step, hit & !found);
        found |= hit;
    }
    if bool::from(found) {
        Some(Accepted {
            step: matched,
            drift: matched.checked_sub(now_step)?,
        })
    } else {
        None
    }
}

/// The Key URI an authenticator app enrols from:
/// `otpauth://totp/Issuer:account?secret=…&issuer=…&algorithm=…&digits=…&period=…`.
/// Label and values are percent-encoded; the result holds the secret, so it is
/// zeroized on drop.
pub fn otpauth_uri(
    issuer: &str,
    account: &str,
    secret: &TotpSecret,
    params: &TotpParams,
) -> Zeroizing<String> {
    let mut uri = Zeroizing::new(String::from("otpauth://totp/"));
    if !issuer.is_empty() {
        uri.push_str(&percent_encode(issuer));
        // The separator stays a literal colon; colons inside the names are encoded.
        uri.push(':');
    }
    uri.push_str(&percent_encode(account));
    uri.push_str("?secret=");
    uri.push_str(&secret.to_base32());
    if !issuer.is_empty() {
        uri.push_str("&issuer=");
        uri.push_str(&percent_encode(issuer));
    }
    uri.push_str("&algorithm=");
    uri.push_str(params.algorithm.as_str());
    uri.push_str("&digits=");
    uri.push_str(&params.digits.to_string());
    uri.push_str("&period=");
    uri.push_str(&params.period.to_string());
    uri
}

/// An SVG QR code of `data` (error correction M, at least 200 px, with quiet zone).
pub fn qr_svg(data: &str) -> Result<String, TotpError> {
    use qrcode::{render::svg, EcLevel, QrCode};
    let code = QrCode::with_error_correction_level(data.as_bytes(), EcLevel::M)
        .map_err(|e| TotpError::QrCode(e.to_string()))?;
    Ok(code
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

/// A generator whose "time" is the step itself (step duration 1), so callers pass
/// steps and no multiplication can overflow.
fn code_generator(secret: &TotpSecret, params: &TotpParams) -> totp_rs::Totp {
    totp_rs::Builder::new()
        .with_algorithm(params.algorithm.to_library())
        .with_digits(params.digits.clamp(6, 8))
        .with_step_duration(1)
        .with_secret(secret.as_bytes())
        // The RFC checks in `build` refuse 80-bit seeds, which we accept on purpose;
        // digits and secret length are already checked above and in `TotpSecret`.
        .build_noncompliant()
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Echoes user input in an error only when short: a long value in the wrong column
/// may be a seed, and error messages end up in logs.
pub(crate) fn shown(value: &str) -> String {
    let value = value.trim();
    if value.chars().count() <= 12 {
        format!("{value:?}")
    } else {
        format!("({} characters)", value.chars().count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED_SHA1: &[u8] = b"12345678901234567890";
    const SEED_SHA256: &[u8] = b"12345678901234567890123456789012";
    const SEED_SHA512: &[u8] = b"1234567890123456789012345678901234567890123456789012345678901234";

    fn secret(bytes: &[u8]) -> TotpSecret {
        TotpSecret::from_bytes(bytes.to_vec()).unwrap()
    }

    fn params(algorithm: TotpAlgorithm, digits: u8) -> TotpParams {
        TotpParams::new(algorithm, digits, 30).unwrap()
    }

    #[test]
    fn rfc6238_appendix_b_vectors() {
        // (time, SHA1, SHA256, SHA512) from RFC 6238 Appendix B.
        let vectors: [(i64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1111111109, "07081804", "68084774", "25091201"),
            (1111111111, "14050471", "67062674", "99943326"),
            (1234567890, "89005924", "91819424", "93441116"),
            (2000000000, "69279037", "90698825", "38618901"),
            (20000000000, "65353130", "77737706", "47863826"),
        ];
        let cases = [
            (TotpAlgorithm::Sha1, SEED_SHA1),
            (TotpAlgorithm::Sha256, SEED_SHA256),
            (TotpAlgorithm::Sha512, SEED_SHA512),
        ];
        for (time, sha1, sha256, sha512) in vectors {
            for ((algorithm, seed), expected) in cases.iter().zip([sha1, sha256, sha512]) {
                let p = params(*algorithm, 8);
                let step = step_of(&p, time);
                assert_eq!(
                    code_at(&secret(seed), &p, step),
                    expected,
                    "{algorithm} at {time}"
                );
                let accepted = verify_code(&secret(seed), &p, expected, time, None, 0, 0);
                assert_eq!(accepted, Some(Accepted { step, drift: 0 }));
            }
        }
    }

    #[test]
    fn six_digit_codes_are_the_low_digits() {
        let p = params(TotpAlgorithm::Sha1, 6);
        assert_eq!(code_at(&secret(SEED_SHA1), &p, step_of(&p, 59)), "287082");
    }

    #[test]
    fn a_code_is_never_accepted_twice() {
        let s = secret(SEED_SHA1);
        let p = TotpParams::default();
        let now = 1_700_000_000;
        let code = code_at(&s, &p, step_of(&p, now));
        let first = verify_code(&s, &p, &code, now, None, 0, 1).unwrap();
        assert_eq!(first.step, step_of(&p, now));
        assert_eq!(
            verify_code(&s, &p, &code, now, Some(first.step), 0, 1),
            None
        );
        // An older step inside the window is refused too once a later one was used.
        let older = code_at(&s, &p, first.step - 1);
        assert_eq!(
            verify_code(&s, &p, &older, now, Some(first.step), 0, 1),
            None
        );
    }

    #[test]
    fn drift_within_the_window_is_accepted_and_reported() {
        let s = secret(SEED_SHA1);
        let p = TotpParams::default();
        let now = 1_700_000_000;
        let now_step = step_of(&p, now);
        let ahead = code_at(&s, &p, now_step + 2);
        assert_eq!(
            verify_code(&s, &p, &ahead, now, None, 0, 2),
            Some(Accepted {
                step: now_step + 2,
                drift: 2
            })
        );
        let behind = code_at(&s, &p, now_step - 1);
        assert_eq!(
            verify_code(&s, &p, &behind, now, Some(now_step - 5), 0, 1),
            Some(Accepted {
                step: now_step - 1,
                drift: -1
            })
        );
        // A stored drift moves the window: +4 is reachable with drift 3, window 1.
        let far = code_at(&s, &p, now_step + 4);
        assert_eq!(
            verify_code(&s, &p, &far, now, None, 3, 1).map(|a| a.drift),
            Some(4)
        );
    }

    #[test]
    fn codes_outside_the_window_are_refused() {
        let s = secret(SEED_SHA1);
        let p = TotpParams::default();
        let now = 1_700_000_000;
        let now_step = step_of(&p, now);
        let code = code_at(&s, &p, now_step + 3);
        assert_eq!(verify_code(&s, &p, &code, now, None, 0, 2), None);
        // A huge window is capped.
        let distant = code_at(&s, &p, now_step + MAX_WINDOW + 1);
        assert_eq!(verify_code(&s, &p, &distant, now, None, 0, 1000), None);
    }

    #[test]
    fn malformed_codes_are_refused() {
        let s = secret(SEED_SHA1);
        let p = TotpParams::default();
        let now = 1_700_000_000;
        let code = code_at(&s, &p, step_of(&p, now));
        let bad_codes = [
            code[..5].to_string(),
            format!("{code}0"),
            format!(" {}", &code[1..]),
            "12a456".to_string(),
            "+12345".to_string(),
            "１２３４５６".to_string(),
            String::new(),
        ];
        for bad in &bad_codes {
            assert_eq!(verify_code(&s, &p, bad, now, None, 0, 1), None, "{bad:?}");
        }
    }

    #[test]
    fn invalid_hand_built_params_fail_closed() {
        let s = secret(SEED_SHA1);
        let p = TotpParams {
            algorithm: TotpAlgorithm::Sha1,
            digits: 6,
            period: 0,
        };
        assert_eq!(verify_code(&s, &p, "123456", 100, None, 0, 1), None);
        assert_eq!(step_of(&p, 100), 100);
        let nine = TotpParams { digits: 12, ..p };
        assert_eq!(code_at(&s, &nine, 1).len(), 8);
    }

    #[test]
    fn params_are_validated() {
        assert_eq!(
            TotpParams::new(TotpAlgorithm::Sha1, 5, 30),
            Err(TotpError::Digits(5))
        );
        assert_eq!(
            TotpParams::new(TotpAlgorithm::Sha1, 9, 30),
            Err(TotpError::Digits(9))
        );
        assert_eq!(
            TotpParams::new(TotpAlgorithm::Sha1, 6, 45),
            Err(TotpError::Period(45))
        );
        assert!(TotpParams::new(TotpAlgorithm::Sha512, 8, 60).is_ok());
        assert_eq!(TotpParams::default(), params(TotpAlgorithm::Sha1, 6));
    }

    #[test]
    fn algorithm_names() {
        for (text, expected) in [
            ("SHA1", TotpAlgorithm::Sha1),
            ("sha1", TotpAlgorithm::Sha1),
            ("HMAC-SHA1", TotpAlgorithm::Sha1),
            ("SHA-1", TotpAlgorithm::Sha1),
            ("SHA256", TotpAlgorithm::Sha256),
            ("hmac-sha256", TotpAlgorithm::Sha256),
            (" SHA512 ", TotpAlgorithm::Sha512),
            ("HMAC-SHA-512", TotpAlgorithm::Sha512),
        ] {
            assert_eq!(text.parse::<TotpAlgorithm>(), Ok(expected), "{text}");
        }
        assert!("MD5".parse::<TotpAlgorithm>().is_err());
        // A long value (maybe a seed in the wrong column) is not echoed.
        let err = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
            .parse::<TotpAlgorithm>()
            .unwrap_err();
        assert!(!err.to_string().contains("GEZDG"), "{err}");
        assert_eq!(TotpAlgorithm::Sha256.as_str(), "SHA256");
    }

    #[test]
    fn secret_lengths_are_checked() {
        assert_eq!(
            TotpSecret::from_bytes(vec![0; 9]).unwrap_err(),
            TotpError::SecretTooShort { len: 9 }
        );
        assert_eq!(
            TotpSecret::from_bytes(vec![0; 129]).unwrap_err(),
            TotpError::SecretTooLong { len: 129 }
        );
        assert!(TotpSecret::from_bytes(vec![0; 10]).is_ok());
        assert!(TotpSecret::from_bytes(vec![0; 128]).is_ok());
    }

    #[test]
    fn generated_secrets_are_20_random_bytes() {
        let a = TotpSecret::generate().unwrap();
        let b = TotpSecret::generate().unwrap();
        assert_eq!(a.as_bytes().len(), 20);
        assert_ne!(a.as_bytes(), b.as_bytes());
    }

    #[test]
    fn base32_round_trip() {
        let s = secret(SEED_SHA1);
        let text = s.to_base32();
        assert_eq!(text.as_str(), "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
        assert_eq!(
            TotpSecret::from_base32(&text).unwrap().as_bytes(),
            SEED_SHA1
        );
        // Lower case, spaces and padding as people copy them.
        let typed = "gezd gnbv gy3t qojq gezd gnbv gy3t qojq";
        assert_eq!(
            TotpSecret::from_base32(typed).unwrap().as_bytes(),
            SEED_SHA1
        );
        let padded = TotpSecret::from_bytes(b"1234567890a".to_vec()).unwrap();
        let with_padding = data_encoding::BASE32.encode(padded.as_bytes());
        assert!(with_padding.ends_with('='));
        assert_eq!(
            TotpSecret::from_base32(&with_padding).unwrap().as_bytes(),
            padded.as_bytes()
        );
        assert_eq!(
            TotpSecret::from_base32("not base32!").unwrap_err(),
            TotpError::NotBase32
        );
        assert_eq!(
            TotpSecret::from_base32("GEZDGNBV").unwrap_err(),
            TotpError::SecretTooShort { len: 5 }
        );
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let s = secret(SEED_SHA1);
        let printed = format!("{s:?}");
        assert_eq!(printed, "TotpSecret([redacted])");
    }

    #[test]
    fn otpauth_uri_escapes_label_and_issuer() {
        let s = secret(SEED_SHA1);
        let p = TotpParams::new(TotpAlgorithm::Sha256, 8, 60).unwrap();
        let uri = otpauth_uri("ACME Co: Tōkyō", "jane doe@example.com", &s, &p);
        assert_eq!(
            uri.as_str(),
            "otpauth://totp/ACME%20Co%3A%20T%C5%8Dky%C5%8D:jane%20doe%40example.com\
             ?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=ACME%20Co%3A%20T%C5%8Dky%C5%8D&algorithm=SHA256&digits=8&period=60"
        );
        let plain = otpauth_uri("", "a_b-c.d~e", &s, &TotpParams::default());
        assert_eq!(
            plain.as_str(),
            "otpauth://totp/a_b-c.d~e?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &algorithm=SHA1&digits=6&period=30"
        );
    }

    #[test]
    fn qr_svg_is_an_svg_document() {
        let s = secret(SEED_SHA1);
        let uri = otpauth_uri("passgrid", "alice", &s, &TotpParams::default());
        let svg = qr_svg(&uri).unwrap();
        assert!(svg.contains("<svg"), "{}", &svg[..80.min(svg.len())]);
        assert!(svg.trim_end().ends_with("</svg>"));
        let too_long = "x".repeat(5000);
        assert!(matches!(qr_svg(&too_long), Err(TotpError::QrCode(_))));
    }
}
