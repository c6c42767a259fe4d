//! The login settings a policy decides (SPEC §7): the `[auth]` configuration, and per
//! user the same overlaid with the user's effective policy. Plain values: every front
//! end and service reads them, none changes them.

use app::{grid::GridShape, pattern::PatternRules};

use super::access_rules::{AccessRules, AccessSource};
use crate::{
    ca::{
        client_cert::{ClientProfile, KeyType, DEFAULT_VALIDITY_DAYS},
        pkcs12::P12Encoding,
    },
    otp::{patterns::PatternPolicy, phrase::PhraseRule},
    store::users::User,
};

/// Login settings: the `[auth]` configuration, and per user the same overlaid with
/// the user's effective policy (`crate::policy::effective_policy_for`).
#[derive(Clone, Debug)]
pub struct AuthSettings {
    pub challenge_ttl_secs: i64,
    pub session_idle_secs: i64,
    pub session_absolute_secs: i64,
    pub shape: GridShape,
    pub rules: PatternRules,
    /// Paint login grids into a canvas only, never as page text (SPEC §1.8).
    pub grid_canvas_only: bool,
    /// Only devices with a valid certificate of the user get a grid (SPEC §2.6).
    pub require_certificate: bool,
    /// A user without a valid certificate gets one at first login (SPEC §5.2).
    pub auto_issue_certificate: bool,
    /// Valid (unrevoked, unexpired) certificates a user may hold at once (SPEC §2.4).
    pub max_certificates_per_user: u32,
    /// Downloads of one issued certificate; its key is destroyed after the last.
    pub max_downloads_per_certificate: u32,
    /// The key type of certificates delivered as PKCS#12 (SPEC §2.2).
    pub certificate_key: KeyType,
    /// Validity of a new client certificate, in days (SPEC §2.2).
    pub certificate_validity_days: i64,
    /// The PKCS#12 encoding a download gets unless it asks for the other (SPEC §2.3).
    pub p12_encoding: P12Encoding,
    /// Shared-terminal profiles and the users allowed on each (SPEC §2.5).
    pub shared_profiles: std::collections::BTreeMap<String, Vec<String>>,
    /// Lock-out after consecutive failures (SPEC §6.1).
    pub lockout: LockoutRule,
    /// Login starts per source address and per user ID (SPEC §6.2).
    pub rate_per_source: Rate,
    pub rate_per_user: Rate,
    /// Allowed networks and hours (SPEC §6.3).
    pub access: AccessRules,
    /// The text `access` was parsed from, so a policy can override one part of it.
    pub access_source: AccessSource,
    /// Logins need a window opened from a signed-in device (SPEC §1.10).
    pub login_protect: bool,
    /// Grid, TOTP or both (SPEC §4.1).
    pub method: LoginMethod,
    /// The additional phrase (SPEC §1.3).
    pub phrase: PhraseRule,
    /// How RADIUS sign-ins of these users go (SPEC §10.4).
    pub radius_mode: RadiusMode,
    /// Mail users made by sync their first-login notice (SPEC §8.4).
    pub first_login_mail: bool,
}

/// What a login asks for (policy).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LoginMethod {
    #[default]
    Grid,
    /// A TOTP code instead of the grid; users without a token yet sign in with the
    /// grid and are asked to enrol one.
    Totp,
    /// The grid and a TOTP code.
    Both,
}

/// How a RADIUS sign-in goes (policy `radius_mode`, SPEC §10.4). The `method` policy
/// says what is typed (grid, TOTP code, or both) in either way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RadiusMode {
    /// PassLogic's way: the portal's "VPN sign-in" page shows a grid; the VPN client
    /// sends the one-time password by PAP (or EAP-MSCHAPv2).
    #[default]
    WebGrid,
    /// Access-Challenge: the grid comes back as text in Reply-Message (RFC 2865 §4.4).
    Challenge,
    /// No RADIUS sign-in for these users.
    Off,
}

impl RadiusMode {
    /// The policy value.
    pub fn as_str(self) -> &'static str {
        match self {
            RadiusMode::WebGrid => "web-grid",
            RadiusMode::Challenge => "challenge",
            RadiusMode::Off => "off",
        }
    }
}

impl AuthSettings {
    /// Whether `user` may sign in with a certificate of shared-terminal profile `profile`.
    pub fn shared_profile_allows(&self, profile: &str, user: &str) -> bool {
        self.shared_profiles
            .get(profile)
            .is_some_and(|users| users.iter().any(|u| u == user))
    }
}

impl AuthSettings {
    /// The pattern rules on the installation's grid.
    pub fn pattern_policy(&self) -> PatternPolicy<'_> {
        PatternPolicy {
            shape: self.shape,
            rules: &self.rules,
        }
    }

    /// What a first sign-in asks about a client certificate under these settings:
    /// `auto_issue` (one is issued for the device at the first sign-in, SPEC §5.2),
    /// `required` (none is issued there: one must be installed first) or `none`.
    pub fn first_sign_in_certificate(&self) -> &'static str {
        match (self.require_certificate, self.auto_issue_certificate) {
            (_, true) => "auto_issue",
            (true, false) => "required",
            (false, false) => "none",
        }
    }

    /// The profile of `user`'s own certificate under these settings.
    pub fn client_profile<'a>(&self, user: &'a User) -> ClientProfile<'a> {
        ClientProfile {
            user_id: &user.id,
            shared: false,
            email: user.email.as_deref(),
            validity_days: self.certificate_validity_days,
            max_valid: self.max_certificates_per_user,
            key: self.certificate_key,
        }
    }
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            challenge_ttl_secs: 300,
            session_idle_secs: 30 * 60,
            session_absolute_secs: 12 * 3600,
            shape: GridShape::default(),
            rules: PatternRules::default(),
            grid_canvas_only: false,
            require_certificate: false,
            auto_issue_certificate: false,
            max_certificates_per_user: 3,
            max_downloads_per_certificate: 1,
            certificate_key: Default::default(),
            certificate_validity_days: DEFAULT_VALIDITY_DAYS,
            p12_encoding: Default::default(),
            shared_profiles: Default::default(),
            lockout: Default::default(),
            // Generous for people (a whole office behind one NAT address signs in at
            // 9:00), tight for a script guessing.
            rate_per_source: Rate {
                burst: 100,
                per_minute: 300,
            },
            rate_per_user: Rate {
                burst: 10,
                per_minute: 20,
            },
            access: Default::default(),
            access_source: Default::default(),
            login_protect: false,
            method: LoginMethod::Grid,
            phrase: Default::default(),
            radius_mode: RadiusMode::WebGrid,
            first_login_mail: false,
        }
    }
}

/// Lock-out settings (policy).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LockoutRule {
    /// Consecutive failures that lock; 0 turns lock-out off.
    pub threshold: u32,
    /// How long a lock lasts; 0: until an operator unlocks.
    pub lock_secs: i64,
    /// Mail the user and the administrators when a user is locked.
    pub notify: bool,
}

impl Default for LockoutRule {
    fn default() -> Self {
        LockoutRule {
            threshold: 5,
            lock_secs: 15 * 60,
            notify: false,
        }
    }
}

/// A limit: `burst` attempts at once, refilled at `per_minute`; zero in either turns
/// the limit off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub burst: u32,
    pub per_minute: u32,
}
