//! Policies (SPEC §7): named sets of login settings attached to groups with a
//! priority. A user's effective settings are the `[auth]` configuration, overlaid with
//! the `default` policy, overlaid with the attached policy of highest priority among
//! the user's groups (ties: the lower policy name).
//!
//! Installation-wide, not per policy: the grid shape (patterns are cell indices of one
//! grid, and the login page draws the grid before anyone is known), the challenge
//! lifetime, canvas-only grids, rate limits (they guard the door per address and ID
//! before any user is looked up), shared-terminal profiles and first-login mail.
//! `user set-pattern` (an administrator's override) checks the built-in rules.

use std::collections::BTreeMap;

use crate::{
    accounts::audit,
    auth::{AuthSettings, LoginMethod},
    ca::{client_cert::KeyType, pkcs12::P12Encoding},
    otp::phrase::PhraseMode,
    store::{
        audit::AuditEvent,
        policies::{Attachment, Candidate, PolicyLayers},
        Store, StoreError,
    },
};

/// The policy that applies to every user without a group policy.
pub const DEFAULT_POLICY: &str = "default";

/// Why a policy change or lookup failed. Messages name the key.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("unknown policy key {0:?} (see `passgrid policy show default` for the keys)")]
    UnknownKey(String),
    #[error("{key}: {reason}")]
    BadValue { key: String, reason: String },
    #[error("{0:?} is not key=value")]
    NotAnAssignment(String),
    #[error("a policy name is 1 to 64 characters: letters, digits and . _ - only")]
    BadName,
    #[error("no policy named {0:?}")]
    NoSuchPolicy(String),
    #[error("no group named {0:?}")]
    NoSuchGroup(String),
    #[error("group {group:?} already has policy {policy:?}; detach it first")]
    GroupTaken { group: String, policy: String },
    #[error("policy {policy:?} is not attached to group {group:?}")]
    NotAttached { policy: String, group: String },
    #[error("the default policy applies to everyone: it cannot be attached to a group or deleted")]
    DefaultIsImplicit,
    #[error("priority {0} is out of range (-1000000 to 1000000)")]
    BadPriority(i64),
    /// A stored policy that no longer reads (changed by hand, or a newer version's key).
    #[error("stored policy {0:?} is unreadable")]
    Corrupt(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl PolicyError {
    /// Whether the caller's input was at fault (400) rather than the server (500).
    pub fn is_input(&self) -> bool {
        !matches!(self, PolicyError::Corrupt(_) | PolicyError::Store(_))
    }
}

/// Every key a policy may set. Names follow the `[auth]` TOML keys where one exists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    Method,
    PatternMin,
    PatternMax,
    PatternRefuseStraightLine,
    PatternRefuseOneStroke,
    PatternRequireEveryBlock,
    PatternMinStrengthBits,
    RequireCertificate,
    AutoIssueCertificate,
    CertificateKey,
    CertificateValidityDays,
    MaxCertificatesPerUser,
    MaxDownloadsPerCertificate,
    P12Encoding,
    LockoutThreshold,
    LockoutSecs,
    LockoutNotify,
    AllowedNetworks,
    AllowedHours,
    TimeZone,
    LoginProtect,
    Phrase,
    PhraseMinLen,
    PhraseMaxLen,
    SessionIdleSecs,
    SessionAbsoluteSecs,
}

