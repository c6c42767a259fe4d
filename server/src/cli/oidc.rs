//! `passgrid oidc …` and `passgrid app …` (SPEC §13): OpenID Connect clients, the
//! signing keys, and applications with their access rules (forward-auth sites; an
//! OIDC client's application is made with it and shares its name).

use clap::{Args, Subcommand};
use serde_json::json;

use super::{CliError, Output};
use crate::{
    audit::{record_cli, Action},
    instance::{DataConfig, Instance},
    sso::clients::{self, AppRules, ClientSettings},
    store::oidc_clients::OidcClient,
};

#[derive(Subcommand, Debug)]
pub enum OidcCommand {
    /// OpenID Connect clients.
    #[command(subcommand)]
    Client(Box<ClientCommand>),
    /// New signing keys; the old stay in the JWKS until the tokens they signed expire.
    RotateKey,
}

#[derive(Subcommand, Debug)]
pub enum ClientCommand {
    /// Register a client (prints its ID and, for a confidential client, its secret once).
    Add {
        name: String,
        #[command(flatten)]
        settings: ClientFlags,
        /// A public client (no secret; PKCE S256 required).
        #[arg(long)]
        public: bool,
        #[command(flatten)]
        rules: RuleFlags,
    },
    /// List clients.
    List,
    /// One client and its application's rules.
    Show { name: String },
    /// Change a client (given options replace the stored ones).
    Set {
        name: String,
        #[command(flatten)]
        settings: ClientFlags,
        #[command(flatten)]
        rules: RuleFlags,
    },
    /// Remove a client, its application, codes and tokens.
    Remove { name: String },
}

#[derive(Args, Debug, Default)]
pub struct ClientFlags {
    /// A redirect URI (exact match); repeatable.
    #[arg(long = "redirect-uri")]
    redirect_uris: Vec<String>,
    /// ES256 (default) or RS256 for ID tokens.
    #[arg(long)]
    alg: Option<String>,
    /// A post-logout redirect URI; repeatable.
    #[arg(long = "post-logout-uri")]
    post_logout_uris: Vec<String>,
    /// Where back-channel logout tokens go ('' clears).
    #[arg(long)]
    backchannel_logout_uri: Option<String>,
    /// Scopes the client may ask for (openid profile email groups offline_access).
    #[arg(long, num_args = 1.., value_delimiter = ',')]
    scopes: Vec<String>,
    #[arg(long)]
    access_token_secs: Option<i64>,
    #[arg(long)]
    refresh_token_secs: Option<i64>,
}

impl ClientFlags {
    fn settings(self) -> ClientSettings {
        ClientSettings {
            redirect_uris: (!self.redirect_uris.is_empty()).then_some(self.redirect_uris),
            post_logout_uris: (!self.post_logout_uris.is_empty()).then_some(self.post_logout_uris),
            backchannel_logout_uri: self.backchannel_logout_uri,
            alg: self.alg,
            scopes: (!self.scopes.is_empty()).then_some(self.scopes),
            access_token_secs: self.access_token_secs,
            refresh_token_secs: self.refresh_token_secs,
        }
    }
}

/// Access rules of an application (SPEC §6.3).
#[derive(Args, Debug, Default)]
pub struct RuleFlags {
    /// Only members of this group (repeatable; none: everyone).
    #[arg(long = "group")]
    groups: Vec<String>,
    /// Clear the group list.
    #[arg(long)]
    any_group: bool,
    /// Allowed network (CIDR), repeatable.
    #[arg(long = "network")]
    networks: Vec<String>,
    /// Allowed hours, e.g. "Mon-Fri 08:00-19:00", repeatable.
    #[arg(long = "hours")]
    hours: Vec<String>,
    #[arg(long)]
    time_zone: Option<String>,
    /// Only devices with a valid certificate of the user (true|false).
    #[arg(long)]
    require_certificate: Option<bool>,
    /// Ask for the grid again when the sign-in is older than this (seconds; 0: off).
    #[arg(long)]
    max_auth_age: Option<i64>,
    /// Forward-auth: the host name of the site.
    #[arg(long)]
    domain: Option<String>,
    #[arg(long)]
    description: Option<String>,
}

impl RuleFlags {
    pub(crate) fn rules(self) -> AppRules {
        AppRules {
            description: self.description,
            allowed_groups: if self.any_group {
                Some(vec![])
            } else {
                (!self.groups.is_empty()).then_some(self.groups)
            },
            allowed_networks: (!self.networks.is_empty()).then_some(self.networks),
            allowed_hours: (!self.hours.is_empty()).then_some(self.hours),
            time_zone: self.time_zone,
            require_certificate: self.require_certificate,
            max_auth_age_secs: self.max_auth_age,
            domain: self.domain,
        }
    }
}

#[derive(Subcommand, Debug)]
pub enum AppCommand {
    /// Register a forward-auth application for a host (--domain).
    Add {
        name: String,
        #[command(flatten)]
        rules: RuleFlags,
    },
    /// List applications (OIDC clients' and forward-auth sites).
    List,
    /// One application with its recent sign-ins.
    Show { name: String },
    /// Change an application's rules.
    Set {
        name: String,
        #[command(flatten)]
        rules: RuleFlags,
    },
    /// Remove an application (an OIDC client's goes with the client).
    Remove { name: String },
}

fn client_json(c: &OidcClient) -> serde_json::Value {
    json!({
        "name": c.application, "client_id": c.client_id, "public": c.is_public(),
        "alg": c.id_token_alg, "redirect_uris": c.redirect_uris,
        "post_logout_uris": c.post_logout_uris, "backchannel_logout_uri": c.backchannel_logout_uri,
        "scopes": c.scopes, "access_token_secs": c.access_token_secs,
        "refresh_token_secs": c.refresh_token_secs,
    })
}

