//! A user import (SPEC §8.1): rows from a CSV file (or a directory) checked, compared
//! with the database in memory, and applied in one transaction — or, for a dry run,
//! only reported. One bad row and nothing is applied; the error names its line.
//! New users get an initial pattern (sealed) and the first-login flow (SPEC §8.4).

use std::collections::{BTreeSet, HashMap, HashSet};

use serde::Serialize;

use crate::{
    accounts::{check_display_name, check_email, check_group_name, check_user_id},
    master_key::MasterKey,
    otp::{
        patterns::{generate_initial_pattern, seal_pattern, INITIAL_PATTERN_DAYS},
        OtpError,
    },
    policy::AuthSettings,
    store::{
        user_attributes::AttributeChange,
        user_import::{ImportBatch, ImportedUser, UserUpdate},
        Store, StoreError,
    },
    user_csv::{UserRow, UserStatus},
};

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("line {line}: {reason}")]
    Row { line: usize, reason: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Otp(#[from] OtpError),
    #[error(transparent)]
    Policy(#[from] crate::policy::PolicyError),
    /// The safety rule of a sync: a wrong filter or an empty OU must never lock out a
    /// company (issue #7).
    #[error(
        "would disable {would} of the source's {of} users ({percent} %), over the limit of \
         {limit} %: nothing changed (check the filter and base; raise the limit if this is \
         intended)"
    )]
    TooManyDisables {
        would: usize,
        of: usize,
        percent: usize,
        limit: i64,
    },
}

/// An import that is the whole of a source (a directory, a sync folder): its users
/// missing from the rows are disabled (never deleted), within a limit.
#[derive(Clone, Copy, Debug)]
pub struct WholeSource<'a> {
    pub source: &'a str,
    /// Largest share of the source's users one run may disable, in percent.
    pub max_disable_percent: i64,
}

/// One user the import adds or changes, for the report.
#[derive(Clone, Debug, Serialize)]
pub struct Planned {
    pub line: usize,
    pub id: String,
    /// The fields that change (empty for an added user).
    pub fields: Vec<&'static str>,
}

/// What an import does (or, dry, would do).
#[derive(Clone, Debug, Default, Serialize)]
pub struct ImportReport {
    pub dry_run: bool,
    pub adds: Vec<Planned>,
    pub changes: Vec<Planned>,
    pub unchanged: usize,
    pub new_groups: Vec<String>,
    /// Users of the source no longer in it: disabled.
    pub disables: Vec<String>,
    /// Users disabled before and back in the source: enabled (also among `changes`).
    pub enables: Vec<String>,
    /// Rows naming an account this source does not own (a local account, another
    /// source's, an administrator): reported, never applied.
    pub conflicts: Vec<Conflict>,
    /// The new users' initial patterns, for their first-login notices; never
    /// serialised, zeroized on drop.
    #[serde(skip)]
    pub initial_patterns: Vec<NewUserPattern>,
}

/// A row that names an account the import may not change.
#[derive(Clone, Debug, Serialize)]
pub struct Conflict {
    pub line: usize,
    pub id: String,
    pub reason: String,
}

/// A new user's initial pattern, for the first-login notice (SPEC §8.4).
#[derive(Clone, Debug)]
pub struct NewUserPattern {
    pub id: String,
    pub email: Option<String>,
    pub cells: zeroize::Zeroizing<Vec<u16>>,
}

/// Checks every row's content; the first bad one names its line.
fn check_rows(rows: &[UserRow]) -> Result<(), ImportError> {
    let bad = |line: usize, reason: String| ImportError::Row { line, reason };
    for row in rows {
        check_user_id(&row.id).map_err(|e| bad(row.line, format!("user ID {:?}: {e}", row.id)))?;
        if let Some(name) = &row.display_name {
            check_display_name(name).map_err(|e| bad(row.line, format!("name: {e}")))?;
        }
        if let Some(email) = row.email.as_deref().filter(|e| !e.is_empty()) {
            check_email(email).map_err(|e| bad(row.line, format!("mail {email:?}: {e}")))?;
        }
        for g in row.groups.iter().flatten() {
            check_group_name(g).map_err(|e| bad(row.line, format!("group {g:?}: {e}")))?;
        }
        for (name, value) in &row.attributes {
            if value.len() > 1024 || value.chars().any(char::is_control) {
                return Err(bad(
                    row.line,
                    format!("attr:{name}: at most 1,024 characters, no control characters"),
                ));
            }
        }
    }
    Ok(())
}

