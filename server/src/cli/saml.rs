//! `passgrid saml …` (SPEC §13): service providers from metadata (file or URL) or a
//! preset, with their NameID, attributes, signing and access rules; the IdP's
//! signing key (rotate, drop the old) and its metadata.

use clap::{Args, Subcommand};
use serde_json::json;

use super::{oidc::RuleFlags, CliError, Output};
use crate::{
    audit::{record_cli, Action},
    config::FileConfig,
    instance::{DataConfig, Instance},
    saml_idp::{keys, presets, sps},
    sso::backchannel::Sender,
    store::saml_sps::SamlSpRow,
};

#[derive(Subcommand, Debug)]
pub enum SamlCommand {
    /// Service providers.
    #[command(subcommand)]
    Sp(Box<SpCommand>),
    /// A new signing key; the old certificate stays in the metadata until drop-old-keys.
    RotateKey,
    /// Remove retired signing keys (their certificates leave the metadata).
    DropOldKeys,
    /// The signing keys: in use or retired, with certificate fingerprints.
    Keys,
    /// Print the IdP metadata (entity ID = [serve] public_url).
    Metadata,
}

#[derive(Subcommand, Debug)]
pub enum SpCommand {
    /// Register an SP from its metadata (a file or an https:// URL) or a preset.
    Add {
        name: String,
        #[command(flatten)]
        settings: SpFlags,
        /// microsoft365 or google-workspace: known values filled in, set-up steps printed.
        #[arg(long)]
        preset: Option<String>,
        /// The Google Workspace domain (preset google-workspace).
        #[arg(long)]
        workspace_domain: Option<String>,
        #[command(flatten)]
        rules: RuleFlags,
    },
    /// List SPs.
    List,
    /// One SP, its application's rules and recent sign-ins.
    Show { name: String },
    /// Change an SP (given options replace the stored ones).
    Set {
        name: String,
        #[command(flatten)]
        settings: SpFlags,
        #[command(flatten)]
        rules: RuleFlags,
    },
    /// Fetch the SP's metadata again from its URL.
    Refresh { name: String },
    /// Remove an SP and its application.
    Remove { name: String },
}

#[derive(Args, Debug, Default)]
pub struct SpFlags {
    /// The SP's metadata: a file, or an https:// URL (fetched now, and on refresh).
    #[arg(long)]
    metadata: Option<String>,
    /// persistent (default), email, login, transient, or attr:NAME (a user attribute).
    #[arg(long)]
    nameid: Option<String>,
    /// The NameID Format when not the one --nameid implies (persistent, email,
    /// unspecified, transient or a URI; '' clears).
    #[arg(long)]
    nameid_format: Option<String>,
    /// An attribute NAME=FIELD (login, email, name, groups, attr:NAME); repeatable.
    #[arg(long = "attribute")]
    attributes: Vec<String>,
    /// Send no attributes.
    #[arg(long)]
    no_attributes: bool,
    /// Sign the assertion (default), the response, or both.
    #[arg(long)]
    sign: Option<String>,
    /// Encrypt the assertion when the metadata has an encryption key: aes256-gcm
    /// (default), aes128-cbc, or off.
    #[arg(long)]
    encrypt: Option<String>,
    /// Refuse unsigned AuthnRequests even if the metadata does not say the SP signs.
    #[arg(long)]
    require_signed_requests: Option<bool>,
}

impl SpFlags {
    fn settings(self) -> Result<sps::SpSettings, CliError> {
        let (metadata_xml, metadata_url) = match self.metadata {
            Some(m) if m.starts_with("https://") || m.starts_with("http://") => (None, Some(m)),
            Some(path) => (
                Some(
                    std::fs::read_to_string(&path)
                        .map_err(|e| CliError(format!("--metadata {path}: {e}")))?,
                ),
                None,
            ),
            None => (None, None),
        };
        Ok(sps::SpSettings {
            metadata_xml,
            metadata_url,
            preset: None,
            domain: None,
            name_id: self.nameid,
            name_id_format: self.nameid_format,
            attributes: if self.no_attributes {
                Some(vec![])
            } else {
                (!self.attributes.is_empty()).then_some(self.attributes)
            },
            sign: self.sign,
            encrypt: self.encrypt,
            require_signed_requests: self.require_signed_requests,
        })
    }
}

fn sp_json(row: &SamlSpRow) -> serde_json::Value {
    json!(row)
}

fn sp_line(row: &SamlSpRow) -> String {
    format!(
        "{}\t{}\tnameid {}\tsign {}\t{}",
        row.application,
        row.entity_id,
        row.name_id,
        row.sign,
        row.preset.as_deref().unwrap_or("-")
    )
}

/// The public URL, or a placeholder when [serve] public_url is not set.
fn public_url_or_placeholder(file: &FileConfig) -> String {
    super::cert::public_url(file).unwrap_or_else(|_| "https://PASSGRID-HOST".into())
}

/// What the SP's side needs, for the set-up steps of a preset.
async fn setup_steps(
    instance: &Instance,
    file: &FileConfig,
    row: &SamlSpRow,
) -> Result<Option<String>, CliError> {
    if row.preset.is_none() {
        return Ok(None);
    }
    let now = instance.clock.now();
    keys::ensure_key(&instance.store, &instance.master_key, now).await?;
    let k = keys::load(&instance.store, &instance.master_key).await?;
    let base = public_url_or_placeholder(file);
    let (sso, slo) = (format!("{base}/saml/sso"), format!("{base}/saml/slo"));
    let cert = k.active.certificate_base64();
    let facts = presets::IdpFacts {
        entity_id: &base,
        sso_url: &sso,
        slo_url: &slo,
        certificate_b64: &cert,
    };
    Ok(presets::setup_steps(row, &facts))
}

