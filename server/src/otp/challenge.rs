//! Challenges (SPEC §1.4): a 256-bit seed from the OS CSPRNG per login attempt, stored
//! so any server of a cluster can verify, consumed by the first verification.

use app::{
    grid::{digits_from_seed, GridShape, Seed},
    pattern::otp_for,
};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::{patterns::open_pattern, OtpError};
use crate::{
    master_key::MasterKey,
    random::os_random,
    store::{
        challenges::NewChallenge,
        lockouts::{Claim, LOCKED_UNTIL_UNLOCKED},
        login_facts::StoredChallenge,
        login_writes::Consumed,
        patterns::LoginSubject,
        Store,
    },
};

/// A challenge just issued.
pub struct IssuedChallenge {
    pub id: String,
    pub purpose: Purpose,
    pub seed: Seed,
    pub shape: GridShape,
    pub expires_at: i64,
}

/// What a verification found.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The OTP matched the pattern of this user.
    Accepted {
        user_id: String,
        initial_pattern: bool,
    },
    /// Wrong OTP, unknown user, no pattern, expired pattern: one answer for all.
    /// `locked_now`: this failure was the one that reached the lock-out threshold.
    Rejected {
        claimed_user: String,
        locked_now: bool,
    },
    /// The claimed ID is locked, or the attempts in flight for it took the rest of its
    /// lock-out budget: the answer was not checked.
    Locked {
        claimed_user: String,
        until: Option<i64>,
    },
    /// The challenge existed but had expired (consumed now all the same).
    Expired { claimed_user: String },
    /// No such challenge, consumed before, or not this client's.
    Invalid,
}

/// Binding of a challenge to the client that asked for it.
pub struct Binding<'a> {
    pub flow_hash: &'a [u8],
    pub cert_fingerprint: Option<&'a str>,
}

/// What a challenge is for: a login, or confirming a new pattern.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    /// A grid login.
    Login,
    /// A login with a TOTP code instead of the grid.
    LoginTotp,
    /// A login with the grid and a TOTP code.
    LoginBoth,
    Confirm,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::Login => "login",
            Purpose::LoginTotp => "login-totp",
            Purpose::LoginBoth => "login-both",
            Purpose::Confirm => "confirm",
        }
    }

    fn of_login(text: &str) -> Option<Purpose> {
        [Purpose::Login, Purpose::LoginTotp, Purpose::LoginBoth]
            .into_iter()
            .find(|p| p.as_str() == text)
    }

    /// Whether the grid is part of it.
    pub fn has_grid(self) -> bool {
        !matches!(self, Purpose::LoginTotp)
    }

    /// Whether a TOTP code is part of it.
    pub fn has_totp(self) -> bool {
        matches!(self, Purpose::LoginTotp | Purpose::LoginBoth)
    }
}

pub async fn issue_challenge(
    store: &Store,
    purpose: Purpose,
    claimed_user: &str,
    shape: GridShape,
    binding: &Binding<'_>,
    ttl_secs: i64,
    now: i64,
) -> Result<IssuedChallenge, OtpError> {
    let mut seed = [0u8; 32];
    os_random(&mut seed)?;
    let mut id = [0u8; 16];
    os_random(&mut id)?;
    let id = hex::encode(id);
    let expires_at = now + ttl_secs;
    store
        .insert_challenge(
            &NewChallenge {
                id: &id,
                purpose: purpose.as_str(),
                flow_hash: binding.flow_hash,
                cert_fingerprint: binding.cert_fingerprint,
                claimed_user,
                seed: &seed,
                blocks_across: shape.blocks_across,
                blocks_down: shape.blocks_down,
                expires_at,
            },
            now,
        )
        .await?;
    Ok(IssuedChallenge {
        id,
        purpose,
        seed,
        shape,
        expires_at,
    })
}

/// What the user typed for a login: the grid's digits and/or a TOTP code.
pub struct Answer<'a> {
    /// The grid's digits (or, for a TOTP-only login, the code), with the additional
    /// phrase before or after them when the policy has one.
    pub otp: &'a [u8],
    /// The TOTP code where the login asks for the grid and a code.
    pub totp: Option<&'a str>,
    /// The phrase policy and the hasher that checks it.
    pub phrase: Option<(&'a super::phrase::PhraseHasher, super::phrase::PhraseRule)>,
}