impl Key {
    pub const ALL: [Key; 26] = [
        Key::Method,
        Key::PatternMin,
        Key::PatternMax,
        Key::PatternRefuseStraightLine,
        Key::PatternRefuseOneStroke,
        Key::PatternRequireEveryBlock,
        Key::PatternMinStrengthBits,
        Key::RequireCertificate,
        Key::AutoIssueCertificate,
        Key::CertificateKey,
        Key::CertificateValidityDays,
        Key::MaxCertificatesPerUser,
        Key::MaxDownloadsPerCertificate,
        Key::P12Encoding,
        Key::LockoutThreshold,
        Key::LockoutSecs,
        Key::LockoutNotify,
        Key::AllowedNetworks,
        Key::AllowedHours,
        Key::TimeZone,
        Key::LoginProtect,
        Key::Phrase,
        Key::PhraseMinLen,
        Key::PhraseMaxLen,
        Key::SessionIdleSecs,
        Key::SessionAbsoluteSecs,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Key::Method => "method",
            Key::PatternMin => "pattern_min",
            Key::PatternMax => "pattern_max",
            Key::PatternRefuseStraightLine => "pattern_refuse_straight_line",
            Key::PatternRefuseOneStroke => "pattern_refuse_one_stroke",
            Key::PatternRequireEveryBlock => "pattern_require_every_block",
            Key::PatternMinStrengthBits => "pattern_min_strength_bits",
            Key::RequireCertificate => "require_certificate",
            Key::AutoIssueCertificate => "auto_issue_certificate",
            Key::CertificateKey => "certificate_key",
            Key::CertificateValidityDays => "certificate_validity_days",
            Key::MaxCertificatesPerUser => "max_certificates_per_user",
            Key::MaxDownloadsPerCertificate => "max_downloads_per_certificate",
            Key::P12Encoding => "p12_encoding",
            Key::LockoutThreshold => "lockout_threshold",
            Key::LockoutSecs => "lockout_secs",
            Key::LockoutNotify => "lockout_notify",
            Key::AllowedNetworks => "allowed_networks",
            Key::AllowedHours => "allowed_hours",
            Key::TimeZone => "time_zone",
            Key::LoginProtect => "login_protect",
            Key::Phrase => "phrase",
            Key::PhraseMinLen => "phrase_min_len",
            Key::PhraseMaxLen => "phrase_max_len",
            Key::SessionIdleSecs => "session_idle_secs",
            Key::SessionAbsoluteSecs => "session_absolute_secs",
        }
    }

    pub fn from_name(name: &str) -> Result<Key, PolicyError> {
        Key::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| PolicyError::UnknownKey(name.to_string()))
    }

    fn bad(self, reason: impl Into<String>) -> PolicyError {
        PolicyError::BadValue {
            key: self.name().to_string(),
            reason: reason.into(),
        }
    }

    /// Checks `value` and returns it in the one form that is stored.
    pub fn normalise(self, value: &str) -> Result<String, PolicyError> {
        let mut probe = AuthSettings::default();
        self.apply(value.trim(), &mut probe)?;
        Ok(self.value_in(&probe))
    }

    /// Sets this key of `settings` from `value` (access rules are re-parsed by the
    /// caller once all keys are applied, see `PolicySettings::apply`).
    fn apply(self, value: &str, s: &mut AuthSettings) -> Result<(), PolicyError> {
        let v = value.trim();
        match self {
            Key::Method => {
                s.method = match v {
                    "grid" => LoginMethod::Grid,
                    "totp" => LoginMethod::Totp,
                    "both" => LoginMethod::Both,
                    _ => return Err(self.bad(format!("{v:?} is not grid, totp or both"))),
                }
            }
            Key::PatternMin => s.rules.min_len = self.number(v, 2, 64)?,
            Key::PatternMax => s.rules.max_len = self.number(v, 2, 64)?,
            Key::PatternRefuseStraightLine => s.rules.refuse_straight_line = self.flag(v)?,
            Key::PatternRefuseOneStroke => s.rules.refuse_one_stroke = self.flag(v)?,
            Key::PatternRequireEveryBlock => s.rules.require_every_block = self.flag(v)?,
            Key::PatternMinStrengthBits => s.rules.min_strength_bits = self.number(v, 0, 128)?,
            Key::RequireCertificate => s.require_certificate = self.flag(v)?,
            Key::AutoIssueCertificate => s.auto_issue_certificate = self.flag(v)?,
            Key::CertificateKey => {
                s.certificate_key = match v {
                    "p256" => KeyType::P256,
                    "rsa2048" => KeyType::Rsa2048,
                    "rsa3072" => KeyType::Rsa3072,
                    _ => return Err(self.bad(format!("{v:?} is not p256, rsa2048 or rsa3072"))),
                }
            }
            Key::CertificateValidityDays => {
                s.certificate_validity_days = self.number(v, 1, 3650)?
            }
            Key::MaxCertificatesPerUser => s.max_certificates_per_user = self.number(v, 1, 1000)?,
            Key::MaxDownloadsPerCertificate => {
                s.max_downloads_per_certificate = self.number(v, 1, 1000)?
            }
            Key::P12Encoding => {
                s.p12_encoding = match v {
                    "modern" => P12Encoding::Modern,
                    "legacy" => P12Encoding::Legacy,
                    _ => return Err(self.bad(format!("{v:?} is not modern or legacy"))),
                }
            }
            Key::LockoutThreshold => s.lockout.threshold = self.number(v, 0, 1000)?,
            Key::LockoutSecs => s.lockout.lock_secs = self.number(v, 0, 365 * 24 * 3600)?,
            Key::LockoutNotify => s.lockout.notify = self.flag(v)?,
            Key::AllowedNetworks => {
                let list = self.list(v, &[';', ','])?;
                for net in &list {
                    net.parse::<crate::net::Cidr>().map_err(|e| self.bad(e))?;
                }
                s.access_source.networks = list;
            }
            Key::AllowedHours => {
                // Rules hold commas ("Mon,Wed 08:00-12:00"): `;` separates them.
                let list = self.list(v, &[';'])?;
                crate::auth::access_rules::AccessRules::parse(&[], &list, "UTC")
                    .map_err(|e| self.bad(e.to_string()))?;
                s.access_source.hours = list;
            }
            Key::TimeZone => {
                crate::auth::access_rules::AccessRules::parse(&[], &[], v)
                    .map_err(|e| self.bad(e.to_string()))?;
                s.access_source.time_zone = v.to_string();
            }
            Key::LoginProtect => s.login_protect = self.flag(v)?,
            Key::Phrase => {
                s.phrase.mode = match v {
                    "off" => PhraseMode::Off,
                    "before" => PhraseMode::Before,
                    "after" => PhraseMode::After,
                    _ => return Err(self.bad(format!("{v:?} is not off, before or after"))),
                }
            }
            Key::PhraseMinLen => s.phrase.min_len = self.number(v, 1, 64)?,
            Key::PhraseMaxLen => s.phrase.max_len = self.number(v, 1, 64)?,
            Key::SessionIdleSecs => s.session_idle_secs = self.number(v, 1, 30 * 24 * 3600)?,
            Key::SessionAbsoluteSecs => {
                s.session_absolute_secs = self.number(v, 1, 30 * 24 * 3600)?
            }
        }
        Ok(())
    }

    /// This key's value in `s`, in the stored form.
    pub fn value_in(self, s: &AuthSettings) -> String {
        let flag = |b: bool| if b { "true" } else { "false" }.to_string();
        let list = |l: &[String]| {
            if l.is_empty() {
                "any".to_string()
            } else {
                l.join(";")
            }
        };
        match self {
            Key::Method => match s.method {
                LoginMethod::Grid => "grid",
                LoginMethod::Totp => "totp",
                LoginMethod::Both => "both",
            }
            .into(),
            Key::PatternMin => s.rules.min_len.to_string(),
            Key::PatternMax => s.rules.max_len.to_string(),
            Key::PatternRefuseStraightLine => flag(s.rules.refuse_straight_line),
            Key::PatternRefuseOneStroke => flag(s.rules.refuse_one_stroke),
            Key::PatternRequireEveryBlock => flag(s.rules.require_every_block),
            Key::PatternMinStrengthBits => s.rules.min_strength_bits.to_string(),
            Key::RequireCertificate => flag(s.require_certificate),
            Key::AutoIssueCertificate => flag(s.auto_issue_certificate),
            Key::CertificateKey => match s.certificate_key {
                KeyType::P256 => "p256",
                KeyType::Rsa2048 => "rsa2048",
                KeyType::Rsa3072 => "rsa3072",
            }
            .into(),
            Key::CertificateValidityDays => s.certificate_validity_days.to_string(),
            Key::MaxCertificatesPerUser => s.max_certificates_per_user.to_string(),
            Key::MaxDownloadsPerCertificate => s.max_downloads_per_certificate.to_string(),
            Key::P12Encoding => s.p12_encoding.name().into(),
            Key::LockoutThreshold => s.lockout.threshold.to_string(),
            Key::LockoutSecs => s.lockout.lock_secs.to_string(),
            Key::LockoutNotify => flag(s.lockout.notify),
            Key::AllowedNetworks => list(&s.access_source.networks),
            Key::AllowedHours => list(&s.access_source.hours),
            Key::TimeZone => s.access_source.time_zone.clone(),
            Key::LoginProtect => flag(s.login_protect),
            Key::Phrase => match s.phrase.mode {
                PhraseMode::Off => "off",
                PhraseMode::Before => "before",
                PhraseMode::After => "after",
            }
            .into(),
            Key::PhraseMinLen => s.phrase.min_len.to_string(),
            Key::PhraseMaxLen => s.phrase.max_len.to_string(),
            Key::SessionIdleSecs => s.session_idle_secs.to_string(),
            Key::SessionAbsoluteSecs => s.session_absolute_secs.to_string(),
        }
    }

    fn flag(self, v: &str) -> Result<bool, PolicyError> {
        match v {
            "true" | "on" | "yes" => Ok(true),
            "false" | "off" | "no" => Ok(false),
            _ => Err(self.bad(format!("{v:?} is not true or false"))),
        }
    }

    fn number<T>(self, v: &str, min: T, max: T) -> Result<T, PolicyError>
    where
        T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy,
    {
        match v.parse::<T>() {
            Ok(n) if n >= min && n <= max => Ok(n),
            _ => Err(self.bad(format!("{v:?} is not a number from {min} to {max}"))),
        }
    }

    /// A list separated by `seps`; `any` is the empty list (no restriction).
    fn list(self, v: &str, seps: &[char]) -> Result<Vec<String>, PolicyError> {
        if v == "any" {
            return Ok(Vec::new());
        }
        let items: Vec<String> = v
            .split(seps)
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        if items.is_empty() || items.len() > 256 {
            return Err(self.bad("give 1 to 256 entries, or any"));
        }
        Ok(items)
    }
}