pub async fn run(
    cmd: SamlCommand,
    data: DataConfig,
    file: &FileConfig,
    out: Output,
) -> Result<(), CliError> {
    let instance = Instance::open(data).await?;
    let result = run_on(&instance, cmd, file, out).await;
    instance.store.close().await;
    result
}

async fn run_on(
    instance: &Instance,
    cmd: SamlCommand,
    file: &FileConfig,
    out: Output,
) -> Result<(), CliError> {
    let store = &instance.store;
    let now = instance.clock.now();
    let fetcher = Sender::new(instance.ca.cert_der());
    let sp = match cmd {
        SamlCommand::RotateKey => {
            keys::ensure_key(store, &instance.master_key, now).await?;
            let result = keys::rotate_key(store, &instance.master_key, now).await;
            record_cli(store, Action::SamlRotateKey, "saml", &result, "", now).await;
            let kid = result?;
            out.print(
                format!(
                    "new signing key {kid}; the old certificate stays in the metadata until \
                     `passgrid saml drop-old-keys` (servers sign with the new key within 30 s)"
                ),
                json!({"kid": kid}),
            );
            return Ok(());
        }
        SamlCommand::DropOldKeys => {
            let result = keys::drop_retired_keys(store).await;
            record_cli(store, Action::SamlDropKeys, "saml", &result, "", now).await;
            let n = result?;
            out.print(format!("{n} retired key(s) dropped"), json!({"dropped": n}));
            return Ok(());
        }
        SamlCommand::Keys => {
            keys::ensure_key(store, &instance.master_key, now).await?;
            let list = keys::describe_keys(store).await?;
            let text = list
                .iter()
                .map(|(kid, active, created, retired, fp)| {
                    format!(
                        "{kid}\t{}\tcreated {created}\t{}\tsha256 {fp}",
                        if *active { "signing" } else { "retired" },
                        retired.map(|r| format!("retired {r}")).unwrap_or_default()
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            let v: Vec<_> = list
                .iter()
                .map(|(kid, active, created, retired, fp)| {
                    json!({"kid": kid, "signing": active, "created_at": created,
                           "retired_at": retired, "certificate_sha256": fp})
                })
                .collect();
            out.print(text, json!(v));
            return Ok(());
        }
        SamlCommand::Metadata => {
            let idp = crate::saml_idp::IdentityProvider::start(
                instance,
                &public_url_or_placeholder(file),
            )
            .await?;
            let xml = idp.metadata_xml(instance).await?;
            out.print(&xml, json!({"metadata": xml}));
            return Ok(());
        }
        SamlCommand::Sp(sp) => *sp,
    };
    match sp {
        SpCommand::Add {
            name,
            settings,
            preset,
            workspace_domain,
            rules,
        } => {
            let mut s = settings.settings()?;
            s.preset = preset;
            s.domain = workspace_domain;
            let result = sps::add_sp(store, &fetcher, &name, &s, &rules.rules(), now).await;
            record_cli(store, Action::SamlSpCreate, &name, &result, "", now).await;
            let row = result?;
            let steps = setup_steps(instance, file, &row).await?;
            let mut v = sp_json(&row);
            v["setup_steps"] = json!(steps);
            let mut text = format!("SP {name} added: {}", sp_line(&row));
            if let Some(steps) = &steps {
                text.push_str("\n\n");
                text.push_str(steps);
            }
            out.print(text, v);
        }
        SpCommand::Set {
            name,
            settings,
            rules,
        } => {
            let s = settings.settings()?;
            let result = sps::update_sp(store, &fetcher, &name, &s, &rules.rules(), now).await;
            record_cli(store, Action::SamlSpUpdate, &name, &result, "", now).await;
            let row = result?;
            out.print(
                format!("SP {name} changed: {}", sp_line(&row)),
                sp_json(&row),
            );
        }
        SpCommand::Refresh { name } => {
            let result = sps::refresh_metadata(store, &fetcher, &name, now).await;
            record_cli(
                store,
                Action::SamlSpUpdate,
                &name,
                &result,
                "metadata fetched again",
                now,
            )
            .await;
            let row = result?;
            out.print(format!("SP {name}: metadata fetched again"), sp_json(&row));
        }
        SpCommand::List => {
            let list = store.saml_sps().await?;
            let text = list.iter().map(sp_line).collect::<Vec<_>>().join("\n");
            out.print(text, json!(list));
        }
        SpCommand::Show { name } => {
            let row = store
                .saml_sp(&name)
                .await?
                .ok_or_else(|| CliError(format!("no SP named {name:?}")))?;
            let app = store.application(&name).await?;
            let recent = crate::sso::recent_sign_ins(store, &name, 20).await?;
            let steps = setup_steps(instance, file, &row).await?;
            let v = json!({"sp": row, "application": app, "recent_sign_ins": recent, "setup_steps": steps});
            out.print(serde_json::to_string_pretty(&v).unwrap_or_default(), v);
        }
        SpCommand::Remove { name } => {
            if store.saml_sp(&name).await?.is_none() {
                return Err(CliError(format!("no SP named {name:?}")));
            }
            let result = store.delete_application(&name).await;
            record_cli(store, Action::AppDelete, &name, &result, "saml sp", now).await;
            result?;
            out.print(format!("SP {name} removed"), json!({"removed": name}));
        }
    }
    Ok(())
}