/// Sealed stand-ins opened when a login names no real user, pattern or token, so
/// that every path does the same work (SPEC §1.9).
pub struct Decoys<'a> {
    pub pattern: &'a [u8],
    pub token: &'a [u8],
}

/// Whether `challenge` is still open to this client: not consumed, drawn for its flow
/// and certificate, not expired. Only then is an answer to it checked.
pub fn open_to(challenge: &StoredChallenge, binding: &Binding<'_>, now: i64) -> bool {
    let flow = bool::from(challenge.flow_hash.as_slice().ct_eq(binding.flow_hash));
    !challenge.consumed
        && flow
        && challenge.cert_fingerprint.as_deref() == binding.cert_fingerprint
        && challenge.expires_at > now
}

/// What checking a login answer found. Nobody learns it from this: only the atomic
/// step that consumes the grid and counts the attempt (`Store::settle_login`) decides
/// whether a right answer succeeds (never past the lock-out budget).
#[derive(Debug, PartialEq, Eq)]
pub struct Checked {
    pub right: bool,
    pub initial_pattern: bool,
}

/// Checks `answer` to `challenge` (read, not yet consumed) against the pattern and/or
/// token of `claimed_user`, as the challenge's purpose says. `subject`: the claimed
/// user's status and pattern, read with the challenge (`None`: no such user); every
/// path does the same work, with decoys for IDs without a pattern or token (SPEC
/// §1.9). `None`: not a login challenge, or malformed.
#[allow(clippy::too_many_arguments)]
pub async fn check_login_answer(
    store: &Store,
    key: &MasterKey,
    claimed_user: &str,
    challenge: &StoredChallenge,
    answer: &Answer<'_>,
    decoys: &Decoys<'_>,
    subject: Option<&LoginSubject>,
    now: i64,
) -> Result<Option<Checked>, OtpError> {
    let Some(purpose) = Purpose::of_login(&challenge.purpose) else {
        return Ok(None);
    };
    let (Ok(seed), Some(shape)) = (
        <Seed>::try_from(challenge.seed.as_slice()),
        GridShape::new(challenge.blocks_across as u8, challenge.blocks_down as u8),
    ) else {
        return Ok(None);
    };
    let usable = subject
        .filter(|s| s.active)
        .and_then(|s| s.pattern.as_ref())
        .filter(|p| p.expires_at.is_none_or(|e| e > now));
    let (cells, real, initial) = match usable {
        Some(p) => (
            open_pattern(key, claimed_user, &p.sealed)?,
            true,
            p.is_initial,
        ),
        None => (open_pattern(key, DECOY_USER, decoys.pattern)?, false, false),
    };
    // Looked up for every claimed ID (when the login has a code), and every part is
    // checked whether or not another was right: no timing tells one from the other.
    let token = if purpose.has_totp() {
        store
            .user_token(claimed_user)
            .await?
            .filter(|_| usable.is_some())
    } else {
        None
    };
    // A user the policy asks for a code who has no token yet (and every unknown ID)
    // signs in with the grid in its place, then enrols: the answer's shape does not
    // tell whether an ID exists or holds a token.
    let grid_instead = purpose.has_totp() && token.is_none();
    let grid_counts = purpose.has_grid() || grid_instead;
    // How many characters of `otp` are digits (the rest is the phrase).
    let digit_count = if grid_counts {
        cells.len()
    } else {
        token.as_ref().map_or(6, |t| t.digits as usize)
    };
    let rule = answer.phrase.map(|(_, rule)| rule).unwrap_or_default();
    let (digits_typed, phrase_typed, shape_ok) = match rule.split(answer.otp, digit_count) {
        Some((d, p)) => (d, p, true),
        None => (answer.otp, &[][..], false),
    };
    let grid_matches = {
        let digits = digits_from_seed(&seed, shape);
        let expected = Zeroizing::new(otp_for(&digits, &cells).unwrap_or_default());
        bool::from(expected.as_slice().ct_eq(digits_typed))
    };
    let grid_ok = !grid_counts || grid_matches;
    let totp_ok = if purpose.has_totp() {
        // TOTP-only logins type the code where the grid's digits would go.
        let code = match purpose {
            Purpose::LoginTotp => std::str::from_utf8(digits_typed).unwrap_or_default(),
            _ => answer.totp.unwrap_or_default(),
        };
        // Checked against the decoy when the grid stands in, so both cost the same.
        let checked =
            super::tokens::check_code(store, key, token.as_ref(), decoys.token, code, now).await?;
        grid_instead || checked
    } else {
        true
    };
    let phrase_ok = match answer.phrase {
        Some((hasher, rule)) if rule.mode != super::phrase::PhraseMode::Off => {
            let stored = match usable {
                Some(_) => store.user_phrase(claimed_user).await?,
                None => None,
            };
            hasher.verify(stored.as_deref(), phrase_typed).await?
        }
        _ => true,
    };
    Ok(Some(Checked {
        right: shape_ok && grid_ok && totp_ok && phrase_ok && real,
        initial_pattern: initial,
    }))
}