/// The keys one policy sets, validated, in stored form.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PolicySettings(BTreeMap<Key, String>);

impl PolicySettings {
    /// Reads a stored policy (`name` for the error).
    pub fn from_json(name: &str, json: &str) -> Result<PolicySettings, PolicyError> {
        let corrupt = || PolicyError::Corrupt(name.to_string());
        let map: BTreeMap<String, String> = serde_json::from_str(json).map_err(|_| corrupt())?;
        let mut out = BTreeMap::new();
        for (k, v) in map {
            let key = Key::from_name(&k).map_err(|_| corrupt())?;
            out.insert(key, key.normalise(&v).map_err(|_| corrupt())?);
        }
        Ok(PolicySettings(out))
    }

    pub fn to_json(&self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = self
            .0
            .iter()
            .map(|(k, v)| (k.name().to_string(), serde_json::Value::String(v.clone())))
            .collect();
        serde_json::Value::Object(map).to_string()
    }

    pub fn get(&self, key: Key) -> Option<&str> {
        self.0.get(&key).map(String::as_str)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Key -> value, for JSON answers.
    pub fn to_map(&self) -> BTreeMap<&'static str, String> {
        self.0.iter().map(|(k, v)| (k.name(), v.clone())).collect()
    }

    /// These settings with `changes` made: a value sets the key, `None` or an empty
    /// value unsets it. Every change is checked; the first bad one is the error.
    pub fn with_changes(&self, changes: &[(String, Option<String>)]) -> Result<Self, PolicyError> {
        let mut out = self.0.clone();
        for (name, value) in changes {
            let key = Key::from_name(name.trim())?;
            match value.as_deref().map(str::trim) {
                None | Some("") => {
                    out.remove(&key);
                }
                Some(v) => {
                    out.insert(key, key.normalise(v)?);
                }
            }
        }
        Ok(PolicySettings(out))
    }

