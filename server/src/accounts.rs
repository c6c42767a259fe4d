//! Creating users and administrators: input rules, storage and the audit entry, shared
//! by the command line and the web set-up page.

use crate::{
    audit::{record, Action, AuditEvent, Outcome},
    store::{patterns::NewInitialPattern, users::NewUser, Store, StoreError},
};

/// Administrator roles (SPEC §9.1).
pub const ADMIN_ROLES: &[&str] = &["admin", "user-admin", "operator", "auditor"];

/// An administrator role (SPEC §9.1), from the most powerful down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    Admin,
    UserAdmin,
    Operator,
    Auditor,
}

impl Role {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::UserAdmin => "user-admin",
            Role::Operator => "operator",
            Role::Auditor => "auditor",
        }
    }

    /// How far up the order (SPEC §9.1): an account acts only on accounts below it.
    fn rank(self) -> u8 {
        match self {
            Role::Admin => 4,
            Role::UserAdmin => 3,
            Role::Operator => 2,
            Role::Auditor => 1,
        }
    }

    /// Whether an administrator of this role may act on (change, or read the secrets
    /// of) an account with role `target` (`None`: a plain user): only accounts below
    /// its own role — administrators on administrators too. (Acting on oneself is
    /// refused by the actions that would remove one's own way in.)
    pub fn may_act_on(self, target: Option<Role>) -> bool {
        match (self, target) {
            (Role::Admin, _) => true,
            (_, None) => true,
            (actor, Some(target)) => actor.rank() > target.rank(),
        }
    }

    /// A stored name; `None` for anything else (such a row grants nothing).
    pub fn parse(name: &str) -> Option<Role> {
        Some(match name {
            "admin" => Role::Admin,
            "user-admin" => Role::UserAdmin,
            "operator" => Role::Operator,
            "auditor" => Role::Auditor,
            _ => return None,
        })
    }
}

/// Why user input was refused; the code is stable (URLs, JSON, i18n).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum InputError {
    #[error("a user ID is 1 to 64 characters: letters, digits and . _ - @ only")]
    UserId,
    #[error("the display name is at most 128 characters, without control characters")]
    Name,
    #[error("the mail address does not look right")]
    Email,
    #[error("unknown role (admin, user-admin, operator, auditor)")]
    Role,
    #[error("a group name is 1 to 64 characters, without control characters, ';' or '|'")]
    Group,
}

impl InputError {
    pub fn code(&self) -> &'static str {
        match self {
            InputError::UserId => "invalid_user_id",
            InputError::Name => "invalid_name",
            InputError::Email => "invalid_email",
            InputError::Role => "invalid_role",
            InputError::Group => "invalid_group",
        }
    }
}

/// A user ID becomes a certificate CN and appears in logs and CSV: keep it plain.
pub fn check_user_id(id: &str) -> Result<(), InputError> {
    let ok = !id.is_empty()
        && id.chars().count() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    ok.then_some(()).ok_or(InputError::UserId)
}

/// A group name: 1 to 64 characters, no control characters, and none of the
/// separators CSV files use between groups (`;`, `|`).
pub fn check_group_name(name: &str) -> Result<(), InputError> {
    let ok = !name.trim().is_empty()
        && name == name.trim()
        && name.chars().count() <= 64
        && !name.chars().any(|c| c.is_control() || c == ';' || c == '|');
    ok.then_some(()).ok_or(InputError::Group)
}

/// A user's source: `local`, `csv`, or a sync source (`ldap:NAME`, `csv:NAME`).
pub fn is_source_name(source: &str) -> bool {
    match source.split_once(':') {
        None => matches!(source, "local" | "csv"),
        Some((kind, name)) => {
            matches!(kind, "ldap" | "csv")
                && !name.is_empty()
                && name.len() <= 64
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        }
    }
}

pub fn check_display_name(name: &str) -> Result<(), InputError> {
    (name.chars().count() <= 128 && !name.chars().any(char::is_control))
        .then_some(())
        .ok_or(InputError::Name)
}

/// A deliberately simple check (one @, a dot in the domain, ASCII, no spaces): the
/// address must fit an rfc822Name SAN; deliverability is the mail server's business.
pub fn check_email(email: &str) -> Result<(), InputError> {
    let ok = email.len() <= 254
        && email.is_ascii()
        && !email
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
        && match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
            }
            None => false,
        };
    ok.then_some(()).ok_or(InputError::Email)
}

pub fn check_role(role: &str) -> Result<(), InputError> {
    ADMIN_ROLES
        .contains(&role)
        .then_some(())
        .ok_or(InputError::Role)
}

/// Validates a new user's fields (empty optional fields become `None`).
pub fn checked_new_user<'a>(
    id: &'a str,
    display_name: &'a str,
    email: Option<&'a str>,
    admin_role: Option<&'a str>,
    source: &'a str,
) -> Result<NewUser<'a>, InputError> {
    check_user_id(id)?;
    check_display_name(display_name)?;
    let email = email.map(str::trim).filter(|e| !e.is_empty());
    if let Some(e) = email {
        check_email(e)?;
    }
    if let Some(r) = admin_role {
        check_role(r)?;
    }
    Ok(NewUser {
        id,
        display_name: display_name.trim(),
        email,
        admin_role,
        source,
    })
}

