//! The audit log (SPEC §12): every authentication attempt and every administrative
//! action goes through [`record`], with an [`Action`] whose name is what the log
//! stores. `chain` seals the entries into a tamper-evident chain.

pub mod chain;

use crate::store::{audit::AuditInsert, Store};

/// What was done. The names are stored and filtered on: never rename one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    AuthLogin,
    AuthRefused,
    AuthLockout,
    AuthDevice,
    AuthGrid,
    AuthLoginWindow,
    AuthResetRequest,
    AuthReset,
    UserCreate,
    UserUpdate,
    UserDelete,
    UserUnlock,
    UserSetPattern,
    UserPatternRegister,
    UserInitialPattern,
    UserImport,
    UserExport,
    AdminCreate,
    AdminCreateFirst,
    AdminTokenCreate,
    AdminTokenRevoke,
    GroupCreate,
    GroupUpdate,
    GroupDelete,
    PolicySet,
    PolicyAttach,
    PolicyDetach,
    PolicyDelete,
    CertIssueP12,
    CertIssueCsr,
    CertAutoIssue,
    CertDownload,
    CertRevoke,
    CertDelete,
    CertMail,
    CertPrint,
    CertBulk,
    CertBulkDownload,
    CaImport,
    TokenImport,
    TokenAssign,
    TokenReset,
    TokenEnrol,
    PhraseSet,
    ProxyClientCert,
    SyncAdd,
    SyncSet,
    SyncRun,
    SyncStart,
    OidcAuthorize,
    OidcToken,
    OidcRefresh,
    OidcRefreshReuse,
    OidcCodeReuse,
    OidcRevoke,
    OidcLogout,
    OidcBackchannel,
    OidcRefused,
    OidcRotateKey,
    OidcClientCreate,
    OidcClientUpdate,
    ForwardAuthSignin,
    ForwardAuthRefused,
    AppCreate,
    AppUpdate,
    AppDelete,
    RadiusAccept,
    RadiusRefused,
    RadiusAccounting,
    RadiusWebGrid,
    RadiusClientCreate,
    RadiusClientDelete,
    RadiusClientCert,
    RadiusReplySet,
    SamlRequest,
    SamlAssertion,
    SamlRefused,
    SamlLogout,
    SamlRotateKey,
    SamlDropKeys,
    SamlSpCreate,
    SamlSpUpdate,
}