    /// Overlays these settings on `settings`.
    pub fn apply(&self, settings: &mut AuthSettings) -> Result<(), PolicyError> {
        for (key, value) in &self.0 {
            key.apply(value, settings)?;
        }
        if [Key::AllowedNetworks, Key::AllowedHours, Key::TimeZone]
            .iter()
            .any(|k| self.0.contains_key(k))
        {
            settings.access = settings
                .access_source
                .parse()
                .map_err(|e| Key::AllowedNetworks.bad(e.to_string()))?;
        }
        Ok(())
    }
}

/// `key=value` arguments as changes (`key=` unsets).
pub fn parse_assignments(args: &[String]) -> Result<Vec<(String, Option<String>)>, PolicyError> {
    args.iter()
        .map(|arg| {
            let (k, v) = arg
                .split_once('=')
                .ok_or_else(|| PolicyError::NotAnAssignment(arg.clone()))?;
            Ok((k.trim().to_string(), Some(v.to_string())))
        })
        .collect()
}

/// The configuration overlaid with `default`, then with `chosen`; checks that the
/// result holds together (e.g. a minimum not above its maximum).
pub fn resolve(
    base: &AuthSettings,
    default: &PolicySettings,
    chosen: Option<&PolicySettings>,
) -> Result<AuthSettings, PolicyError> {
    let mut s = base.clone();
    default.apply(&mut s)?;
    if let Some(chosen) = chosen {
        chosen.apply(&mut s)?;
    }
    check_consistent(&s)?;
    Ok(s)
}

fn check_consistent(s: &AuthSettings) -> Result<(), PolicyError> {
    if s.rules.min_len > s.rules.max_len {
        return Err(Key::PatternMin.bad(format!(
            "{} is more than pattern_max ({})",
            s.rules.min_len, s.rules.max_len
        )));
    }
    if s.phrase.min_len > s.phrase.max_len {
        return Err(Key::PhraseMinLen.bad(format!(
            "{} is more than phrase_max_len ({})",
            s.phrase.min_len, s.phrase.max_len
        )));
    }
    if s.session_idle_secs > s.session_absolute_secs {
        return Err(Key::SessionIdleSecs.bad(format!(
            "{} is more than session_absolute_secs ({})",
            s.session_idle_secs, s.session_absolute_secs
        )));
    }
    Ok(())
}

/// The group policy that wins: highest priority, then the lower policy name, then the
/// lower group name (so the answer never depends on row order).
pub fn choose(candidates: &[Candidate]) -> Option<&Candidate> {
    candidates.iter().min_by(|a, b| {
        let (a, b) = (&a.attachment, &b.attachment);
        b.priority
            .cmp(&a.priority)
            .then_with(|| a.policy.cmp(&b.policy))
            .then_with(|| a.group.cmp(&b.group))
    })
}

/// A user's effective policy: its name, why it applies, and the settings it gives.
#[derive(Clone, Debug)]
pub struct EffectivePolicy {
    pub name: String,
    /// The group (and priority) it comes through; `None` for the default.
    pub via: Option<Attachment>,
    pub settings: AuthSettings,
}

