//! The command line (SPEC §13): one binary, subcommands, `--json` output, one-line
//! errors on stderr with a non-zero exit status.

pub mod admin;
pub mod audit;
pub mod backup;
pub mod ca;
pub mod cert;
pub mod group;
pub mod oidc;
pub mod policy;
pub mod radius;
pub mod saml;
pub mod serve;
pub mod sync;
pub mod token;
pub mod user;

use std::{net::SocketAddr, path::PathBuf};

use clap::{Args, Parser, Subcommand};
use serde_json::Value;

use crate::{
    config::{FileConfig, LogFormat},
    instance::DataConfig,
};

#[derive(Parser, Debug)]
#[command(
    name = "passgrid",
    version,
    about = "Deviceless one-time passwords and a private CA for client certificates"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Args, Debug, Clone)]
pub struct GlobalArgs {
    /// TOML configuration file.
    #[arg(long, global = true, env = "PASSGRID_CONFIG")]
    pub config: Option<PathBuf>,
    /// Data directory: SQLite file, master key, ca.pem (default ./data).
    #[arg(long, global = true, env = "PASSGRID_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    /// sqlite://… or postgres://… (default sqlite://DATA_DIR/passgrid.db).
    #[arg(
        long,
        global = true,
        env = "PASSGRID_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Machine-readable output.
    #[arg(long, global = true, env = "PASSGRID_JSON")]
    pub json: bool,
    /// Log format on stderr.
    #[arg(long, global = true, value_enum, env = "PASSGRID_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,
    /// Log filter, e.g. `info` or `passgrid=debug`.
    #[arg(long, global = true, env = "PASSGRID_LOG_LEVEL")]
    pub log_level: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the HTTPS server.
    Serve(ServeArgs),
    /// Administrators.
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Users.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Client certificates.
    #[command(subcommand)]
    Cert(cert::CertCommand),
    /// The certificate authority.
    #[command(subcommand)]
    Ca(ca::CaCommand),
    /// Groups.
    #[command(subcommand)]
    Group(group::GroupCommand),
    /// Policies.
    #[command(subcommand)]
    Policy(policy::PolicyCommand),
    /// Hardware and software tokens.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// LDAP / Active Directory and CSV folder sync.
    #[command(subcommand)]
    Sync(sync::SyncCommand),
    /// OpenID Connect clients and signing keys.
    #[command(subcommand)]
    Oidc(oidc::OidcCommand),
    /// Applications (OIDC clients, forward-auth sites) and their access rules.
    #[command(subcommand)]
    App(oidc::AppCommand),
    /// A consistent copy of a live SQLite installation (PostgreSQL: says what to use).
    Backup(backup::BackupArgs),
    /// Put a backup back (SQLite; the master key must be in place).
    Restore(backup::RestoreArgs),
    /// RADIUS clients (NAS devices) and reply attributes.
    #[command(subcommand)]
    Radius(radius::RadiusCommand),
    /// The SAML 2.0 identity provider: service providers and the signing key.
    #[command(subcommand)]
    Saml(saml::SamlCommand),
}

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// HTTPS address.
    #[arg(long, env = "PASSGRID_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Plain-HTTP address that only redirects to HTTPS.
    #[arg(long, env = "PASSGRID_HTTP_LISTEN")]
    pub http_listen: Option<SocketAddr>,
    /// A host name (or IP) the TLS certificate must cover; repeatable.
    #[arg(long = "hostname", env = "PASSGRID_HOSTNAMES", value_delimiter = ',')]
    pub hostnames: Vec<String>,
    /// The URL users reach passgrid at (default https://FIRST-HOSTNAME:PORT).
    #[arg(long, env = "PASSGRID_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Directory holding pkg/ (the WASM, JS and CSS).
    #[arg(long, env = "PASSGRID_SITE_ROOT")]
    pub site_root: Option<PathBuf>,
    /// Serve this certificate chain (PEM) instead of one from passgrid's CA.
    #[arg(long, env = "PASSGRID_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key (PEM) for --tls-cert.
    #[arg(long, env = "PASSGRID_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// A command's failure: printed as one line.
#[derive(Debug)]
pub struct CliError(pub String);

impl<E: std::fmt::Display> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError(e.to_string())
    }
}

/// Prints results in the chosen format.
#[derive(Clone, Copy)]
pub struct Output {
    pub json: bool,
}

impl Output {
    pub fn print(&self, human: impl std::fmt::Display, json: Value) {
        if self.json {
            println!("{json}");
        } else {
            println!("{human}");
        }
    }
}

/// Resolves the data settings shared by every data-touching subcommand.
pub fn data_config(global: &GlobalArgs, file: &FileConfig) -> DataConfig {
    crate::config::data_config(global.data_dir.clone(), global.database_url.clone(), file)
}

/// Runs the parsed command line.
pub async fn run(cli: Cli, file: FileConfig) -> Result<(), CliError> {
    let out = Output {
        json: cli.global.json,
    };
    let data = data_config(&cli.global, &file);
    match cli.command {
        Command::Serve(args) => serve::run(args, data, &file, out).await,
        Command::Admin(cmd) => admin::run(cmd, data, &file, out).await,
        Command::User(cmd) => user::run(cmd, data, out).await,
        Command::Cert(cmd) => cert::run(cmd, data, &file, out).await,
        Command::Ca(cmd) => ca::run(cmd, data, out).await,
        Command::Group(cmd) => group::run(cmd, data, out).await,
        Command::Policy(cmd) => policy::run(cmd, data, &file, out).await,
        Command::Token(cmd) => token::run(cmd, data, out).await,
        Command::Audit(cmd) => audit::run(cmd, data, out).await,
        Command::Sync(cmd) => sync::run(cmd, data, &file, out).await,
        Command::Oidc(cmd) => oidc::run_oidc(cmd, data, out).await,
        Command::App(cmd) => oidc::run_app(cmd, data, out).await,
        Command::Backup(args) => backup::backup(args, data, out).await,
        Command::Restore(args) => backup::restore(args, data, out).await,
        Command::Radius(cmd) => radius::run(cmd, data, out).await,
        Command::Saml(cmd) => saml::run(cmd, data, &file, out).await,
    }
}
