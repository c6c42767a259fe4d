//! `passgrid radius …` (SPEC §13): RADIUS clients (NAS devices) with their sealed
//! shared secrets, their RadSec certificates, and the reply attributes per group.
//! A running server picks changes up within seconds.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::json;
use zeroize::Zeroizing;

use super::{CliError, Output};
use crate::{
    audit::{record_cli, Action},
    instance::{DataConfig, Instance},
    radius_clients::{self, replies::set_group_replies, NewRadiusClient, RadiusClientView},
    sso::clients::AppRules,
};

#[derive(Subcommand, Debug)]
pub enum RadiusCommand {
    /// RADIUS clients (NAS devices: VPN gateways, switches, access points).
    #[command(subcommand)]
    Client(ClientCommand),
    /// Attributes an Access-Accept carries for members of a group.
    #[command(subcommand)]
    Reply(ReplyCommand),
}

#[derive(Subcommand, Debug)]
pub enum ClientCommand {
    /// Add a NAS: the address block it sends from and its shared secret (read from a
    /// file, never from the command line). It is also an application: `passgrid app
    /// set NAME --group vpn` limits it to a group.
    Add {
        name: String,
        /// One address or a CIDR block, e.g. 192.0.2.10 or 10.1.0.0/16.
        #[arg(long)]
        address: String,
        /// A file holding the shared secret (16 to 128 printable characters; a final
        /// newline is ignored). Without it the NAS may use RadSec only.
        #[arg(long)]
        secret_file: Option<PathBuf>,
        /// Drop Access-Requests without Message-Authenticator (Blast-RADIUS,
        /// CVE-2024-3596): true (default) or false for old NAS devices.
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set, num_args = 0..=1, default_missing_value = "true")]
        require_message_authenticator: bool,
        #[command(flatten)]
        rules: NasRules,
    },
    /// List NAS devices (never their secrets).
    List,
    /// Remove a NAS (its RadSec certificates are revoked).
    Remove { name: String },
    /// Issue a RadSec client certificate for a NAS from its CSR (the key stays on it).
    Cert {
        name: String,
        #[arg(long)]
        csr: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// Validity in days.
        #[arg(long, default_value_t = 365)]
        days: i64,
    },
}

/// Access rules given at once when adding a NAS (`passgrid app set` changes them).
#[derive(Args, Debug, Default)]
pub struct NasRules {
    /// Only members of this group (repeatable).
    #[arg(long = "group")]
    groups: Vec<String>,
    #[arg(long)]
    description: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum ReplyCommand {
    /// Set a group's reply attributes, e.g. 'Filter-Id=staff' 'Cisco-AVPair=shell:priv-lvl=15'
    /// (none: clear them).
    Set {
        group: String,
        attributes: Vec<String>,
    },
    /// Every group's reply attributes.
    List,
}

/// Reads a secret file: one line; a final newline (or CRLF) is not part of it.
fn read_secret(path: &PathBuf) -> Result<Zeroizing<Vec<u8>>, CliError> {
    let mut bytes = Zeroizing::new(
        std::fs::read(path).map_err(|e| CliError(format!("{}: {e}", path.display())))?,
    );
    while bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        bytes.pop();
    }
    Ok(bytes)
}

fn human(c: &RadiusClientView) -> String {
    let groups = c
        .application
        .as_ref()
        .map(|a| a.allowed_groups.join(","))
        .filter(|g| !g.is_empty())
        .unwrap_or_else(|| "any".into());
    let certs = c.certificates.iter().filter(|c| !c.revoked).count();
    format!(
        "{}\t{}\t{}\tmessage-authenticator: {}\tgroups: {groups}\tradsec certificates: {certs}",
        c.name,
        c.address,
        if c.has_secret {
            "secret set"
        } else {
            "radsec only"
        },
        if c.require_message_authenticator {
            "required"
        } else {
            "optional"
        },
    )
}

pub async fn run(cmd: RadiusCommand, data: DataConfig, out: Output) -> Result<(), CliError> {
    let instance = Instance::open(data).await?;
    let result = run_in(&instance, cmd, out).await;
    instance.store.close().await;
    result
}

async fn run_in(instance: &Instance, cmd: RadiusCommand, out: Output) -> Result<(), CliError> {
    let store = &instance.store;
    let now = instance.clock.now();
    match cmd {
        RadiusCommand::Client(ClientCommand::Add {
            name,
            address,
            secret_file,
            require_message_authenticator,
            rules,
        }) => {
            let secret = secret_file.as_ref().map(read_secret).transpose()?;
            let rules = AppRules {
                description: rules.description,
                allowed_groups: (!rules.groups.is_empty()).then_some(rules.groups),
                ..AppRules::default()
            };
            let result = radius_clients::add_client(
                instance,
                &NewRadiusClient {
                    name: &name,
                    address: &address,
                    secret: secret.as_deref().map(|s| s.as_slice()),
                    require_message_authenticator,
                    rules: &rules,
                },
                now,
            )
            .await;
            record_cli(store, Action::RadiusClientCreate, &name, &result, "", now).await;
            let view = result?;
            out.print(
                format!("RADIUS client added: {}", human(&view)),
                json!(view),
            );
        }
        RadiusCommand::Client(ClientCommand::List) => {
            let list = radius_clients::clients(store).await?;
            let text = list.iter().map(human).collect::<Vec<_>>().join("\n");
            out.print(text, json!(list));
        }
        RadiusCommand::Client(ClientCommand::Remove { name }) => {
            let result = radius_clients::remove_client(instance, &name, now).await;
            record_cli(store, Action::RadiusClientDelete, &name, &result, "", now).await;
            result?;
            out.print(
                format!("RADIUS client {name} removed"),
                json!({"removed": name}),
            );
        }
        RadiusCommand::Client(ClientCommand::Cert {
            name,
            csr,
            out: path,
            days,
        }) => {
            let request =
                std::fs::read(&csr).map_err(|e| CliError(format!("{}: {e}", csr.display())))?;
            let result =
                radius_clients::issue_certificate(instance, &name, &request, days, now).await;
            let reason = match &result {
                Ok((serial, _)) => format!("serial {serial}"),
                Err(_) => String::new(),
            };
            record_cli(
                store,
                Action::RadiusClientCert,
                &name,
                &result,
                &reason,
                now,
            )
            .await;
            let (serial, pem) = result?;
            std::fs::write(&path, pem.as_bytes())
                .map_err(|e| CliError(format!("{}: {e}", path.display())))?;
            out.print(
                format!(
                    "RadSec certificate for {name} (serial {serial}) written to {}",
                    path.display()
                ),
                json!({"client": name, "serial": serial, "out": path}),
            );
        }
        RadiusCommand::Reply(ReplyCommand::Set { group, attributes }) => {
            let result = set_group_replies(store, &group, &attributes).await;
            let reason = match &result {
                Ok(list) => list.join("; "),
                Err(_) => String::new(),
            };
            record_cli(store, Action::RadiusReplySet, &group, &result, &reason, now).await;
            let list = result?;
            out.print(
                format!("reply attributes of {group}: {}", list.join(", ")),
                json!({"group": group, "attributes": list}),
            );
        }
        RadiusCommand::Reply(ReplyCommand::List) => {
            let all = store.radius_group_replies().await?;
            let text = all
                .iter()
                .map(|(g, a)| format!("{g}\t{}", a.join("\t")))
                .collect::<Vec<_>>()
                .join("\n");
            out.print(text, json!(all));
        }
    }
    Ok(())
}