/// The verdict on a login once its step is settled: `settled` is what the consume
/// found (`None`: no such open challenge of this client), `claim` the lock-out budget
/// it was counted under, `checked` what its answer was.
pub fn login_verdict(
    settled: Option<Consumed>,
    claim: Option<Claim>,
    checked: Option<&Checked>,
    now: i64,
) -> Verdict {
    let Some(Consumed {
        challenge: c,
        attempt,
        succeeded,
    }) = settled
    else {
        return Verdict::Invalid;
    };
    if Purpose::of_login(&c.purpose).is_none() {
        return Verdict::Invalid;
    }
    if c.expires_at <= now {
        return Verdict::Expired {
            claimed_user: c.claimed_user,
        };
    }
    let locked_now = match (claim, attempt) {
        (Some(claim), Some(attempt)) if attempt.over(&claim) => {
            return Verdict::Locked {
                claimed_user: c.claimed_user,
                until: attempt.locked_until.filter(|&t| t != LOCKED_UNTIL_UNLOCKED),
            };
        }
        (Some(claim), Some(attempt)) => attempt.count == claim.threshold,
        _ => false,
    };
    match checked {
        Some(checked) if succeeded => Verdict::Accepted {
            user_id: c.claimed_user,
            initial_pattern: checked.initial_pattern,
        },
        _ => Verdict::Rejected {
            claimed_user: c.claimed_user,
            locked_now,
        },
    }
}

/// The user name decoy patterns are sealed for (never a valid user ID: has a space).
pub const DECOY_USER: &str = "decoy pattern";

/// What a pattern confirmation found.
#[derive(Debug, PartialEq, Eq)]
pub enum DraftVerdict {
    /// The OTP matched the draft; `confirmations` now counts this one.
    Confirmed {
        confirmations: i64,
    },
    Rejected,
    Expired,
    Invalid,
}

/// Consumes a confirmation challenge of `user_id` and checks `otp` against the
/// user's pattern draft (SPEC §1.6: a new pattern is proven on fresh grids).
pub async fn verify_draft_challenge(
    store: &Store,
    key: &MasterKey,
    challenge_id: &str,
    otp: &[u8],
    binding: &Binding<'_>,
    user_id: &str,
    now: i64,
) -> Result<DraftVerdict, OtpError> {
    let consumed = store
        .consume_challenge(
            challenge_id,
            binding.flow_hash,
            binding.cert_fingerprint,
            now,
        )
        .await?;
    let Some(c) = consumed else {
        return Ok(DraftVerdict::Invalid);
    };
    if c.purpose != Purpose::Confirm.as_str() || c.claimed_user != user_id {
        return Ok(DraftVerdict::Invalid);
    }
    if c.expires_at <= now {
        return Ok(DraftVerdict::Expired);
    }
    let (Ok(seed), Some(shape)) = (
        <Seed>::try_from(c.seed.as_slice()),
        GridShape::new(c.blocks_across as u8, c.blocks_down as u8),
    ) else {
        return Ok(DraftVerdict::Invalid);
    };
    let Some((sealed, confirmations)) = store.pattern_draft(user_id, now).await? else {
        return Ok(DraftVerdict::Invalid);
    };
    let cells = open_pattern(key, user_id, &sealed)?;
    let digits = digits_from_seed(&seed, shape);
    let expected = Zeroizing::new(otp_for(&digits, &cells).unwrap_or_default());
    if bool::from(expected.as_slice().ct_eq(otp)) {
        store.confirm_pattern_draft(user_id).await?;
        Ok(DraftVerdict::Confirmed {
            confirmations: confirmations + 1,
        })
    } else {
        Ok(DraftVerdict::Rejected)
    }
}
