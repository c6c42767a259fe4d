//! `passgrid serve`: opens (or on first start creates) the installation, prints where
//! to go, and serves HTTPS (and optionally the HTTP redirect) until stopped.

use std::{path::Path, sync::Arc, time::Duration};

use leptos::config::LeptosOptions;
use rustls_pki_types::{pem::PemObject, CertificateDer, PrivateKeyDer};
use serde_json::json;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::{CliError, Output, ServeArgs};
use crate::{
    auth::{Authenticator, LoginGuards},
    ca::server_cert::server_names,
    cluster::{self, Membership},
    config::{serve_limits::effective_max_total, FileConfig, ServeConfig, ServeFlags},
    http::{AppState, Shared},
    instance::{DataConfig, Instance},
    metrics::Metrics,
    routes,
    tls::{
        connections::{ConnectionLimits, Connections},
        listener::{serve_plain, ListenerLimits},
        serve_tls,
        server_config::server_config,
    },
    web::{redirect, setup::issue_setup_token},
};

pub async fn run(
    args: ServeArgs,
    data: DataConfig,
    file: &FileConfig,
    out: Output,
) -> Result<(), CliError> {
    let site_root_given = args.site_root.is_some() || file.serve.site_root.is_some();
    let embedded_site = crate::web::site_files::use_embedded(site_root_given);
    let cfg = ServeConfig::resolve(
        ServeFlags {
            listen: args.listen,
            http_listen: args.http_listen,
            hostnames: args.hostnames,
            site_root: args.site_root,
            public_url: args.public_url,
            tls_cert: args.tls_cert,
            tls_key: args.tls_key,
        },
        &file.serve,
    )?;
    let auth = file.auth.settings()?;
    // A relay that is configured but unusable stops the start, like a bad certificate.
    let mailer = match file.mail.smtp_host {
        Some(_) => Some(Arc::new(crate::mail::Mailer::from_config(&file.mail)?)),
        None => None,
    };
    let instance = Instance::open(data).await?;
    let now = instance.clock.now();
    let guards = LoginGuards::new(&instance, &auth)?;

    let (chain, key) = match &cfg.tls_files {
        // A configured certificate that cannot be read stops the start: never fall
        // back silently to another certificate.
        Some((cert, key)) => load_tls_files(cert, key)?,
        None => {
            let identity = instance
                .ca
                .server_identity(
                    &instance.store,
                    &instance.master_key,
                    &server_names(&cfg.hostnames),
                    now,
                )
                .await?;
            (identity.chain, identity.key)
        }
    };
    // The RADIUS server's RadSec listener shows the same identity as HTTPS.
    let radsec_identity = (chain.clone(), key.clone_key());
    let tls = server_config(instance.ca.cert_der(), chain, key)?;

    let site_root = cfg.site_root.display().to_string();
    if !embedded_site && !cfg.site_root.join("pkg/assets.json").is_file() {
        tracing::warn!(site_root, "pkg/assets.json not found: pages will render but not hydrate (build with `cargo xtask build`)");
    }
    let leptos_options = LeptosOptions::builder()
        .output_name("passgrid")
        .site_root(site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(cfg.listen)
        .build();

    let listener = TcpListener::bind(cfg.listen)
        .await
        .map_err(|e| CliError(format!("cannot listen on {}: {e}", cfg.listen)))?;
    let local = listener.local_addr()?;
    let public_url = cfg.public_url(local);
    let metrics = Arc::new(Metrics::default());
    let listener_limits = ListenerLimits {
        handshake_timeout: cfg.handshake_timeout,
        header_read_timeout: Duration::from_secs(30),
    };
    let connections = Connections::new(connection_limits(&cfg));
    if let Some(addr) = cfg.http_listen {
        let plain = TcpListener::bind(addr)
            .await
            .map_err(|e| CliError(format!("cannot listen on {addr}: {e}")))?;
        let mut allowed = server_names(&cfg.hostnames);
        allowed.push(local.ip().to_string());
        let default_host = cfg
            .hostnames
            .first()
            .cloned()
            .unwrap_or_else(|| local.ip().to_string());
        tokio::spawn(serve_plain(
            plain,
            redirect::redirect_router(local.port(), allowed, default_host),
            listener_limits,
            connections.clone(),
            metrics.clone(),
        ));
    }

    let guards = Arc::new(guards);
    let authn = Authenticator {
        instance: instance.clone(),
        auth: Arc::new(auth),
        guards: guards.clone(),
        mailer,
        public_url: public_url.clone().into(),
        policies: Default::default(),
    };
    let radius = crate::radius::start(crate::radius::RadiusStart {
        authn: authn.clone(),
        file: &file.radius,
        metrics: metrics.clone(),
        ca_cert: instance.ca.cert_der().clone(),
        chain: radsec_identity.0,
        key: radsec_identity.1,
    })
    .await
    .map_err(|e| CliError(format!("RADIUS: {e}")))?;

    let setup_token = issue_setup_token(&instance.store, now).await?;
    let ca_pem = instance.data.ca_pem_path();
    let ca_pem = std::fs::canonicalize(&ca_pem).unwrap_or(ca_pem);
    let setup_link = setup_token
        .as_ref()
        .map(|t| format!("{}/setup/{}", public_url, t.as_str()));
    // The banner goes to stdout, not the log: it holds the one-time set-up link.
    if out.json {
        println!(
            "{}",
            json!({
                "event": "listening",
                "url": public_url,
                "listen": local.to_string(),
                "ca_pem": ca_pem,
                "first_start": instance.created.ca,
                "setup_link": setup_link,
                "radius": radius.auth.map(|a| a.to_string()),
                "radius_accounting": radius.accounting.map(|a| a.to_string()),
                "radsec": radius.radsec.map(|a| a.to_string()),
            })
        );
    } else {
        println!("passgrid is listening on {local}");
        println!("  open:        {}/", public_url);
        println!("  trust the CA certificate in {}", ca_pem.display());
        if instance.created.ca {
            println!(
                "  (created now: master key, root CA \"{}\", TLS certificate)",
                instance.ca.subject()
            );
        }
        if let Some(addr) = radius.auth {
            println!("  RADIUS:      {addr} (udp)");
        }
        if let Some(addr) = radius.accounting {
            println!("  accounting:  {addr} (udp)");
        }
        if let Some(addr) = radius.radsec {
            println!("  RadSec:      {addr} (tls)");
        }
        if let Some(link) = &setup_link {
            println!("  create the first administrator (one-time link, valid 24 h):");
            println!("    {link}");
        }
    }

    let sso = crate::sso::Provider::start(&instance, &public_url, &file.forward_auth)
        .await
        .map_err(|e| CliError(format!("single sign-on: {e}")))?;
    let me = Arc::new(Membership::new(
        format!("{} {local}", host_name()),
        instance.clock.now(),
    )?);
    let saml = crate::saml_idp::IdentityProvider::start(&instance, &public_url)
        .await
        .map_err(|e| CliError(format!("SAML identity provider: {e}")))?;
    let state = AppState::new(Shared {
        authn,
        metrics,
        radius_enabled: radius.auth.is_some() || radius.radsec.is_some(),
        leptos_options,
        proxy: cfg.proxy.clone(),
        bulk_jobs: crate::bulk_certificates::BulkJobs::new(&me.id),
        sso: Arc::new(sso),
        metrics_access: cfg.metrics_access.clone(),
        saml: Arc::new(saml),
    });
    tokio::spawn(cluster::run(instance.clone(), me.clone(), guards));
    tokio::spawn(prune_rate_limits(state.authn.clone()));
    tokio::spawn(purge_expired(instance.clone(), me.clone()));
    tokio::spawn(seal_audit_log(instance.clone()));
    let notices = state.sync_notices();
    tokio::spawn(crate::sync::schedule::run_schedule(
        instance.clone(),
        state.auth.clone(),
        notices,
        me.clone(),
    ));
    let metrics = state.metrics.clone();
    let router = routes::router(state, cfg.max_body_bytes, embedded_site);
    serve_tls(
        listener,
        TlsAcceptor::from(tls),
        router,
        listener_limits,
        connections,
        metrics,
        shutdown_signal(),
        Duration::from_secs(10),
    )
    .await;
    // The others take this server's scheduled jobs over at once instead of after its
    // leases run out.
    cluster::leave(&instance, &me).await;
    instance.store.close().await;
    Ok(())
}

/// This machine's name, for the list of servers.
fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown".into())
}

