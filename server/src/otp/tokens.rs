//! TOTP tokens (SPEC §4): hardware tokens imported and assigned, software tokens
//! enrolled by QR code, and the code check of a login. Seeds are sealed under the
//! master key, bound to their token's serial; this is the only code that opens them.

use super::{
    token_files::{parse_token_file, TokenFileError},
    totp::{otpauth_uri, qr_svg, verify_code, TotpAlgorithm, TotpError, TotpParams, TotpSecret},
    OtpError,
};
use crate::{
    master_key::MasterKey,
    random::os_random,
    store::{
        tokens::{NewToken, StoredToken},
        Store, StoreError,
    },
};

/// Steps either side of the token's last known drift that a code may come from.
pub const DRIFT_WINDOW: i64 = 1;
/// How long a started enrolment waits for its confirming code.
const ENROLMENT_SECS: i64 = 15 * 60;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error(transparent)]
    File(#[from] TokenFileError),
    #[error(transparent)]
    Totp(#[from] TotpError),
    #[error(transparent)]
    Otp(#[from] OtpError),
    #[error("tokens with these serials exist already: {0}")]
    Duplicate(String),
    #[error("no token with serial {0:?}")]
    NoSuchToken(String),
    #[error("token {0} is a software token; only hardware tokens are assigned")]
    NotHardware(String),
    #[error("no user with ID {0:?}")]
    NoSuchUser(String),
    #[error("the pre-shared key must be 16, 24 or 32 bytes in hex")]
    BadKey,
}

impl From<StoreError> for TokenError {
    fn from(e: StoreError) -> Self {
        TokenError::Otp(OtpError::Store(e))
    }
}

fn seed_purpose(serial: &str) -> String {
    format!("totp seed {serial}")
}

fn enrolment_purpose(user_id: &str) -> String {
    format!("totp enrolment {user_id}")
}

/// Reads a vendor seed file (CSV or PSKC) and stores every token in it, unassigned,
/// or none: a serial already known refuses the whole file. Returns the serials.
pub async fn import_token_file(
    store: &Store,
    key: &MasterKey,
    bytes: &[u8],
    preshared_key_hex: Option<&str>,
    now: i64,
) -> Result<Vec<String>, TokenError> {
    let psk = match preshared_key_hex {
        Some(h) => {
            let k = zeroize::Zeroizing::new(hex::decode(h.trim()).map_err(|_| TokenError::BadKey)?);
            if ![16, 24, 32].contains(&k.len()) {
                return Err(TokenError::BadKey);
            }
            Some(k)
        }
        None => None,
    };
    let records = parse_token_file(bytes, psk.as_ref().map(|k| k.as_slice()))?;
    let serials: Vec<&str> = records.iter().map(|r| r.serial.as_str()).collect();
    let existing = store.existing_token_serials(&serials).await?;
    if !existing.is_empty() {
        let mut list = existing
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        if existing.len() > 10 {
            list.push_str(&format!(" and {} more", existing.len() - 10));
        }
        return Err(TokenError::Duplicate(list));
    }
    let mut sealed = Vec::with_capacity(records.len());
    for r in &records {
        sealed.push(
            key.seal(r.secret.as_bytes(), &seed_purpose(&r.serial))
                .map_err(OtpError::from)?,
        );
    }
    let new: Vec<NewToken<'_>> = records
        .iter()
        .zip(&sealed)
        .map(|(r, s)| NewToken {
            serial: &r.serial,
            kind: "hardware",
            user_id: None,
            secret_sealed: s,
            algorithm: r.params.algorithm.as_str(),
            digits: i64::from(r.params.digits),
            period: i64::from(r.params.period),
        })
        .collect();
    store.insert_tokens(&new, now).await?;
    Ok(records.into_iter().map(|r| r.serial).collect())
}

/// Gives a hardware token to a user (replacing the user's token).
pub async fn assign_token(
    store: &Store,
    serial: &str,
    user_id: &str,
    now: i64,
) -> Result<(), TokenError> {
    let token = store
        .token(serial)
        .await?
        .ok_or_else(|| TokenError::NoSuchToken(serial.to_string()))?;
    if token.kind != "hardware" {
        return Err(TokenError::NotHardware(serial.to_string()));
    }
    if store.user(user_id).await?.is_none() {
        return Err(TokenError::NoSuchUser(user_id.to_string()));
    }
    store.assign_token(serial, user_id, now).await?;
    Ok(())
}

fn params_of(token: &StoredToken) -> Result<TotpParams, TotpError> {
    let algorithm: TotpAlgorithm = token.algorithm.parse()?;
    TotpParams::new(
        algorithm,
        u8::try_from(token.digits).map_err(|_| TotpError::Digits(0))?,
        u32::try_from(token.period).map_err(|_| TotpError::Period(0))?,
    )
}

/// A sealed seed for logins that name no token, opened and checked like a real one
/// so both paths cost the same.
pub fn decoy_token(key: &MasterKey) -> Result<Vec<u8>, TokenError> {
    let secret = TotpSecret::generate()?;
    Ok(key
        .seal(secret.as_bytes(), &seed_purpose(DECOY_SERIAL))
        .map_err(OtpError::from)?)
}

const DECOY_SERIAL: &str = "decoy token";

/// Whether `code` is a fresh code of `token` (or, for `None`, does the same work
/// against the decoy and says no). An accepted step is recorded, so the same code —
/// or an older one — never passes again.
pub async fn check_code(
    store: &Store,
    key: &MasterKey,
    token: Option<&StoredToken>,
    decoy_sealed: &[u8],
    code: &str,
    now: i64,
) -> Result<bool, OtpError> {
    let (serial, sealed, params, last_step, drift) = match token {
        Some(t) => match params_of(t) {
            Ok(p) => (
                t.serial.as_str(),
                t.secret_sealed.as_slice(),
                p,
                t.last_step,
                t.drift,
            ),
            Err(_) => return Ok(false),
        },
        None => (DECOY_SERIAL, decoy_sealed, TotpParams::default(), None, 0),
    };
    let opened = key.open(sealed, &seed_purpose(serial))?;
    let Ok(secret) = TotpSecret::from_bytes(opened.to_vec()) else {
        return Ok(false);
    };
    let Some(accepted) = verify_code(&secret, &params, code, now, last_step, drift, DRIFT_WINDOW)
    else {
        return Ok(false);
    };
    if token.is_none() {
        return Ok(false);
    }
    Ok(store
        .record_token_step(serial, accepted.step, accepted.drift)
        .await?)
}

/// The codes `token` would accept now (its drift ± the window, steps after the last
/// one used), for protocols that must know the password to check a response
/// (MS-CHAPv2). `None` computes the decoy's, so both paths cost the same.
pub fn candidate_codes(
    key: &MasterKey,
    token: Option<&StoredToken>,
    decoy_sealed: &[u8],
    now: i64,
) -> Result<Vec<zeroize::Zeroizing<String>>, OtpError> {
    let (serial, sealed, params, last_step, drift) = match token {
        Some(t) => match params_of(t) {
            Ok(p) => (
                t.serial.as_str(),
                t.secret_sealed.as_slice(),
                p,
                t.last_step,
                t.drift,
            ),
            Err(_) => return Ok(Vec::new()),
        },
        None => (DECOY_SERIAL, decoy_sealed, TotpParams::default(), None, 0),
    };
    let opened = key.open(sealed, &seed_purpose(serial))?;
    let Ok(secret) = TotpSecret::from_bytes(opened.to_vec()) else {
        return Ok(Vec::new());
    };
    let centre = super::totp::step_of(&params, now).saturating_add(drift);
    Ok((centre - DRIFT_WINDOW..=centre + DRIFT_WINDOW)
        .filter(|step| last_step.is_none_or(|used| *step > used))
        .map(|step| zeroize::Zeroizing::new(super::totp::code_at(&secret, &params, step)))
        .collect())
}

/// What the enrolment page shows.
pub struct EnrolmentView {
    pub uri: zeroize::Zeroizing<String>,
    pub secret_base32: zeroize::Zeroizing<String>,
    pub qr_svg: String,
}

fn view_of(secret: &TotpSecret, issuer: &str, user_id: &str) -> Result<EnrolmentView, TokenError> {
    let params = TotpParams::default();
    let uri = otpauth_uri(issuer, user_id, secret, &params);
    let qr_svg = qr_svg(&uri)?;
    Ok(EnrolmentView {
        secret_base32: secret.to_base32(),
        uri,
        qr_svg,
    })
}

/// Starts a software-token enrolment with a new seed (SHA-1, 6 digits, 30 s: what
/// every authenticator app reads).
pub async fn begin_enrolment(
    store: &Store,
    key: &MasterKey,
    user_id: &str,
    issuer: &str,
    now: i64,
) -> Result<EnrolmentView, TokenError> {
    let secret = TotpSecret::generate()?;
    let sealed = key
        .seal(secret.as_bytes(), &enrolment_purpose(user_id))
        .map_err(OtpError::from)?;
    store
        .save_token_enrolment(user_id, &sealed, now + ENROLMENT_SECS, now)
        .await?;
    view_of(&secret, issuer, user_id)
}

/// The enrolment in progress, for showing again.
pub async fn current_enrolment(
    store: &Store,
    key: &MasterKey,
    user_id: &str,
    issuer: &str,
    now: i64,
) -> Result<Option<EnrolmentView>, TokenError> {
    let Some(sealed) = store.token_enrolment(user_id, now).await? else {
        return Ok(None);
    };
    let opened = key
        .open(&sealed, &enrolment_purpose(user_id))
        .map_err(OtpError::from)?;
    let secret = TotpSecret::from_bytes(opened.to_vec())?;
    view_of(&secret, issuer, user_id).map(Some)
}

/// Confirms the enrolment with a code from the app; on success the token is the
/// user's (replacing any other) and that code is spent. `false`: wrong code or no
/// enrolment in progress.
pub async fn confirm_enrolment(
    store: &Store,
    key: &MasterKey,
    user_id: &str,
    code: &str,
    now: i64,
) -> Result<bool, TokenError> {
    let Some(sealed) = store.token_enrolment(user_id, now).await? else {
        return Ok(false);
    };
    let opened = key
        .open(&sealed, &enrolment_purpose(user_id))
        .map_err(OtpError::from)?;
    let secret = TotpSecret::from_bytes(opened.to_vec())?;
    let params = TotpParams::default();
    let Some(accepted) = verify_code(&secret, &params, code, now, None, 0, DRIFT_WINDOW) else {
        return Ok(false);
    };
    let mut id = [0u8; 6];
    os_random(&mut id).map_err(OtpError::from)?;
    let serial = format!("soft-{}", hex::encode(id));
    let sealed = key
        .seal(secret.as_bytes(), &seed_purpose(&serial))
        .map_err(OtpError::from)?;
    store
        .finish_token_enrolment(
            &NewToken {
                serial: &serial,
                kind: "software",
                user_id: Some(user_id),
                secret_sealed: &sealed,
                algorithm: params.algorithm.as_str(),
                digits: i64::from(params.digits),
                period: i64::from(params.period),
            },
            accepted.step,
            now,
        )
        .await?;
    Ok(true)
}
