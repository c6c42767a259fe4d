//! The answers a pending login challenge would accept, for protocols that prove
//! knowledge of the password without sending it: MS-CHAPv2 (RFC 2759) hashes the
//! password with the peer's and the server's challenges, so the server needs the
//! password itself to check the response. The grid's digits at the user's pattern
//! and the codes of the user's token in its window are that password; the login
//! decision still consumes the challenge and checks the chosen answer again.

use app::{
    grid::{digits_from_seed, GridShape, Seed},
    pattern::otp_for,
};
use zeroize::Zeroizing;

use super::{
    challenge::{Decoys, Purpose, DECOY_USER},
    patterns::open_pattern,
    tokens::candidate_codes,
    OtpError,
};
use crate::{master_key::MasterKey, store::Store};

/// One acceptable answer: the grid's digits (or the code) in `otp`, and for a login
/// that asks for both, the code in `totp`.
pub struct ExpectedAnswer {
    pub otp: Zeroizing<String>,
    pub totp: Option<Zeroizing<String>>,
    /// The grid's digits are part of it (a grid the user must have been shown).
    pub from_grid: bool,
}

impl ExpectedAnswer {
    /// The password a peer types for it: the digits, then `:` and the code when the
    /// login asks for both (`:` is never part of a phrase, SPEC §1.3).
    pub fn password(&self) -> Zeroizing<String> {
        match &self.totp {
            Some(code) => Zeroizing::new(format!("{}:{}", self.otp.as_str(), code.as_str())),
            None => self.otp.clone(),
        }
    }
}

/// Every answer the open challenge `challenge_id` of `flow_hash`, issued for
/// `user_id`, would accept now. Unknown users and users without a usable pattern get
/// the decoy's answers (the same work; the decision refuses them all the same). Empty
/// when the challenge is not open.
pub async fn expected_answers(
    store: &Store,
    key: &MasterKey,
    challenge_id: &str,
    flow_hash: &[u8],
    user_id: &str,
    decoys: &Decoys<'_>,
    now: i64,
) -> Result<Vec<ExpectedAnswer>, OtpError> {
    let purposes = [
        Purpose::Login.as_str(),
        Purpose::LoginTotp.as_str(),
        Purpose::LoginBoth.as_str(),
    ];
    let Some(open) = store
        .open_challenge(challenge_id, &purposes, flow_hash, now)
        .await?
    else {
        return Ok(Vec::new());
    };
    let (Ok(seed), Some(shape)) = (
        <Seed>::try_from(open.seed.as_slice()),
        GridShape::new(open.blocks_across as u8, open.blocks_down as u8),
    ) else {
        return Ok(Vec::new());
    };
    let subject = store.login_subject(user_id).await?;
    let usable = subject
        .as_ref()
        .filter(|s| s.active)
        .and_then(|s| s.pattern.as_ref())
        .filter(|p| p.expires_at.is_none_or(|e| e > now));
    let cells = match usable {
        Some(p) => open_pattern(key, user_id, &p.sealed)?,
        None => open_pattern(key, DECOY_USER, decoys.pattern)?,
    };
    let digits = digits_from_seed(&seed, shape);
    let grid = Zeroizing::new(
        otp_for(&digits, &cells)
            .map(|d| String::from_utf8_lossy(&d).into_owned())
            .unwrap_or_default(),
    );
    let has_totp = open.purpose != Purpose::Login.as_str();
    let token = if has_totp && usable.is_some() {
        store.user_token(user_id).await?
    } else {
        None
    };
    // A user the policy asks for a code who has no token signs in with the grid (as
    // `check_login_answer` does).
    let codes = match (&token, has_totp) {
        (Some(t), true) => candidate_codes(key, Some(t), decoys.token, now)?,
        _ => Vec::new(),
    };
    let grid_answer = || ExpectedAnswer {
        otp: grid.clone(),
        totp: None,
        from_grid: true,
    };
    Ok(match open.purpose.as_str() {
        p if p == Purpose::LoginTotp.as_str() && token.is_some() => codes
            .into_iter()
            .map(|c| ExpectedAnswer {
                otp: c,
                totp: None,
                from_grid: false,
            })
            .collect(),
        p if p == Purpose::LoginBoth.as_str() && token.is_some() => codes
            .into_iter()
            .map(|c| ExpectedAnswer {
                otp: grid.clone(),
                totp: Some(c),
                from_grid: true,
            })
            .collect(),
        _ => vec![grid_answer()],
    })
}