impl EffectivePolicy {
    /// Why this policy applies, for people.
    pub fn reason(&self) -> String {
        match &self.via {
            Some(a) => format!("from group {:?}, priority {}", a.group, a.priority),
            None => "default (no group policy)".to_string(),
        }
    }
}

fn from_layers(base: &AuthSettings, layers: &PolicyLayers) -> Result<EffectivePolicy, PolicyError> {
    let default = match &layers.default {
        Some(json) => PolicySettings::from_json(DEFAULT_POLICY, json)?,
        None => PolicySettings::default(),
    };
    let chosen = choose(&layers.candidates);
    let chosen_settings = chosen
        .map(|c| PolicySettings::from_json(&c.attachment.policy, &c.settings))
        .transpose()?;
    Ok(EffectivePolicy {
        name: chosen.map_or_else(
            || DEFAULT_POLICY.to_string(),
            |c| c.attachment.policy.clone(),
        ),
        via: chosen.map(|c| c.attachment.clone()),
        settings: resolve(base, &default, chosen_settings.as_ref())?,
    })
}

/// The effective policy of `user_id` over the configuration `base`, in one query.
/// Unknown IDs get the default policy by the same path as known users without one.
pub async fn effective_policy_for(
    store: &Store,
    base: &AuthSettings,
    user_id: &str,
) -> Result<EffectivePolicy, PolicyError> {
    from_layers(base, &store.policy_layers_for_user(user_id).await?)
}

/// The effective policy of the user a login challenge was issued for, in one query.
pub async fn effective_policy_for_challenge(
    store: &Store,
    base: &AuthSettings,
    challenge_id: &str,
) -> Result<EffectivePolicy, PolicyError> {
    from_layers(
        base,
        &store.policy_layers_for_challenge(challenge_id).await?,
    )
}

/// Every policy and attachment, read once, to resolve many users at a time (an
/// import gives its new users the initial patterns of their groups' policies).
pub struct PolicyBook {
    default: PolicySettings,
    policies: std::collections::HashMap<String, PolicySettings>,
    attachments: Vec<Attachment>,
}

impl PolicyBook {
    pub async fn load(store: &Store) -> Result<PolicyBook, PolicyError> {
        let mut policies = std::collections::HashMap::new();
        for p in store.policies().await? {
            let settings = PolicySettings::from_json(&p.name, &p.settings)?;
            policies.insert(p.name, settings);
        }
        Ok(PolicyBook {
            default: policies.remove(DEFAULT_POLICY).unwrap_or_default(),
            policies,
            attachments: store.policy_attachments().await?,
        })
    }

    /// The settings of a member of `groups`, by the same rules as
    /// `effective_policy_for`.
    pub fn settings_for_groups(
        &self,
        base: &AuthSettings,
        groups: &[String],
    ) -> Result<AuthSettings, PolicyError> {
        let candidates: Vec<Candidate> = self
            .attachments
            .iter()
            .filter(|a| groups.contains(&a.group))
            .map(|a| Candidate {
                attachment: a.clone(),
                settings: String::new(),
            })
            .collect();
        let chosen = choose(&candidates).and_then(|c| self.policies.get(&c.attachment.policy));
        resolve(base, &self.default, chosen)
    }
}

/// Who changes policies, for the audit log.
pub struct Actor<'a> {
    pub id: &'a str,
    pub source: &'a str,
}

async fn audited(
    store: &Store,
    actor: &Actor<'_>,
    action: &str,
    target: &str,
    reason: &str,
    now: i64,
) {
    audit(
        store,
        AuditEvent {
            actor: actor.id,
            source: actor.source,
            action,
            target,
            outcome: "success",
            reason,
        },
        now,
    )
    .await;
}

/// A policy name: plain, since it appears in logs, URLs and the command line.
pub fn check_name(name: &str) -> Result<(), PolicyError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    ok.then_some(()).ok_or(PolicyError::BadName)
}

/// The stored settings of `name` (empty when it has no row), and whether it has one.
pub async fn stored_settings(
    store: &Store,
    name: &str,
) -> Result<(PolicySettings, bool), PolicyError> {
    match store.policy(name).await? {
        Some(p) => Ok((PolicySettings::from_json(name, &p.settings)?, true)),
        None => Ok((PolicySettings::default(), false)),
    }
}