/// The connection limits of `[serve]`, the total fitted to the file descriptors this
/// process may open (raised to the hard limit first: every connection takes one).
fn connection_limits(cfg: &ServeConfig) -> ConnectionLimits {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current < limit.maximum {
        let raised = Rlimit {
            current: limit.maximum,
            maximum: limit.maximum,
        };
        if let Err(err) = setrlimit(Resource::Nofile, raised) {
            tracing::debug!(error = %err, "could not raise the open-file limit");
        }
    }
    let files = getrlimit(Resource::Nofile).current;
    let c = &cfg.connections;
    let max_total = effective_max_total(c.max_total, files);
    if c.max_total.is_some_and(|m| m > max_total) {
        tracing::warn!(
            configured = c.max_total,
            max_total,
            "[serve] max_connections lowered to fit the open-file limit"
        );
    }
    ConnectionLimits {
        max_total,
        max_per_source: c.max_per_source,
        first_request_timeout: c.first_request_timeout,
        idle_timeout: c.idle_timeout,
        // A trusted proxy carries many clients over its own connections.
        exempt: cfg
            .proxy
            .as_ref()
            .map(|p| p.trusted.clone())
            .unwrap_or_default(),
    }
}

fn load_tls_files(
    cert: &Path,
    key: &Path,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), CliError> {
    let chain = CertificateDer::pem_file_iter(cert)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| CliError(format!("--tls-cert {}: {e:?}", cert.display())))?;
    if chain.is_empty() {
        return Err(CliError(format!(
            "--tls-cert {}: no certificate in the file",
            cert.display()
        )));
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| CliError(format!("--tls-key {}: {e:?}", key.display())))?;
    Ok((chain, key))
}

