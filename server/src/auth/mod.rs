//! The login decision (SPEC §5, §6) and what goes with it: start (issue a grid),
//! verify (consume it and check the OTP), lock-out, login protect, rate limits,
//! sessions, registering one's own pattern and the self-service reset. Every front
//! end (pages, API, and later OIDC, SAML, RADIUS) calls in here with an
//! [`Authenticator`] and the transport's facts about the client (`login::Client`);
//! nothing here knows about HTTP.

pub mod app_access;
mod in_flight;
pub mod lockout;
pub mod login;
mod login_checks;
pub mod login_protect;
pub mod rate_limit;
pub mod refusal_tally;
pub mod registration;
pub mod reset;
pub mod session;

use std::sync::Arc;

use crate::{
    instance::Instance,
    mail::Mailer,
    master_key::SealError,
    otp::{
        challenge::DECOY_USER,
        patterns::{generate_initial_pattern, seal_pattern},
        phrase::PhraseHasher,
        OtpError,
    },
    policy::{AuthSettings, PolicyCache, PolicyError},
    random::RandomError,
    store::{login_facts::LoginFacts, StoreError},
};

/// Why a login step could not be decided (not a refusal: those are answers).
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error(transparent)]
    Otp(#[from] OtpError),
    /// The user's effective policy could not be read.
    #[error("policy: {0}")]
    Policy(#[from] PolicyError),
    #[error(transparent)]
    Token(#[from] crate::otp::tokens::TokenError),
}

impl From<StoreError> for AuthError {
    fn from(err: StoreError) -> Self {
        AuthError::Otp(OtpError::Store(err))
    }
}

impl From<SealError> for AuthError {
    fn from(err: SealError) -> Self {
        AuthError::Otp(OtpError::Seal(err))
    }
}

impl From<RandomError> for AuthError {
    fn from(err: RandomError) -> Self {
        AuthError::Otp(OtpError::Random(err))
    }
}

/// What guards the door in this process's memory: rate limits, the tally of refused
/// attempts, the decoys that make unknown IDs cost what real ones cost, and the
/// bounded phrase hasher.
pub struct LoginGuards {
    /// Login starts per address and per ID, in this process (SPEC §6.2).
    pub rate_limits: rate_limit::RateLimits,
    /// Rate-limited attempts counted for the audit log's minute summaries.
    pub refusal_tally: refusal_tally::RefusalTally,
    /// A pattern sealed for the decoy user, opened when a login names no real user so
    /// that both cases cost the same.
    pub decoy_pattern: Vec<u8>,
    /// A TOTP seed sealed likewise, for logins that name no token.
    pub decoy_token: Vec<u8>,
    /// Checks additional phrases, a few at a time (SPEC §1.3).
    pub phrase_hasher: PhraseHasher,
    /// The challenges being verified now: one verify at a time each.
    pub verifying: in_flight::InFlight,
}

impl LoginGuards {
    /// Fresh guards for `auth` (decoys made from the OS random generator).
    pub fn new(instance: &Instance, auth: &AuthSettings) -> Result<LoginGuards, AuthError> {
        let decoy = generate_initial_pattern(auth.shape, &auth.rules)?;
        Ok(LoginGuards {
            rate_limits: rate_limit::RateLimits::new(auth.rate_per_source, auth.rate_per_user),
            refusal_tally: Default::default(),
            decoy_pattern: seal_pattern(&instance.master_key, DECOY_USER, &decoy)?,
            decoy_token: crate::otp::tokens::decoy_token(&instance.master_key)?,
            phrase_hasher: PhraseHasher::new()?,
            verifying: Default::default(),
        })
    }
}

/// Everything the login decision needs, built once per process and cheap to clone:
/// the installation (store, clock, keys), the `[auth]` settings every policy
/// overlays, the guards, and where mail goes.
#[derive(Clone)]
pub struct Authenticator {
    pub instance: Instance,
    /// The `[auth]` configuration: installation-wide values (grid shape, challenge
    /// lifetime, rate limits) and the base of every user's policy.
    pub auth: Arc<AuthSettings>,
    pub guards: Arc<LoginGuards>,
    /// The SMTP relay of `[mail]`, when one is configured (lock-out notices, reset links).
    pub mailer: Option<Arc<Mailer>>,
    /// The address users reach this installation at (links in mail).
    pub public_url: Arc<str>,
    /// The policies in memory, checked against the database's generation at every
    /// login's facts.
    pub policies: Arc<PolicyCache>,
}

impl Authenticator {
    /// The settings for `user_id`: the configuration with the user's effective policy
    /// (one query; unknown IDs get the default policy).
    pub async fn settings_for(&self, user_id: &str) -> Result<AuthSettings, PolicyError> {
        let facts = self.instance.store.login_facts(user_id).await?;
        Ok((*self.settings_of(&facts).await?).clone())
    }

    /// The settings of the ID `facts` were read for (its groups' policy, resolved in
    /// memory).
    pub async fn settings_of(&self, facts: &LoginFacts) -> Result<Arc<AuthSettings>, PolicyError> {
        self.policies
            .settings(
                &self.instance.store,
                &self.auth,
                &facts.groups,
                facts.policy_generation,
            )
            .await
    }
}

#[cfg(test)]
mod tests;
