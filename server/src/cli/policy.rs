//! `passgrid policy …` (SPEC §7, §13): policies, their attachment to groups, and the
//! effective policy of a user. The rules live in `crate::policy`.

use clap::Subcommand;
use serde_json::json;

use super::{CliError, Output};
use crate::{
    config::FileConfig,
    instance::DataConfig,
    instance::Instance,
    policy::{self, Actor, PolicyError},
};

const CLI: Actor<'static> = Actor {
    id: "cli",
    source: "local",
};

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// List policies with their groups and how many keys each sets.
    List,
    /// Show every key of a policy as it takes effect, and where its value comes from.
    Show { name: String },
    /// Set keys (key=value; `key=` unsets); creates the policy if needed. All or nothing.
    Set {
        name: String,
        #[arg(required = true, value_name = "KEY=VALUE")]
        settings: Vec<String>,
    },
    /// Attach a policy to a group with a priority (higher wins), or change the priority.
    Attach {
        name: String,
        #[arg(long)]
        group: String,
        #[arg(long, allow_negative_numbers = true)]
        priority: i64,
    },
    /// Detach a policy from a group.
    Detach {
        name: String,
        #[arg(long)]
        group: String,
    },
    /// Delete a policy (not `default`); its groups fall back to the next policy.
    Delete { name: String },
    /// The effective policy of a user and why it applies.
    Effective { user_id: String },
}

pub async fn run(
    cmd: PolicyCommand,
    data: DataConfig,
    file: &FileConfig,
    out: Output,
) -> Result<(), CliError> {
    let base = file.auth.settings()?;
    let instance = Instance::open(data).await?;
    let result = run_on(cmd, &instance, &base, out).await;
    instance.store.close().await;
    result
}

async fn run_on(
    cmd: PolicyCommand,
    instance: &Instance,
    base: &crate::policy::AuthSettings,
    out: Output,
) -> Result<(), CliError> {
    let store = &instance.store;
    let now = instance.clock.now();
    match cmd {
        PolicyCommand::List => {
            let list = policy::list_policies(store).await?;
            let text = list
                .iter()
                .map(|p| {
                    let groups = if p.name == policy::DEFAULT_POLICY {
                        "(everyone)".to_string()
                    } else if p.groups.is_empty() {
                        "(no groups)".to_string()
                    } else {
                        p.groups
                            .iter()
                            .map(|a| format!("{}:{}", a.group, a.priority))
                            .collect::<Vec<_>>()
                            .join(", ")
                    };
                    format!("{}\t{}\t{} settings", p.name, groups, p.settings)
                })
                .collect::<Vec<_>>()
                .join("\n");
            out.print(text, json!(list));
        }
        PolicyCommand::Show { name } => {
            let view = policy::show_policy(store, base, &name).await?;
            let mut text = format!("policy {}", view.name);
            for a in &view.groups {
                text.push_str(&format!("\ngroup {} (priority {})", a.group, a.priority));
            }
            for k in &view.keys {
                text.push_str(&format!(
                    "\n{} = {}\t({})",
                    k.key,
                    k.value,
                    k.origin.describe()
                ));
            }
            out.print(text, json!(view));
        }
        PolicyCommand::Set { name, settings } => {
            let changes = policy::parse_assignments(&settings)?;
            let saved = policy::set_policy(store, base, &name, &changes, &CLI, now).await?;
            out.print(
                format!("policy {name} saved ({} settings)", saved.len()),
                json!({ "name": name, "settings": saved.to_map() }),
            );
        }
        PolicyCommand::Attach {
            name,
            group,
            priority,
        } => {
            policy::attach_policy(store, &name, &group, priority, &CLI, now).await?;
            out.print(
                format!("policy {name} attached to group {group} with priority {priority}"),
                json!({ "name": name, "group": group, "priority": priority }),
            );
        }
        PolicyCommand::Detach { name, group } => {
            policy::detach_policy(store, &name, &group, &CLI, now).await?;
            out.print(
                format!("policy {name} detached from group {group}"),
                json!({ "name": name, "group": group, "detached": true }),
            );
        }
        PolicyCommand::Delete { name } => {
            if !policy::delete_policy(store, &name, &CLI, now).await? {
                return Err(PolicyError::NoSuchPolicy(name).into());
            }
            out.print(
                format!("policy {name} deleted"),
                json!({ "name": name, "deleted": true }),
            );
        }
        PolicyCommand::Effective { user_id } => {
            if store.user(&user_id).await?.is_none() {
                return Err(CliError(format!("no user {user_id:?}")));
            }
            let effective = policy::effective_policy_for(store, base, &user_id).await?;
            let reason = effective.reason();
            let settings = policy::settings_map(&effective.settings);
            let mut text = format!("{user_id}: policy {} — {reason}", effective.name);
            for (k, v) in &settings {
                text.push_str(&format!("\n{k} = {v}"));
            }
            out.print(
                text,
                json!({
                    "user": user_id,
                    "policy": effective.name,
                    "reason": reason,
                    "settings": settings,
                }),
            );
        }
    }
    Ok(())
}
