//! A user's effective policy: the configuration, overlaid with `default`, overlaid
//! with the attached policy of highest priority among the user's groups.

use super::{AuthSettings, Key, PolicyError, PolicySettings, DEFAULT_POLICY};
use crate::store::{
    policies::{Attachment, Candidate, PolicyLayers},
    Store,
};

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

pub(super) fn from_layers(
    base: &AuthSettings,
    layers: &PolicyLayers,
) -> Result<EffectivePolicy, PolicyError> {
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

    /// The name of the policy a member of `groups` gets (`None`: the default), by the
    /// same rules as `effective_policy_for`.
    pub fn chosen_policy(&self, groups: &[String]) -> Option<&str> {
        let candidates: Vec<Candidate> = self
            .attachments
            .iter()
            .filter(|a| groups.contains(&a.group))
            .map(|a| Candidate {
                attachment: a.clone(),
                settings: String::new(),
            })
            .collect();
        let name = choose(&candidates).map(|c| c.attachment.policy.clone())?;
        self.policies.get_key_value(&name).map(|(k, _)| k.as_str())
    }

    /// The settings of policy `name` (`None`: the default) over `base`.
    pub fn settings_of(
        &self,
        base: &AuthSettings,
        name: Option<&str>,
    ) -> Result<AuthSettings, PolicyError> {
        resolve(base, &self.default, name.and_then(|n| self.policies.get(n)))
    }

    /// The settings of a member of `groups`, by the same rules as
    /// `effective_policy_for`.
    pub fn settings_for_groups(
        &self,
        base: &AuthSettings,
        groups: &[String],
    ) -> Result<AuthSettings, PolicyError> {
        self.settings_of(base, self.chosen_policy(groups))
    }

    /// Every policy's name (the default's not among them).
    fn names(&self) -> impl Iterator<Item = &str> {
        self.policies.keys().map(String::as_str)
    }
}

/// The policies in memory, resolved over the configuration, for the login path: read
/// again when the database's policy generation (see `store::login_facts`) says they
/// changed — on any server of a cluster, so a change holds from the next login there.
#[derive(Default)]
pub struct PolicyCache {
    current: std::sync::RwLock<Option<std::sync::Arc<ResolvedPolicies>>>,
}

struct ResolvedPolicies {
    generation: i64,
    book: PolicyBook,
    /// Each policy resolved over the configuration, by name (`None`: the default); a
    /// policy that does not resolve is missing and named when asked for.
    resolved: std::collections::HashMap<Option<String>, std::sync::Arc<AuthSettings>>,
}

impl PolicyCache {
    /// The settings of a member of `groups` over `base`, with the policies of
    /// `generation` (read now when the copy in memory is older or missing).
    pub async fn settings(
        &self,
        store: &Store,
        base: &AuthSettings,
        groups: &[String],
        generation: i64,
    ) -> Result<std::sync::Arc<AuthSettings>, PolicyError> {
        let current = self
            .current
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
            .filter(|c| c.generation == generation);
        let policies = match current {
            Some(p) => p,
            None => {
                // Loaded after `generation` was read: at least as new as it says.
                let book = PolicyBook::load(store).await?;
                let mut resolved = std::collections::HashMap::new();
                for name in std::iter::once(None).chain(book.names().map(Some)) {
                    if let Ok(settings) = book.settings_of(base, name) {
                        resolved.insert(name.map(str::to_owned), std::sync::Arc::new(settings));
                    }
                }
                let fresh = std::sync::Arc::new(ResolvedPolicies {
                    generation,
                    book,
                    resolved,
                });
                *self
                    .current
                    .write()
                    .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(fresh.clone());
                fresh
            }
        };
        let name = policies.book.chosen_policy(groups).map(str::to_owned);
        match policies.resolved.get(&name) {
            Some(settings) => Ok(settings.clone()),
            None => Err(PolicyError::Corrupt(
                name.unwrap_or_else(|| DEFAULT_POLICY.to_string()),
            )),
        }
    }
}