pub async fn run_oidc(cmd: OidcCommand, data: DataConfig, out: Output) -> Result<(), CliError> {
    let instance = Instance::open(data).await?;
    let store = &instance.store;
    let now = instance.clock.now();
    let cmd = match cmd {
        OidcCommand::Client(c) => Some(*c),
        OidcCommand::RotateKey => None,
    };
    let result = match cmd {
        None => {
            let result = crate::jwt::rotate_keys(store, &instance.master_key, now).await;
            record_cli(store, Action::OidcRotateKey, "oidc", &result, "", now).await;
            let kids = result?;
            out.print(
                format!(
                    "new signing keys: {} (the old stay published for {} s)",
                    kids.join(", "),
                    crate::sso::KEY_KEEP_SECS
                ),
                json!({"kids": kids}),
            );
            Ok(())
        }
        Some(ClientCommand::Add {
            name,
            settings,
            public,
            rules,
        }) => {
            let result = clients::add_client(
                store,
                &name,
                public,
                &settings.settings(),
                &rules.rules(),
                now,
            )
            .await;
            record_cli(store, Action::OidcClientCreate, &name, &result, "", now).await;
            let made = result?;
            let secret = made.secret.as_ref().map(|s| s.to_string());
            let mut v = client_json(&made.client);
            v["client_secret"] = json!(secret);
            out.print(
                format!(
                    "client {name}\n  client_id:     {}\n  client_secret: {}\n(the secret is shown only now)",
                    made.client.client_id,
                    secret.as_deref().unwrap_or("(public client: none)")
                ),
                v,
            );
            Ok(())
        }
        Some(ClientCommand::Set {
            name,
            settings,
            rules,
        }) => {
            let result =
                clients::update_client(store, &name, &settings.settings(), &rules.rules(), now)
                    .await;
            record_cli(store, Action::OidcClientUpdate, &name, &result, "", now).await;
            let c = result?;
            out.print(format!("client {} changed", c.application), client_json(&c));
            Ok(())
        }
        Some(ClientCommand::List) => {
            let list = store.oidc_clients().await?;
            let text = list
                .iter()
                .map(|c| {
                    format!(
                        "{}\t{}\t{}\t{}",
                        c.application,
                        c.client_id,
                        if c.is_public() {
                            "public"
                        } else {
                            "confidential"
                        },
                        c.redirect_uris.join(" ")
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            out.print(
                text,
                json!(list.iter().map(client_json).collect::<Vec<_>>()),
            );
            Ok(())
        }
        Some(ClientCommand::Show { name }) => {
            let c = clients::find_client(store, &name).await?;
            let app = store.application(&c.application).await?;
            let mut v = client_json(&c);
            v["application"] = json!(app);
            out.print(serde_json::to_string_pretty(&v).unwrap_or_default(), v);
            Ok(())
        }
        Some(ClientCommand::Remove { name }) => {
            let c = clients::find_client(store, &name).await?;
            let result = store.delete_application(&c.application).await;
            record_cli(
                store,
                Action::AppDelete,
                &c.application,
                &result,
                "oidc client",
                now,
            )
            .await;
            result?;
            out.print(
                format!("client {} removed", c.application),
                json!({"removed": c.application}),
            );
            Ok(())
        }
    };
    store.close().await;
    result
}

pub async fn run_app(cmd: AppCommand, data: DataConfig, out: Output) -> Result<(), CliError> {
    let instance = Instance::open(data).await?;
    let store = &instance.store;
    let now = instance.clock.now();
    let result = match cmd {
        AppCommand::Add { name, rules } => {
            let result = clients::add_forward_app(store, &name, &rules.rules(), now).await;
            record_cli(
                store,
                Action::AppCreate,
                &name,
                &result,
                "forward_auth",
                now,
            )
            .await;
            let app = result?;
            out.print(
                format!(
                    "application {name} added for {}",
                    app.domain.as_deref().unwrap_or("")
                ),
                json!(app),
            );
            Ok(())
        }
        AppCommand::Set { name, rules } => {
            let result = clients::update_app(store, &name, &rules.rules(), now).await;
            record_cli(store, Action::AppUpdate, &name, &result, "", now).await;
            let app = result?;
            out.print(format!("application {name} changed"), json!(app));
            Ok(())
        }
        AppCommand::List => {
            let apps = store.applications().await?;
            let text = apps
                .iter()
                .map(|a| {
                    format!(
                        "{}\t{}\t{}\tgroups: {}",
                        a.name,
                        a.kind,
                        a.domain.as_deref().unwrap_or("-"),
                        if a.allowed_groups.is_empty() {
                            "any".to_string()
                        } else {
                            a.allowed_groups.join(",")
                        }
                    )
                })
                .collect::<Vec<_>>()
                .join("\n");
            out.print(text, json!(apps));
            Ok(())
        }
        AppCommand::Show { name } => {
            let app = store
                .application(&name)
                .await?
                .ok_or_else(|| CliError(format!("no application named {name:?}")))?;
            let recent = crate::sso::recent_sign_ins(store, &name, 20).await?;
            let v = json!({"application": app, "recent_sign_ins": recent});
            out.print(serde_json::to_string_pretty(&v).unwrap_or_default(), v);
            Ok(())
        }
        AppCommand::Remove { name } => {
            let result = store.delete_application(&name).await;
            record_cli(store, Action::AppDelete, &name, &result, "", now).await;
            if !result? {
                return Err(CliError(format!("no application named {name:?}")));
            }
            out.print(
                format!("application {name} removed"),
                json!({"removed": name}),
            );
            Ok(())
        }
    };
    store.close().await;
    result
}