/// The attribute changes a row brings for `user_id`, against what is stored.
fn attribute_changes(
    row: &UserRow,
    user_id: &str,
    stored: &HashMap<(String, String), String>,
) -> Vec<AttributeChange> {
    row.attributes
        .iter()
        .filter_map(|(name, value)| {
            let current = stored.get(&(user_id.to_string(), name.clone()));
            let wanted = (!value.is_empty()).then(|| value.clone());
            (current != wanted.as_ref()).then(|| AttributeChange {
                user_id: user_id.to_string(),
                name: name.clone(),
                value: wanted,
            })
        })
        .collect()
}

/// Where an import's users come from and how it runs.
#[derive(Clone, Copy, Debug)]
pub struct ImportScope<'a> {
    /// Recorded on new users ("csv", "ldap:corp", …).
    pub source: &'a str,
    /// The import is the whole of that source: missing users are disabled.
    pub whole: Option<WholeSource<'a>>,
    /// Only report.
    pub dry_run: bool,
    pub now: i64,
}

/// Plans (and, unless `dry_run`, applies) an import of `rows` as users of `source`.
pub async fn import_users(
    store: &Store,
    key: &MasterKey,
    settings: &AuthSettings,
    rows: &[UserRow],
    scope: &ImportScope<'_>,
) -> Result<ImportReport, ImportError> {
    let ImportScope {
        source,
        whole,
        dry_run,
        now,
    } = *scope;
    check_rows(rows)?;
    let existing: HashMap<String, _> = store
        .user_briefs()
        .await?
        .into_iter()
        .map(|u| (u.id.clone(), u))
        .collect();
    let mut memberships: HashMap<String, BTreeSet<String>> = HashMap::new();
    for (user, group) in store.all_memberships().await? {
        memberships.entry(user).or_default().insert(group);
    }
    let known_groups: HashSet<String> = store.groups().await?.into_iter().map(|g| g.name).collect();
    let stored_attributes: HashMap<(String, String), String> =
        if rows.iter().any(|r| !r.attributes.is_empty()) {
            store
                .all_user_attributes()
                .await?
                .into_iter()
                .map(|(u, n, v)| ((u, n), v))
                .collect()
        } else {
            HashMap::new()
        };
    let mut attribute_updates: Vec<AttributeChange> = Vec::new();

    let mut report = ImportReport {
        dry_run,
        ..Default::default()
    };
    let mut new_groups = BTreeSet::new();
    let mut adds = Vec::new();
    let mut updates = Vec::new();
    for row in rows {
        let groups: Option<Vec<String>> = row.groups.clone();
        for g in groups.iter().flatten() {
            if !known_groups.contains(g) {
                new_groups.insert(g.clone());
            }
        }
        match existing.get(&row.id) {
            None => {
                report.adds.push(Planned {
                    line: row.line,
                    id: row.id.clone(),
                    fields: Vec::new(),
                });
                adds.push(row);
            }
            // Sources own their users: an account made elsewhere (by hand, by another
            // source) is reported, never changed; administrators by no source at all.
            Some(current) if current.admin_role.is_some() || current.source != source => {
                let reason = if current.admin_role.is_some() {
                    "an administrator's account: no import or sync changes it".to_string()
                } else {
                    format!(
                        "the account belongs to {:?}, not to {source:?} (an administrator may adopt it)",
                        current.source
                    )
                };
                report.conflicts.push(Conflict {
                    line: row.line,
                    id: row.id.clone(),
                    reason,
                });
            }
            Some(current) => {
                let mut fields = Vec::new();
                let mut update = UserUpdate {
                    id: row.id.clone(),
                    display_name: None,
                    email: None,
                    status: None,
                    groups: None,
                    source: None,
                };
                if let Some(name) = row
                    .display_name
                    .as_ref()
                    .filter(|n| **n != current.display_name)
                {
                    fields.push("name");
                    update.display_name = Some(name.clone());
                }
                if let Some(email) = &row.email {
                    let email = (!email.is_empty()).then(|| email.clone());
                    if email != current.email {
                        fields.push("email");
                        update.email = Some(email);
                    }
                }
                if let Some(status) = row
                    .status
                    .map(UserStatus::as_str)
                    .filter(|s| *s != current.status)
                {
                    fields.push("status");
                    if status == "active" && current.status == "disabled" {
                        report.enables.push(row.id.clone());
                    }
                    update.status = Some(status.to_string());
                }
                if let Some(groups) = &groups {
                    let wanted: BTreeSet<String> = groups.iter().cloned().collect();
                    let had = memberships.get(&row.id).cloned().unwrap_or_default();
                    if wanted != had {
                        fields.push("groups");
                        update.groups = Some(wanted.into_iter().collect());
                    }
                }
                let attr_changes = attribute_changes(row, &row.id, &stored_attributes);
                if !attr_changes.is_empty() {
                    fields.push("attributes");
                    attribute_updates.extend(attr_changes);
                }
                if fields.is_empty() {
                    report.unchanged += 1;
                } else {
                    report.changes.push(Planned {
                        line: row.line,
                        id: row.id.clone(),
                        fields: fields.clone(),
                    });
                    // Attributes alone change no user row.
                    if fields != ["attributes"] {
                        updates.push(update);
                    }
                }
            }
        }
    }
    report.new_groups = new_groups.into_iter().collect();
    if let Some(whole) = whole {
        let present: HashSet<&str> = rows.iter().map(|r| r.id.as_str()).collect();
        let of_source: Vec<_> = existing
            .values()
            .filter(|u| u.source == whole.source && u.admin_role.is_none())
            .collect();
        let mut gone: Vec<String> = of_source
            .iter()
            .filter(|u| u.status == "active" && !present.contains(u.id.as_str()))
            .map(|u| u.id.clone())
            .collect();
        gone.sort();
        let of = of_source.len();
        if of > 0 && (gone.len() as i64) * 100 > whole.max_disable_percent * of as i64 {
            return Err(ImportError::TooManyDisables {
                would: gone.len(),
                of,
                percent: gone.len() * 100 / of,
                limit: whole.max_disable_percent,
            });
        }
        for id in &gone {
            updates.push(UserUpdate {
                id: id.clone(),
                display_name: None,
                email: None,
                status: Some("disabled".into()),
                groups: None,
                source: None,
            });
        }
        report.disables = gone;
    }
    if dry_run {
        return Ok(report);
    }
    let mut imported = Vec::with_capacity(adds.len());
    // New users' initial patterns follow their groups' policy (read once for all rows).
    let book = crate::policy::PolicyBook::load(store).await?;
    for row in &adds {
        attribute_updates.extend(attribute_changes(row, &row.id, &stored_attributes));
    }
    for row in adds {
        let own = book.settings_for_groups(settings, row.groups.as_deref().unwrap_or_default())?;
        let cells = generate_initial_pattern(own.shape, &own.rules)?;
        report.initial_patterns.push(NewUserPattern {
            id: row.id.clone(),
            email: row.email.clone().filter(|e| !e.is_empty()),
            cells: cells.clone(),
        });
        imported.push(ImportedUser {
            id: row.id.clone(),
            display_name: row.display_name.clone().unwrap_or_default(),
            email: row.email.clone().filter(|e| !e.is_empty()),
            status: row
                .status
                .unwrap_or(UserStatus::Active)
                .as_str()
                .to_string(),
            groups: row.groups.clone().unwrap_or_default(),
            pattern_sealed: seal_pattern(key, &row.id, &cells)?,
        });
    }
    store
        .apply_user_import(
            &ImportBatch {
                source: source.to_string(),
                new_groups: report.new_groups.clone(),
                adds: imported,
                updates,
                key_id: key.id_hex(),
                pattern_expires_at: now + INITIAL_PATTERN_DAYS * 24 * 3600,
                attributes: attribute_updates,
            },
            now,
        )
        .await?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::scratch::scratch_store;

    fn row(line: usize, id: &str, groups: &[&str]) -> UserRow {
        UserRow {
            line,
            id: id.into(),
            display_name: None,
            email: None,
            groups: Some(groups.iter().map(|g| g.to_string()).collect()),
            status: None,
            attributes: vec![],
        }
    }

    #[tokio::test]
    async fn new_users_get_initial_patterns_by_their_groups_policy() {
        let (_dir, store) = scratch_store().await;
        let (key, _) = MasterKey::load_or_create(
            std::path::Path::new("/nonexistent/master.key"),
            Some(&"11".repeat(32)),
        )
        .expect("key");
        store.create_group("long", "", 1).await.expect("group");
        store
            .save_policy("long", r#"{"pattern_min":"9"}"#, 1)
            .await
            .expect("policy");
        store
            .attach_policy("long", "long", 1)
            .await
            .expect("attach");
        let report = import_users(
            &store,
            &key,
            &AuthSettings::default(),
            &[row(2, "ann", &["long"]), row(3, "bob", &[])],
            &ImportScope {
                source: "csv",
                whole: None,
                dry_run: false,
                now: 10,
            },
        )
        .await
        .expect("import");
        let len = |id: &str| {
            report
                .initial_patterns
                .iter()
                .find(|p| p.id == id)
                .map(|p| p.cells.len())
        };
        assert_eq!((len("ann"), len("bob")), (Some(9), Some(6)));
    }
}
