//! The keys a policy may set: their names, validation and stored form, and how each
//! overlays the login settings.

use std::collections::BTreeMap;

use super::{settings::RadiusMode, AuthSettings, LoginMethod, PolicyError};
use crate::{
    ca::{client_cert::KeyType, pkcs12::P12Encoding},
    otp::phrase::PhraseMode,
};

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
    RadiusMode,
}

impl Key {
    pub const ALL: [Key; 27] = [
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
        Key::RadiusMode,
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
            Key::RadiusMode => "radius_mode",
        }
    }

    pub fn from_name(name: &str) -> Result<Key, PolicyError> {
        Key::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| PolicyError::UnknownKey(name.to_string()))
    }

    pub(super) fn bad(self, reason: impl Into<String>) -> PolicyError {
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
                crate::policy::access_rules::AccessRules::parse(&[], &list, "UTC")
                    .map_err(|e| self.bad(e.to_string()))?;
                s.access_source.hours = list;
            }
            Key::TimeZone => {
                crate::policy::access_rules::AccessRules::parse(&[], &[], v)
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
            Key::RadiusMode => {
                s.radius_mode = match v {
                    "web-grid" => RadiusMode::WebGrid,
                    "challenge" => RadiusMode::Challenge,
                    "off" => RadiusMode::Off,
                    _ => return Err(self.bad(format!("{v:?} is not web-grid, challenge or off"))),
                }
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
            Key::RadiusMode => s.radius_mode.as_str().into(),
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

/// The effective settings as key -> value, for JSON answers.
pub fn settings_map(settings: &AuthSettings) -> BTreeMap<&'static str, String> {
    Key::ALL
        .into_iter()
        .map(|k| (k.name(), k.value_in(settings)))
        .collect()
}
