//! `/api/openapi.json`: the OpenAPI 3.1 document, generated from the route tables.

use axum::{response::IntoResponse, Json};
use serde_json::{json, Map, Value};

use super::route_table::{ApiRoute, Target, ROUTES};

/// The public routes (SPEC §14), documented like the administrators' ones.
const PUBLIC: &[ApiRoute] = &[
    ApiRoute {
        method: "get",
        path: "/healthz",
        permission: None,
        summary: "Liveness",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "get",
        path: "/readyz",
        permission: None,
        summary: "Readiness (database reachable)",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "get",
        path: "/ca/ca.pem",
        permission: None,
        summary: "The CA certificate",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "get",
        path: "/ca/crl.der",
        permission: None,
        summary: "The current CRL",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "get",
        path: "/api/v1/whoami",
        permission: None,
        summary: "The verified client certificate and session, if any",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "post",
        path: "/api/v1/auth/start",
        permission: None,
        summary: "Start a login: {\"user\": ID} → a grid (or a TOTP prompt)",
        query: &[],
        target: Target::Nobody,
    },
    ApiRoute {
        method: "post",
        path: "/api/v1/auth/verify",
        permission: None,
        summary: "Finish a login: {\"challenge\", \"otp\"[, \"totp\"]}",
        query: &[],
        target: Target::Nobody,
    },
];

/// The path parameters the route tables use.
const PATH_PARAMETERS: &[(&str, &str)] = &[
    ("id", "user ID (a job ID under /cert-jobs)"),
    (
        "name",
        "sync source name (under /sync) or policy name (under /policies)",
    ),
    ("group", "group name"),
    (
        "serial",
        "certificate serial (hex, as `cert list` shows it), or a token's serial under /tokens",
    ),
    ("prefix", "an API token's prefix (as the list shows it)"),
];

fn operation(route: &ApiRoute) -> Value {
    let mut parameters: Vec<Value> = route
        .query
        .iter()
        .map(|(name, doc)| json!({ "name": name, "in": "query", "required": false, "description": doc, "schema": { "type": "string" } }))
        .collect();
    for (name, doc) in PATH_PARAMETERS {
        if route.path.contains(&format!("{{{name}}}")) {
            parameters.push(json!({ "name": name, "in": "path", "required": true, "description": doc, "schema": { "type": "string" } }));
        }
    }
    let mut op = json!({
        "summary": route.summary,
        "parameters": parameters,
        "responses": {
            "200": { "description": "OK" },
            "400": { "description": "invalid input: {\"error\": code}" },
        },
    });
    if let Some(p) = route.permission {
        op["security"] = json!([{ "adminToken": [] }]);
        op["x-passgrid-permission"] = json!(p.as_str());
        let roles: Vec<&str> = p.roles().iter().map(|r| r.as_str()).collect();
        op["x-passgrid-roles"] = json!(roles);
        // The account the path names: only accounts below the caller's role.
        match route.target {
            Target::Nobody => {}
            Target::UserInPath => op["x-passgrid-target"] = json!("user"),
            Target::CertificateHolder => op["x-passgrid-target"] = json!("certificate-holder"),
        }
        op["responses"]["401"] = json!({ "description": "no valid administrator token" });
        op["responses"]["403"] =
            json!({ "description": "the administrator's role does not allow this" });
    }
    op
}

pub fn document_value() -> Value {
    let mut paths = Map::new();
    for route in PUBLIC.iter().chain(ROUTES) {
        let entry = paths
            .entry(route.path.to_string())
            .or_insert_with(|| json!({}));
        entry[route.method] = operation(route);
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "passgrid", "version": env!("CARGO_PKG_VERSION") },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "adminToken": { "type": "http", "scheme": "bearer", "description": "passgrid admin token create ADMIN_ID" }
            }
        },
    })
}

pub async fn document() -> impl IntoResponse {
    Json(document_value())
}