impl Action {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        use Action::*;
        match self {
            AuthLogin => "auth.login",
            AuthRefused => "auth.refused",
            AuthLockout => "auth.lockout",
            AuthDevice => "auth.device",
            AuthGrid => "auth.grid",
            AuthLoginWindow => "auth.login_window",
            AuthResetRequest => "auth.reset_request",
            AuthReset => "auth.reset",
            UserCreate => "user.create",
            UserUpdate => "user.update",
            UserDelete => "user.delete",
            UserUnlock => "user.unlock",
            UserSetPattern => "user.set_pattern",
            UserPatternRegister => "user.pattern_register",
            UserInitialPattern => "user.initial_pattern",
            UserImport => "user.import",
            UserExport => "user.export",
            AdminCreate => "admin.create",
            AdminCreateFirst => "admin.create_first",
            AdminTokenCreate => "admin.token_create",
            AdminTokenRevoke => "admin.token_revoke",
            GroupCreate => "group.create",
            GroupUpdate => "group.update",
            GroupDelete => "group.delete",
            PolicySet => "policy.set",
            PolicyAttach => "policy.attach",
            PolicyDetach => "policy.detach",
            PolicyDelete => "policy.delete",
            CertIssueP12 => "cert.issue_p12",
            CertIssueCsr => "cert.issue_csr",
            CertAutoIssue => "cert.auto_issue",
            CertDownload => "cert.download",
            CertRevoke => "cert.revoke",
            CertDelete => "cert.delete",
            CertMail => "cert.mail",
            CertPrint => "cert.print",
            CertBulk => "cert.bulk",
            CertBulkDownload => "cert.bulk_download",
            CaImport => "ca.import",
            TokenImport => "token.import",
            TokenAssign => "token.assign",
            TokenReset => "token.reset",
            TokenEnrol => "token.enrol",
            PhraseSet => "phrase.set",
            ProxyClientCert => "proxy.client_cert",
            SyncAdd => "sync.add",
            SyncSet => "sync.set",
            SyncRun => "sync.run",
            SyncStart => "sync.start",
            OidcAuthorize => "oidc.authorize",
            OidcToken => "oidc.token",
            OidcRefresh => "oidc.refresh",
            OidcRefreshReuse => "oidc.refresh_reuse",
            OidcCodeReuse => "oidc.code_reuse",
            OidcRevoke => "oidc.revoke",
            OidcLogout => "oidc.logout",
            OidcBackchannel => "oidc.backchannel_logout",
            OidcRefused => "oidc.refused",
            OidcRotateKey => "oidc.rotate_key",
            OidcClientCreate => "oidc.client_create",
            OidcClientUpdate => "oidc.client_update",
            ForwardAuthSignin => "forward_auth.signin",
            ForwardAuthRefused => "forward_auth.refused",
            AppCreate => "app.create",
            AppUpdate => "app.update",
            AppDelete => "app.delete",
            RadiusAccept => "radius.accept",
            RadiusRefused => "radius.refused",
            RadiusAccounting => "radius.accounting",
            RadiusWebGrid => "radius.web_grid",
            RadiusClientCreate => "radius.client_create",
            RadiusClientDelete => "radius.client_delete",
            RadiusClientCert => "radius.client_cert",
            RadiusReplySet => "radius.reply_set",
            SamlRequest => "saml.request",
            SamlAssertion => "saml.assertion",
            SamlRefused => "saml.refused",
            SamlLogout => "saml.logout",
            SamlRotateKey => "saml.rotate_key",
            SamlDropKeys => "saml.drop_keys",
            SamlSpCreate => "saml.sp_create",
            SamlSpUpdate => "saml.sp_update",
        }
    }
}

/// How it ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Failure,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Success => "success",
            Outcome::Failure => "failure",
        }
    }

    /// Success for `Ok`, failure for `Err`.
    pub fn of<T, E>(result: &Result<T, E>) -> Outcome {
        if result.is_ok() {
            Outcome::Success
        } else {
            Outcome::Failure
        }
    }
}

/// One entry: who (`actor`, from `source`) did `action` to `target`, how it ended and
/// why.
#[derive(Clone, Copy, Debug)]
pub struct AuditEvent<'a> {
    pub actor: &'a str,
    pub source: &'a str,
    pub action: Action,
    pub target: &'a str,
    pub outcome: Outcome,
    pub reason: &'a str,
}

impl AuditEvent<'_> {
    /// The row to store.
    pub fn as_insert(&self) -> AuditInsert<'_> {
        AuditInsert {
            actor: self.actor,
            source: self.source,
            action: self.action.as_str(),
            target: self.target,
            outcome: self.outcome.as_str(),
            reason: self.reason,
        }
    }
}

/// Writes an audit entry; a failure to audit is logged loudly but does not undo the
/// action that already happened.
pub async fn record(store: &Store, event: AuditEvent<'_>, now: i64) {
    let row = event.as_insert();
    if let Err(err) = store.append_audit(&row, now).await {
        tracing::error!(error = %err, action = row.action, "could not write the audit log");
    }
}

/// Records an action of the command line: success with `reason`, or failure with the
/// error's text.
pub async fn record_cli<T, E: std::fmt::Display>(
    store: &Store,
    action: Action,
    target: &str,
    result: &Result<T, E>,
    reason: &str,
    now: i64,
) {
    let reason = match result {
        Ok(_) => reason.to_string(),
        Err(err) => err.to_string(),
    };
    let event = AuditEvent {
        actor: "cli",
        source: "local",
        action,
        target,
        outcome: Outcome::of(result),
        reason: &reason,
    };
    record(store, event, now).await;
}
