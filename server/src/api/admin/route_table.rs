//! The permission table: every administrators' route with the permission it needs,
//! its summary and its query parameters. The route layer (`access`) enforces it before
//! any handler runs, and `/api/openapi.json` is generated from it, so what is
//! documented, what is checked and what is served cannot drift apart.

use super::access::Permission;

/// One route of the API, as documented.
pub struct ApiRoute {
    pub method: &'static str,
    pub path: &'static str,
    /// `None` for the public routes.
    pub permission: Option<Permission>,
    pub summary: &'static str,
    /// Query parameters, documented.
    pub query: &'static [(&'static str, &'static str)],
    /// The account the route acts on, when its path names one: the route layer lets
    /// an administrator through only to accounts below its role.
    pub target: Target,
}

/// Which account a route acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// None, or only reads what any administrator may read.
    Nobody,
    /// The user named by the path parameter `{id}`.
    UserInPath,
    /// The holder of the certificate named by the path parameter `{serial}`.
    CertificateHolder,
}

/// The administrators' routes.
pub const ROUTES: &[ApiRoute] = &[
    ApiRoute {
        method: "get",
        path: "/api/v1/admin/users",
        permission: Some(Permission::ReadUsers),
        summary: "List users: search, filters, keyset paging (next = the last ID)",
        query: &[
            ("q", "part of the ID, name or mail address"),
            ("group", "a group name"),
            ("status", "active or disabled"),
            (
                "source",
                "local, csv, ldap (all LDAP sources) or e.g. ldap:corp",
            ),
            ("cert", "valid: holds a valid certificate; none: holds none"),
            ("after", "start after this user ID"),
            ("limit", "1 to 500 (default 50)"),
        ],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "get",
        path: "/api/v1/admin/user-counts",
        permission: Some(Permission::ReadUsers),
        summary: "How many users the list's filters match: {total, administrators, includes_self} (the caller among them)",
        query: &[
            ("q", "part of the ID, name or mail address"),
            ("group", "a group name"),
            ("status", "active or disabled"),
            ("source", "local, csv, ldap or e.g. ldap:corp"),
            ("cert", "valid or none"),
        ],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "post",
        path: "/api/v1/admin/users",
        permission: Some(Permission::WriteUsers),
        summary: "Create a user {id, name, email, groups}; returns the initial pattern once",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "post",
        path: "/api/v1/admin/user-imports",
        permission: Some(Permission::WriteUsers),
        summary: "Import users from CSV (the body): all rows or none, the bad line named",
        query: &[
            ("dry_run", "true: report adds and changes, change nothing"),
            ("encoding", "utf-8 (default) or shift_jis"),
        ],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "get",
        path: "/api/v1/admin/user-exports",
        permission: Some(Permission::ReadUsers),
        summary: "Export the users the filters select as CSV (UTF-8 with BOM; formula cells neutralised)",
        query: &[
            ("q", "part of the ID, name or mail address"),
            ("group", "a group name"),
            ("status", "active or disabled"),
            ("source", "local, csv, ldap or e.g. ldap:corp"),
            ("cert", "valid or none"),
        ],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "patch",
        path: "/api/v1/admin/users/{id}",
        permission: Some(Permission::WriteUsers),
        summary: "Change a user: name, email (null clears), status (active|disabled), groups",
        query: &[],
        target: Target::UserInPath,
    },
    ApiRoute {
        method: "post",
        path: "/api/v1/admin/groups",
        permission: Some(Permission::WriteUsers),
        summary: "Create a group {name, description}",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "get",
        path: "/api/v1/admin/users/{id}",
        permission: Some(Permission::ReadUsers),
        summary: "One user: groups, lock-out state, token and certificates",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "post",
        path: "/api/v1/admin/users/{id}/unlock",
        permission: Some(Permission::Operate),
        summary: "Lift a lock-out",
        query: &[],
        target: Target::UserInPath,
    },
    ApiRoute {
        method: "post",
        path: "/api/v1/admin/users/{id}/initial-pattern",
        permission: Some(Permission::Operate),
        summary: "Hand out a new initial pattern (returned once; the user must replace it)",
        query: &[],
        target: Target::UserInPath,
    },
    ApiRoute {
        method: "delete",
        path: "/api/v1/admin/users/{id}",
        permission: Some(Permission::WriteUsers),
        summary: "Delete a user",
        query: &[],
        target: Target::UserInPath,
    },
    ApiRoute {
        method: "patch",
        path: "/api/v1/admin/groups/{group}",
        permission: Some(Permission::WriteUsers),
        summary: "Change a group's description {description}",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "delete",
        path: "/api/v1/admin/groups/{group}",
        permission: Some(Permission::WriteUsers),
        summary: "Delete a group (its members stay; they lose it and its policy)",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "get",
        path: "/api/v1/admin/groups",
        permission: Some(Permission::ReadUsers),
        summary: "Groups with their member counts",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "get",
        path: "/api/v1/admin/audit",
        permission: Some(Permission::ReadAudit),
        summary: "The audit log, newest first; format=csv exports",
        query: &[
            ("actor", "who acted"),
            ("action", "an action, or a family ending in '.' (auth.)"),
            ("target", "what was acted on"),
            ("outcome", "success or failure"),
            ("since", "Unix seconds, inclusive"),
            ("until", "Unix seconds, exclusive"),
            ("before", "entries older than this id (paging)"),
            ("limit", "1 to 1000 (default 100; CSV up to 100000)"),
            ("format", "json (default) or csv"),
        ],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "get",
        path: "/api/v1/admin/dashboard",
        permission: Some(Permission::ReadUsers),
        summary:
            "Logins and failures per hour (24 h), locked users, certificates expiring in 30 days",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "get",
        path: "/api/v1/admin/servers",
        permission: Some(Permission::ReadUsers),
        summary: "The servers sharing the database: version, start, last heartbeat, live, the scheduled jobs each runs; and the database host in use",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "get",
        path: "/api/v1/admin/sync",
        permission: Some(Permission::Admin),
        summary: "Sync sources (LDAP, CSV folders) with their last runs and reports",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "post",
        path: "/api/v1/admin/sync",
        permission: Some(Permission::Admin),
        summary: "Add a sync source {name, kind: ldap|csv, interval, url, starttls, ca_pem, bind_dn, bind_password, base, filter, map, group_attr | folder, encoding}",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "patch",
        path: "/api/v1/admin/sync/{name}",
        permission: Some(Permission::Admin),
        summary: "Change a sync source {filter, base (LDAP), interval, max_disable_percent}",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "post",
        path: "/api/v1/admin/sync/{name}/run",
        permission: Some(Permission::Admin),
        summary: "Run a sync source now; dry_run=true only reports",
        query: &[("dry_run", "true: report what would change, change nothing")],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "post",
        path: "/api/v1/admin/cert-jobs",
        permission: Some(Permission::WriteUsers),
        summary: "Start a bulk certificate job {action: issue|revoke|delete|mail|print, users: [..] | filter: {q, group, status, source, cert}, encoding}; per user all or nothing",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "post",
        path: "/api/v1/admin/certificates/{serial}/revoke",
        permission: Some(Permission::WriteUsers),
        summary: "Revoke one certificate and publish the CRL",
        query: &[],
        target: Target::CertificateHolder,
    },
    ApiRoute {
        method: "get",
        path: "/api/v1/admin/api-tokens",
        permission: Some(Permission::Admin),
        summary: "Administrators' API tokens: prefix, administrator, name, expiry, last use (never a token)",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "post",
        path: "/api/v1/admin/api-tokens",
        permission: Some(Permission::Admin),
        summary: "Make an API token {admin, name, days (1-3650, default 90)}; the token is in the answer, once",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "delete",
        path: "/api/v1/admin/api-tokens/{prefix}",
        permission: Some(Permission::Admin),
        summary: "Revoke an API token",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "get",
        path: "/api/v1/admin/tokens",
        permission: Some(Permission::ReadUsers),
        summary: "TOTP tokens (never their seeds): serial, kind, user, algorithm, digits, period",
        query: &[("user", "only this user's")],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "post",
        path: "/api/v1/admin/token-imports",
        permission: Some(Permission::Admin),
        summary: "Import hardware tokens from the vendor's file (the body: CSV or PSKC; an encrypted PSKC's key in X-PSKC-Key, hex); all or none",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "post",
        path: "/api/v1/admin/tokens/{serial}/assign",
        permission: Some(Permission::WriteUsers),
        summary: "Give a hardware token to a user {user} (replacing the user's token)",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "post",
        path: "/api/v1/admin/users/{id}/token/reset",
        permission: Some(Permission::Operate),
        summary: "Take the user's token away (software: deleted; hardware: unassigned); the user enrols again",
        query: &[],
        target: Target::UserInPath,
    },
    ApiRoute {
        method: "get",
        path: "/api/v1/admin/cert-jobs/{id}",
        permission: Some(Permission::WriteUsers),
        summary: "A bulk job's progress and per-user results (the administrator who started it)",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "get",
        path: "/api/v1/admin/cert-jobs/{id}/download",
        permission: Some(Permission::WriteUsers),
        summary: "A finished job's file: certificates.zip (PKCS#12 + password sheet) or notices.html",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "get",
        path: "/api/v1/admin/policies",
        permission: Some(Permission::ReadUsers),
        summary: "Policies with their groups (and priorities) and how many keys each sets",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "get",
        path: "/api/v1/admin/policies/{name}",
        permission: Some(Permission::ReadUsers),
        summary: "One policy: every key as it takes effect, set here or inherited",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "put",
        path: "/api/v1/admin/policies/{name}",
        permission: Some(Permission::Admin),
        summary: "Set keys {settings: {key: value or null}} (creates the policy); all or nothing",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "delete",
        path: "/api/v1/admin/policies/{name}",
        permission: Some(Permission::Admin),
        summary: "Delete a policy and its group attachments (not default)",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "put",
        path: "/api/v1/admin/policies/{name}/groups/{group}",
        permission: Some(Permission::Admin),
        summary: "Attach a policy to a group {priority} (higher wins), or change the priority",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "delete",
        path: "/api/v1/admin/policies/{name}/groups/{group}",
        permission: Some(Permission::Admin),
        summary: "Detach a policy from a group",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "get",
        path: "/api/v1/admin/users/{id}/policy",
        permission: Some(Permission::ReadUsers),
        summary: "A user's effective policy, why it applies, and its settings",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "get",
        path: "/api/v1/admin/applications",
        permission: Some(Permission::Admin),
        summary: "Applications (OIDC clients, forward-auth sites) with their access rules and clients",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "post",
        path: "/api/v1/admin/applications",
        permission: Some(Permission::Admin),
        summary: "Add a forward-auth application {name, domain, allowed_groups, allowed_networks, allowed_hours, time_zone, require_certificate, max_auth_age_secs, description}",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "get",
        path: "/api/v1/admin/applications/{name}",
        permission: Some(Permission::Admin),
        summary: "One application: rules, OIDC client and recent sign-ins",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "patch",
        path: "/api/v1/admin/applications/{name}",
        permission: Some(Permission::Admin),
        summary: "Change an application's rules (the fields of POST; absent ones stay)",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "delete",
        path: "/api/v1/admin/applications/{name}",
        permission: Some(Permission::Admin),
        summary: "Remove an application (an OIDC client's codes and tokens go with it)",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "post",
        path: "/api/v1/admin/oidc-clients",
        permission: Some(Permission::Admin),
        summary: "Register an OIDC client {name, public, redirect_uris, post_logout_uris, backchannel_logout_uri, alg, scopes, access_token_secs, refresh_token_secs, rules}; the secret is in the answer, once",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "patch",
        path: "/api/v1/admin/oidc-clients/{name}",
        permission: Some(Permission::Admin),
        summary: "Change an OIDC client (the fields of POST but name and public; absent ones stay)",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "get",
        path: "/api/v1/admin/radius/clients",
        permission: Some(Permission::Admin),
        summary: "RADIUS clients (NAS devices; never their secrets) with their rules and RadSec certificates, and the reply attributes per group",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "post",
        path: "/api/v1/admin/radius/clients",
        permission: Some(Permission::Admin),
        summary: "Add a RADIUS client {name, address (IP or CIDR), secret (16-128 characters; absent: RadSec only), require_message_authenticator (default true), allowed_groups, description}; the secret is sealed at once and never shown again",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "delete",
        path: "/api/v1/admin/radius/clients/{name}",
        permission: Some(Permission::Admin),
        summary: "Remove a RADIUS client and its application (its RadSec certificates are revoked)",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "post",
        path: "/api/v1/admin/radius/clients/{name}/certificate",
        permission: Some(Permission::Admin),
        summary: "Issue a RadSec client certificate for a RADIUS client from its CSR {csr (PEM), days}: {serial, certificate}",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "put",
        path: "/api/v1/admin/radius/replies/{group}",
        permission: Some(Permission::Admin),
        summary: "Set the reply attributes an Access-Accept carries for members of a group {attributes: [\"Filter-Id=staff\", \"Cisco-AVPair=shell:priv-lvl=15\", …]} (empty: none)",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "get",
        path: "/api/v1/admin/saml-sps",
        permission: Some(Permission::Admin),
        summary: "SAML service providers (entity ID, NameID, attributes, signing, encryption, preset) and the IdP's entity ID",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "post",
        path: "/api/v1/admin/saml-sps",
        permission: Some(Permission::Admin),
        summary: "Register a SAML SP {name, metadata_xml | metadata_url | preset (microsoft365, google-workspace) with domain, name_id, name_id_format, attributes [NAME=FIELD], sign, encrypt, require_signed_requests, rules}; a preset's set-up steps are in the answer",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "get",
        path: "/api/v1/admin/saml-sps/{name}",
        permission: Some(Permission::Admin),
        summary: "One SAML SP: settings, application rules, recent sign-ins, set-up steps",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "patch",
        path: "/api/v1/admin/saml-sps/{name}",
        permission: Some(Permission::Admin),
        summary: "Change a SAML SP (the fields of POST but name and preset; absent ones stay)",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "post",
        path: "/api/v1/admin/saml-sps/{name}/refresh",
        permission: Some(Permission::Admin),
        summary: "Fetch a SAML SP's metadata again from the URL it was registered with",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "get",
        path: "/api/v1/admin/saml-keys",
        permission: Some(Permission::Admin),
        summary: "The SAML signing keys (in use, retired) with certificate fingerprints",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "post",
        path: "/api/v1/admin/saml-keys/rotate",
        permission: Some(Permission::Admin),
        summary: "A new SAML signing key; the old certificate stays in the metadata until dropped",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "post",
        path: "/api/v1/admin/saml-keys/drop-retired",
        permission: Some(Permission::Admin),
        summary: "Drop retired SAML signing keys (their certificates leave the metadata)",
        query: &[],
        target: Target::Nobody,
    },
];

/// The route `method path` (`path` as routed, with `{param}`s), if it is declared.
pub fn route_of(method: &str, path: &str) -> Option<&'static ApiRoute> {
    ROUTES
        .iter()
        .find(|r| r.method.eq_ignore_ascii_case(method) && r.path == path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_admin_route_names_a_permission() {
        for r in ROUTES {
            assert!(r.permission.is_some(), "{} {}", r.method, r.path);
            assert!(r.path.starts_with("/api/v1/admin/"));
        }
        assert_eq!(
            route_of("GET", "/api/v1/admin/audit").and_then(|r| r.permission),
            Some(Permission::ReadAudit)
        );
        assert!(route_of("get", "/api/v1/admin/nothing").is_none());
    }
}