/// Minute-by-minute upkeep: expired challenges and sessions go, and the CRL is
/// renewed before its nextUpdate even when nobody downloads it. In a cluster, one
/// server does each (the holder of its lease, see `cluster`).
async fn purge_expired(instance: Instance, me: Arc<Membership>) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        let now = instance.clock.now();
        if me.holds(cluster::CRL_JOB) {
            if let Err(err) = instance.ca.crl(&instance.store, now).await {
                tracing::warn!(error = %err, "renewing the CRL failed");
            }
        }
        if !me.holds(cluster::PURGE_JOB) {
            continue;
        }
        if let Err(err) = crate::delivery::expire_pickups(&instance, now).await {
            tracing::warn!(error = %err, "expiring certificate pickups failed");
        }
        if let Err(err) = instance.store.purge_challenges(now, 3600).await {
            tracing::warn!(error = %err, "purging challenges failed");
        }
        if let Err(err) = instance.store.purge_sessions(now).await {
            tracing::warn!(error = %err, "purging sessions failed");
        }
        if let Err(err) = crate::sso::purge_expired(&instance.store, now).await {
            tracing::warn!(error = %err, "purging single sign-on codes and tokens failed");
        }
        if let Err(err) = instance.store.purge_radius_web_grids(now).await {
            tracing::warn!(error = %err, "purging VPN grids failed");
        }
        if let Err(err) = crate::saml_idp::purge_expired(&instance.store, now).await {
            tracing::warn!(error = %err, "purging SAML requests failed");
        }
        if let Err(err) = instance.store.purge_reset_tokens(now - 24 * 3600).await {
            tracing::warn!(error = %err, "purging reset links failed");
        }
        // A day without failures forgets the count (locks stay until they run out).
        if let Err(err) = instance
            .store
            .purge_login_failures(now - 24 * 3600, now)
            .await
        {
            tracing::warn!(error = %err, "purging login failure counts failed");
        }
    }
}

/// Forgets rate-limit keys whose buckets are full again, so memory follows the
/// traffic of the last minutes only, and writes the minute's summary audit rows of
/// rate-limited attempts.
async fn prune_rate_limits(authn: Authenticator) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        authn
            .guards
            .rate_limits
            .prune(authn.instance.clock.now_ms());
        crate::auth::login::audit_refusal_summaries(&authn).await;
    }
}

/// Links new audit entries into the hash chain every second (SPEC §12). One sealer
/// at a time per database (see `store::audit`); a failed pass is retried on the next.
async fn seal_audit_log(instance: Instance) {
    let key = crate::audit::chain::ChainKey::from_master(&instance.master_key);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    loop {
        tick.tick().await;
        if let Err(err) = crate::audit::chain::seal_pending(&instance.store, &key).await {
            tracing::warn!(error = %err, "sealing the audit log failed");
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(_) => {
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {},
            _ = term.recv() => {},
        }
    }
    #[cfg(not(unix))]
    {
        let _ = ctrl_c.await;
    }
    tracing::info!("shutting down");
}