/// Changes (or creates) policy `name`. Everything is checked first — each value, and
/// that the policies it feeds still hold together — and nothing is stored on error.
pub async fn set_policy(
    store: &Store,
    base: &AuthSettings,
    name: &str,
    changes: &[(String, Option<String>)],
    actor: &Actor<'_>,
    now: i64,
) -> Result<PolicySettings, PolicyError> {
    check_name(name)?;
    let (current, _) = stored_settings(store, name).await?;
    let updated = current.with_changes(changes)?;
    if name == DEFAULT_POLICY {
        resolve(base, &updated, None)?;
        // A changed default must not break a group policy that inherits from it.
        for p in store.policies().await? {
            if p.name != DEFAULT_POLICY {
                let settings = PolicySettings::from_json(&p.name, &p.settings)?;
                resolve(base, &updated, Some(&settings))?;
            }
        }
    } else {
        let (default, _) = stored_settings(store, DEFAULT_POLICY).await?;
        resolve(base, &default, Some(&updated))?;
    }
    store.save_policy(name, &updated.to_json(), now).await?;
    let reason = changes
        .iter()
        .map(|(k, v)| format!("{}={}", k.trim(), v.as_deref().unwrap_or("").trim()))
        .collect::<Vec<_>>()
        .join(" ");
    audited(store, actor, "policy.set", name, &reason, now).await;
    Ok(updated)
}

/// Deletes a policy and its attachments; false when there was none.
pub async fn delete_policy(
    store: &Store,
    name: &str,
    actor: &Actor<'_>,
    now: i64,
) -> Result<bool, PolicyError> {
    if name == DEFAULT_POLICY {
        return Err(PolicyError::DefaultIsImplicit);
    }
    let deleted = store.delete_policy(name).await?;
    if deleted {
        audited(store, actor, "policy.delete", name, "", now).await;
    }
    Ok(deleted)
}

const MAX_PRIORITY: i64 = 1_000_000;

/// Attaches `name` to `group` with `priority`, or changes that attachment's priority.
pub async fn attach_policy(
    store: &Store,
    name: &str,
    group: &str,
    priority: i64,
    actor: &Actor<'_>,
    now: i64,
) -> Result<(), PolicyError> {
    if name == DEFAULT_POLICY {
        return Err(PolicyError::DefaultIsImplicit);
    }
    if !(-MAX_PRIORITY..=MAX_PRIORITY).contains(&priority) {
        return Err(PolicyError::BadPriority(priority));
    }
    if store.policy(name).await?.is_none() {
        return Err(PolicyError::NoSuchPolicy(name.to_string()));
    }
    if !store.missing_groups(&[group.to_string()]).await?.is_empty() {
        return Err(PolicyError::NoSuchGroup(group.to_string()));
    }
    match store.attach_policy(name, group, priority).await {
        Ok(()) => {}
        Err(StoreError::Conflict) => {
            let policy = store
                .policy_attachments()
                .await?
                .into_iter()
                .find(|a| a.group == group)
                .map(|a| a.policy)
                .unwrap_or_default();
            return Err(PolicyError::GroupTaken {
                group: group.to_string(),
                policy,
            });
        }
        // The policy or group went away in between.
        Err(e) => return Err(e.into()),
    }
    audited(
        store,
        actor,
        "policy.attach",
        name,
        &format!("group {group}, priority {priority}"),
        now,
    )
    .await;
    Ok(())
}

/// Detaches `name` from `group`.
pub async fn detach_policy(
    store: &Store,
    name: &str,
    group: &str,
    actor: &Actor<'_>,
    now: i64,
) -> Result<(), PolicyError> {
    if !store.detach_policy(name, group).await? {
        return Err(PolicyError::NotAttached {
            policy: name.to_string(),
            group: group.to_string(),
        });
    }
    audited(
        store,
        actor,
        "policy.detach",
        name,
        &format!("group {group}"),
        now,
    )
    .await;
    Ok(())
}

/// One policy in a list.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PolicySummary {
    pub name: String,
    pub groups: Vec<Attachment>,
    pub settings: usize,
}

