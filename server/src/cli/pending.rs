//! Subcommands of the contract (SPEC §13) that later issues implement. They parse
//! their arguments (so `--help` documents the contract) and refuse to run.

use clap::Subcommand;

use super::CliError;

pub fn not_yet(group: &str, issue: &str) -> Result<(), CliError> {
    Err(CliError(format!(
        "`passgrid {group}` is not implemented in this version yet (tracked in issue {issue})"
    )))
}

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// List policies.
    List,
    /// Show one policy.
    Show { name: String },
    /// Change settings: key=value...
    Set { name: String, settings: Vec<String> },
    /// Attach a policy to a group with a priority.
    Attach {
        name: String,
        #[arg(long)]
        group: String,
        #[arg(long)]
        priority: i64,
    },
}