/// Creates a user or administrator from the command line and audits it.
pub async fn create_user_from_cli(
    store: &Store,
    user: &NewUser<'_>,
    groups: &[String],
    now: i64,
) -> Result<(), StoreError> {
    let result = store.create_user_in_groups(user, groups, now).await;
    let (outcome, reason) = match &result {
        Ok(()) => (Outcome::Success, String::new()),
        Err(StoreError::Conflict) => (Outcome::Failure, "user exists".to_string()),
        Err(_) => (Outcome::Failure, "database error".to_string()),
    };
    let action = if user.admin_role.is_some() {
        Action::AdminCreate
    } else {
        Action::UserCreate
    };
    record(
        store,
        AuditEvent {
            actor: "cli",
            source: "local",
            action,
            target: user.id,
            outcome,
            reason: &reason,
        },
        now,
    )
    .await;
    result
}

/// Creates an administrator from the command line with its initial pattern (one
/// transaction; it also retires any first-administrator set-up link) and audits it.
pub async fn create_admin_from_cli(
    store: &Store,
    admin: &NewUser<'_>,
    pattern: &NewInitialPattern,
    now: i64,
) -> Result<(), StoreError> {
    let result = store
        .create_user_with_initial_pattern(admin, pattern, now)
        .await;
    let (outcome, reason) = match &result {
        Ok(()) => (Outcome::Success, "with an initial pattern"),
        Err(StoreError::Conflict) => (Outcome::Failure, "user exists"),
        Err(_) => (Outcome::Failure, "database error"),
    };
    record(
        store,
        AuditEvent {
            actor: "cli",
            source: "local",
            action: Action::AdminCreate,
            target: admin.id,
            outcome,
            reason,
        },
        now,
    )
    .await;
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_ids() {
        for ok in ["alice", "a.b-c_d@example.com", "0", &"x".repeat(64)] {
            assert_eq!(check_user_id(ok), Ok(()), "{ok}");
        }
        for bad in [
            "",
            "a b",
            "ä",
            "a/b",
            "a,b",
            "=cmd",
            &"x".repeat(65),
            "a\nb",
        ] {
            assert_eq!(check_user_id(bad), Err(InputError::UserId), "{bad:?}");
        }
    }

    #[test]
    fn emails() {
        assert!(check_email("a@example.com").is_ok());
        for bad in [
            "a",
            "@example.com",
            "a@b",
            "a@.b.c",
            "a b@c.d",
            "a@b.c,",
            "ä@b.c",
            "a@b@c.d",
        ] {
            assert!(check_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn new_user_normalises_empty_email() {
        let u = checked_new_user("bob", " Bob ", Some("  "), None, "local").unwrap();
        assert_eq!(u.email, None);
        assert_eq!(u.display_name, "Bob");
        assert_eq!(
            checked_new_user("bob", "", None, Some("root"), "local").err(),
            Some(InputError::Role)
        );
        assert_eq!(
            checked_new_user("bob", "a\u{7}", None, None, "local").err(),
            Some(InputError::Name)
        );
    }
}

/// An administrators' API token just made: the token itself exists only here.
pub struct NewAdminToken {
    pub token: zeroize::Zeroizing<String>,
    pub prefix: String,
    pub admin_id: String,
    pub role: String,
    pub expires_at: i64,
}

/// Why a token cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum AdminTokenError {
    #[error("{0:?} is not an administrator")]
    NotAdmin(String),
    #[error("days: 1 to 3650")]
    Days,
    #[error("a token's name is 1 to 64 characters, no control characters")]
    Name,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Random(#[from] crate::random::RandomError),
}

/// Makes an API token for administrator `admin_id` (SPEC §9.4): `pgt_PREFIX_SECRET`,
/// only its SHA-256 stored; it acts with the administrator's role at each request.
pub async fn create_admin_token(
    store: &Store,
    admin_id: &str,
    name: &str,
    days: i64,
    now: i64,
) -> Result<NewAdminToken, AdminTokenError> {
    if !(1..=3650).contains(&days) {
        return Err(AdminTokenError::Days);
    }
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(AdminTokenError::Name);
    }
    let user = store
        .user(admin_id)
        .await?
        .filter(|u| u.admin_role.is_some())
        .ok_or_else(|| AdminTokenError::NotAdmin(admin_id.to_string()))?;
    let mut prefix = [0u8; 4];
    crate::random::os_random(&mut prefix)?;
    let prefix = hex::encode(prefix);
    let secret = crate::random::new_token()?;
    let token = zeroize::Zeroizing::new(format!("pgt_{prefix}_{}", secret.as_str()));
    let expires_at = now + days * 86_400;
    store
        .create_admin_token(
            &crate::random::token_hash(&token),
            &prefix,
            &user.id,
            name,
            expires_at,
            now,
        )
        .await?;
    Ok(NewAdminToken {
        token,
        prefix,
        admin_id: user.id,
        role: user.admin_role.unwrap_or_default(),
        expires_at,
    })
}