/// Every policy, `default` always among them (it may have no row).
pub async fn list_policies(store: &Store) -> Result<Vec<PolicySummary>, PolicyError> {
    let attachments = store.policy_attachments().await?;
    let mut out: Vec<PolicySummary> = Vec::new();
    let stored = store.policies().await?;
    if !stored.iter().any(|p| p.name == DEFAULT_POLICY) {
        out.push(PolicySummary {
            name: DEFAULT_POLICY.into(),
            groups: Vec::new(),
            settings: 0,
        });
    }
    for p in stored {
        let settings = PolicySettings::from_json(&p.name, &p.settings)?;
        out.push(PolicySummary {
            groups: attachments
                .iter()
                .filter(|a| a.policy == p.name)
                .cloned()
                .collect(),
            name: p.name,
            settings: settings.len(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// Where an effective value comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// Set in the policy shown.
    Here,
    /// Inherited from the default policy.
    Default,
    /// Inherited from the `[auth]` configuration (or the built-in default).
    Config,
}

impl Origin {
    pub fn describe(self) -> &'static str {
        match self {
            Origin::Here => "set here",
            Origin::Default => "inherited from default",
            Origin::Config => "inherited from config",
        }
    }
}

/// One key of a policy as it takes effect.
#[derive(Clone, Debug, serde::Serialize)]
pub struct KeyView {
    pub key: &'static str,
    pub value: String,
    pub origin: Origin,
}

/// A policy as it takes effect: every key with its value and origin.
#[derive(Clone, Debug, serde::Serialize)]
pub struct PolicyView {
    pub name: String,
    pub groups: Vec<Attachment>,
    pub keys: Vec<KeyView>,
}

/// Shows `name` (`NoSuchPolicy` unless it exists; `default` always does).
pub async fn show_policy(
    store: &Store,
    base: &AuthSettings,
    name: &str,
) -> Result<PolicyView, PolicyError> {
    let (own, exists) = stored_settings(store, name).await?;
    if !exists && name != DEFAULT_POLICY {
        return Err(PolicyError::NoSuchPolicy(name.to_string()));
    }
    let (default, _) = stored_settings(store, DEFAULT_POLICY).await?;
    let settings = if name == DEFAULT_POLICY {
        resolve(base, &own, None)?
    } else {
        resolve(base, &default, Some(&own))?
    };
    let keys = Key::ALL
        .into_iter()
        .map(|key| KeyView {
            key: key.name(),
            value: key.value_in(&settings),
            origin: if own.get(key).is_some() {
                Origin::Here
            } else if name != DEFAULT_POLICY && default.get(key).is_some() {
                Origin::Default
            } else {
                Origin::Config
            },
        })
        .collect();
    let groups = store
        .policy_attachments()
        .await?
        .into_iter()
        .filter(|a| a.policy == name)
        .collect();
    Ok(PolicyView {
        name: name.to_string(),
        groups,
        keys,
    })
}

/// The effective settings as key -> value, for JSON answers.
pub fn settings_map(settings: &AuthSettings) -> BTreeMap<&'static str, String> {
    Key::ALL
        .into_iter()
        .map(|k| (k.name(), k.value_in(settings)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn changes(pairs: &[&str]) -> Vec<(String, Option<String>)> {
        let args: Vec<String> = pairs.iter().map(|s| s.to_string()).collect();
        parse_assignments(&args).expect("assignments")
    }

    fn set(pairs: &[&str]) -> PolicySettings {
        PolicySettings::default()
            .with_changes(&changes(pairs))
            .expect("valid")
    }

    fn err_key(pairs: &[&str]) -> String {
        match PolicySettings::default().with_changes(&changes(pairs)) {
            Err(PolicyError::BadValue { key, .. }) => key,
            Err(PolicyError::UnknownKey(key)) => format!("unknown:{key}"),
            other => panic!("{pairs:?}: {other:?}"),
        }
    }

    #[test]
    fn every_key_takes_a_good_value_and_names_itself_on_a_bad_one() {
        let cases: &[(&str, &str, &str)] = &[
            ("method", "totp", "sms"),
            ("pattern_min", "8", "1"),
            ("pattern_max", "20", "65"),
            ("pattern_refuse_straight_line", "false", "maybe"),
            ("pattern_refuse_one_stroke", "on", "2"),
            ("pattern_require_every_block", "yes", ""),
            ("pattern_min_strength_bits", "40", "-1"),
            ("require_certificate", "true", "sure"),
            ("auto_issue_certificate", "true", "1"),
            ("certificate_key", "rsa3072", "rsa1024"),
            ("certificate_validity_days", "90", "0"),
            ("max_certificates_per_user", "2", "1001"),
            ("max_downloads_per_certificate", "3", "x"),
            ("p12_encoding", "legacy", "old"),
            ("lockout_threshold", "2", "abc"),
            ("lockout_secs", "0", "-5"),
            ("lockout_notify", "true", "t"),
            (
                "allowed_networks",
                "10.0.0.0/8, 192.168.1.0/24",
                "10.0.0.0/99",
            ),
            (
                "allowed_hours",
                "Mon-Fri 08:00-19:00;Sat 09:00-12:00",
                "Someday 8-9",
            ),
            ("time_zone", "Asia/Tokyo", "Mars/Olympus"),
            ("login_protect", "true", "no way"),
            ("phrase", "after", "middle"),
            ("phrase_min_len", "6", "0"),
            ("phrase_max_len", "40", "65"),
            ("session_idle_secs", "600", "0"),
            ("session_absolute_secs", "3600", "99999999"),
        ];
        assert_eq!(cases.len(), Key::ALL.len(), "every key has a case");
        for (key, good, bad) in cases {
            let s = set(&[&format!("{key}={good}")]);
            assert!(s.get(Key::from_name(key).unwrap()).is_some(), "{key}");
            if bad.is_empty() {
                continue; // empty unsets; covered below
            }
            assert_eq!(err_key(&[&format!("{key}={bad}")]), *key, "{key}={bad}");
        }
        assert_eq!(err_key(&["lockout_treshold=2"]), "unknown:lockout_treshold");
        assert!(matches!(
            parse_assignments(&["require_certificate".into()]),
            Err(PolicyError::NotAnAssignment(_))
        ));
    }

    #[test]
    fn values_are_stored_in_one_form_and_empty_unsets() {
        let s = set(&[
            "require_certificate=on",
            "allowed_networks=10.0.0.0/8 , 10.1.0.0/16",
        ]);
        assert_eq!(s.get(Key::RequireCertificate), Some("true"));
        assert_eq!(s.get(Key::AllowedNetworks), Some("10.0.0.0/8;10.1.0.0/16"));
        let back = PolicySettings::from_json("p", &s.to_json()).expect("round trip");
        assert_eq!(back, s);
        let unset = s
            .with_changes(&changes(&["require_certificate="]))
            .expect("unset");
        assert_eq!(unset.get(Key::RequireCertificate), None);
        assert_eq!(unset.len(), 1);
        // One bad pair leaves the settings as they were (the caller stores nothing).
        assert!(s
            .with_changes(&changes(&["lockout_threshold=3", "lockout_secs=abc"]))
            .is_err());
        assert!(PolicySettings::from_json("p", r#"{"nonsense":"1"}"#).is_err());
    }

    #[test]
    fn overlay_order_is_config_then_default_then_group_policy() {
        let mut base = AuthSettings::default();
        base.lockout.threshold = 7;
        base.session_idle_secs = 100;
        base.certificate_validity_days = 30;
        let default = set(&["lockout_threshold=4", "session_idle_secs=200"]);
        let group = set(&["lockout_threshold=2", "require_certificate=true"]);
        let only_default = resolve(&base, &default, None).expect("resolve");
        assert_eq!(only_default.lockout.threshold, 4);
        assert_eq!(only_default.session_idle_secs, 200);
        assert!(!only_default.require_certificate);
        let both = resolve(&base, &default, Some(&group)).expect("resolve");
        assert_eq!(both.lockout.threshold, 2);
        assert_eq!(both.session_idle_secs, 200);
        assert_eq!(both.certificate_validity_days, 30);
        assert!(both.require_certificate);
        // A minimum above the inherited maximum is refused, naming the key.
        let long = set(&["pattern_min=20"]);
        match resolve(&base, &default, Some(&long)) {
            Err(PolicyError::BadValue { key, .. }) => assert_eq!(key, "pattern_min"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn access_rules_follow_the_policy() {
        let base = AuthSettings::default();
        assert!(base.access.is_open());
        let group = set(&["allowed_networks=10.0.0.0/8"]);
        let s = resolve(&base, &PolicySettings::default(), Some(&group)).expect("resolve");
        assert!(s.access.check("10.1.2.3".parse().unwrap(), 0).is_ok());
        assert!(s.access.check("192.0.2.1".parse().unwrap(), 0).is_err());
        // `any` lifts a restriction the default made.
        let default = set(&["allowed_networks=10.0.0.0/8"]);
        let open = set(&["allowed_networks=any"]);
        let s = resolve(&base, &default, Some(&open)).expect("resolve");
        assert!(s.access.is_open());
    }

    fn candidate(policy: &str, group: &str, priority: i64) -> Candidate {
        Candidate {
            attachment: Attachment {
                policy: policy.into(),
                group: group.into(),
                priority,
            },
            settings: "{}".into(),
        }
    }

    #[test]
    fn highest_priority_wins_and_ties_go_to_the_lower_name() {
        assert!(choose(&[]).is_none());
        let c = [
            candidate("b", "g1", 10),
            candidate("a", "g2", 20),
            candidate("c", "g3", 5),
        ];
        assert_eq!(choose(&c).unwrap().attachment.policy, "a");
        let tie = [candidate("zeta", "g1", 10), candidate("alpha", "g2", 10)];
        assert_eq!(choose(&tie).unwrap().attachment.policy, "alpha");
        let reversed = [candidate("alpha", "g2", 10), candidate("zeta", "g1", 10)];
        assert_eq!(choose(&reversed).unwrap().attachment.policy, "alpha");
    }

    #[test]
    fn the_reason_names_the_group_and_priority() {
        let layers = PolicyLayers {
            default: None,
            candidates: vec![candidate("sales-policy", "sales", 10)],
        };
        let e = from_layers(&AuthSettings::default(), &layers).expect("effective");
        assert_eq!(e.name, "sales-policy");
        assert_eq!(e.reason(), "from group \"sales\", priority 10");
        let e = from_layers(&AuthSettings::default(), &PolicyLayers::default()).expect("default");
        assert_eq!(
            (e.name.as_str(), e.reason().as_str()),
            ("default", "default (no group policy)")
        );
    }

    #[test]
    fn policy_names_are_plain() {
        assert!(check_name("sales-2026.v1").is_ok());
        for bad in ["", "a b", "x/y", &"n".repeat(65)] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }
}
