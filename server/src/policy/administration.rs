//! Changing policies (set, attach, detach, delete) and showing them, audited.

use super::{resolve, AuthSettings, Key, PolicyError, PolicySettings, DEFAULT_POLICY};
use crate::{
    audit::{record, Action, AuditEvent, Outcome},
    store::{policies::Attachment, Store, StoreError},
};

/// Who changes policies, for the audit log.
pub struct Actor<'a> {
    pub id: &'a str,
    pub source: &'a str,
}

async fn audited(
    store: &Store,
    actor: &Actor<'_>,
    action: Action,
    target: &str,
    reason: &str,
    now: i64,
) {
    record(
        store,
        AuditEvent {
            actor: actor.id,
            source: actor.source,
            action,
            target,
            outcome: Outcome::Success,
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
    audited(store, actor, Action::PolicySet, name, &reason, now).await;
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
        audited(store, actor, Action::PolicyDelete, name, "", now).await;
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
        Action::PolicyAttach,
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
        Action::PolicyDetach,
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
