//! The administrators' REST API (SPEC §9.1, §9.4): tokens, the role of every route
//! (a role that may not gets 403; no token 401), users, the audit log and its CSV
//! export, and the OpenAPI document generated from the same route table.

use integration_tests::*;
use serde_json::{json, Value};

fn send(server: &TestServer, method: &str, path: &str, token: &str, body: &Value) -> (u16, Value) {
    let auth = format!("Authorization: Bearer {token}");
    let body = body.to_string();
    let (status, text) = server.curl(
        path,
        &[
            "-X",
            method,
            "-H",
            &auth,
            "-H",
            "Content-Type: application/json",
            "--data-binary",
            &body,
        ],
    );
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn call(server: &TestServer, method: &str, path: &str, token: Option<&str>) -> (u16, String) {
    let auth = token.map(|t| format!("Authorization: Bearer {t}"));
    let mut args = vec!["-X", method];
    if let Some(a) = &auth {
        args.extend_from_slice(&["-H", a]);
    }
    server.curl(path, &args)
}

on_both_databases! {
    fn every_route_checks_the_role_and_does_its_work(db: Db) {
        let dir = TempDir::new("adminapi");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        let tokens = admin_tokens(&server, "1", &["admin", "user-admin", "operator", "auditor"]);
        // A plain user gets no token.
        cli_value(&server, &["user", "add", "plain"]);
        assert!(!server.cli(&["admin", "token", "create", "plain"]).status.success());
        for i in 0..30 {
            cli_value(&server, &["user", "add", &format!("staff{i:02}"), "--name", &format!("Staff {i}")]);
        }

        // (method, path, roles allowed)
        let table: &[(&str, &str, &[&str])] = &[
            ("GET", "/api/v1/admin/users", &["admin", "user-admin", "operator", "auditor"]),
            ("GET", "/api/v1/admin/users/staff00", &["admin", "user-admin", "operator", "auditor"]),
            ("POST", "/api/v1/admin/users/staff01/unlock", &["admin", "user-admin", "operator"]),
            ("POST", "/api/v1/admin/users/staff02/initial-pattern", &["admin", "user-admin", "operator"]),
            ("GET", "/api/v1/admin/groups", &["admin", "user-admin", "operator", "auditor"]),
            ("GET", "/api/v1/admin/audit", &["admin", "auditor"]),
            ("GET", "/api/v1/admin/user-exports", &["admin", "user-admin", "operator", "auditor"]),
            ("GET", "/api/v1/admin/dashboard", &["admin", "user-admin", "operator", "auditor"]),
        ];
        for (method, path, allowed) in table {
            assert_eq!(call(&server, method, path, None).0, 401, "{method} {path} without a token");
            assert_eq!(call(&server, method, path, Some("pgt_0000_notatoken")).0, 401);
            for role in ["admin", "user-admin", "operator", "auditor"] {
                let (status, body) = call(&server, method, path, Some(&tokens[role]));
                let expect = if allowed.contains(&role) { 200 } else { 403 };
                assert_eq!(status, expect, "{role} {method} {path}: {body}");
            }
        }
        // The CSV export takes the list's filters and reads back as an import.
        let (status, csv) = call(&server, "GET", "/api/v1/admin/user-exports?q=staff0", Some(&tokens["auditor"]));
        assert_eq!(status, 200);
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 11, "{csv}");
        assert!(lines[0].ends_with("id,name,email,groups,status,source"), "{}", lines[0]);
        assert!(lines[1].starts_with("staff00,Staff 0,"), "{}", lines[1]);
        assert_eq!(call(&server, "GET", "/api/v1/admin/user-exports?status=gone", Some(&tokens["admin"])).0, 400);

        // Delete: user admins and admins only; the others are refused and nothing goes.
        for role in ["operator", "auditor"] {
            assert_eq!(call(&server, "DELETE", "/api/v1/admin/users/staff29", Some(&tokens[role])).0, 403);
        }
        assert_eq!(call(&server, "DELETE", "/api/v1/admin/users/staff29", Some(&tokens["user-admin"])).0, 204);
        assert_eq!(call(&server, "DELETE", "/api/v1/admin/users/staff29", Some(&tokens["admin"])).0, 404);

        // Creating and changing users and groups: user admins and admins only.
        let new_user = json!({"id": "newbie", "name": "New Bie", "email": "newbie@example.com", "groups": ["crew"]});
        for role in ["operator", "auditor"] {
            assert_eq!(send(&server, "POST", "/api/v1/admin/groups", &tokens[role], &json!({"name": "crew"})).0, 403);
            assert_eq!(send(&server, "POST", "/api/v1/admin/users", &tokens[role], &new_user).0, 403);
            assert_eq!(send(&server, "PATCH", "/api/v1/admin/users/staff05", &tokens[role], &json!({"status": "disabled"})).0, 403);
        }
        let (status, body) = send(&server, "POST", "/api/v1/admin/users", &tokens["user-admin"], &new_user);
        assert_eq!((status, body["error"].as_str()), (400, Some("unknown_group")), "groups must exist");
        assert_eq!(send(&server, "POST", "/api/v1/admin/groups", &tokens["user-admin"], &json!({"name": "crew"})).0, 201);
        let (status, created) = send(&server, "POST", "/api/v1/admin/users", &tokens["user-admin"], &new_user);
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["initial_pattern"]["cells"].as_array().unwrap().len(), 6);
        assert_eq!(send(&server, "POST", "/api/v1/admin/users", &tokens["admin"], &new_user).1["error"], "already_exists");
        let (status, bad) = send(&server, "POST", "/api/v1/admin/users", &tokens["admin"], &json!({"id": "x1", "email": "nope"}));
        assert_eq!((status, bad["error"].as_str()), (400, Some("invalid_email")));
        let (status, bad) = send(&server, "POST", "/api/v1/admin/users", &tokens["admin"], &json!({"id": "x2", "colour": "red"}));
        assert_eq!(status, 400, "{bad}");
        let (status, changed) = send(&server, "PATCH", "/api/v1/admin/users/newbie", &tokens["admin"],
            &json!({"status": "disabled", "email": null, "groups": []}));
        assert_eq!(status, 200, "{changed}");
        assert_eq!((changed["user"]["status"].as_str(), changed["user"]["email"].clone(), changed["groups"].clone()),
                   (Some("disabled"), Value::Null, json!([])));
        assert_eq!(send(&server, "PATCH", "/api/v1/admin/users/ghost", &tokens["admin"], &json!({"name": "G"})).0, 404);

        // Paging and search.
        let (_, body) = call(&server, "GET", "/api/v1/admin/users?q=staff&limit=10", Some(&tokens["auditor"]));
        let page: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(page["users"].as_array().unwrap().len(), 10);
        assert_eq!(page["next"], "staff09");
        let (_, body) = call(&server, "GET", "/api/v1/admin/users?q=staff&limit=10&after=staff09", Some(&tokens["auditor"]));
        let page: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(page["users"][0]["id"], "staff10");
        let (_, body) = call(&server, "GET", "/api/v1/admin/users?q=STAFF%201", Some(&tokens["auditor"]));
        let found: Value = serde_json::from_str(&body).unwrap();
        assert!(found["users"].as_array().unwrap().iter().all(|u| u["display_name"].as_str().unwrap().starts_with("Staff 1")), "{found}");
        let (status, _) = call(&server, "GET", "/api/v1/admin/users?limit=0", Some(&tokens["admin"]));
        assert_eq!(status, 400);
        let (status, _) = call(&server, "GET", "/api/v1/admin/users?colour=red", Some(&tokens["admin"]));
        assert_eq!(status, 400);

        // The new initial pattern is returned once and signs in.
        let (_, body) = call(&server, "POST", "/api/v1/admin/users/staff03/initial-pattern", Some(&tokens["operator"]));
        let handed: Value = serde_json::from_str(&body).unwrap();
        let cells: Vec<u64> = handed["initial_pattern"]["cells"].as_array().unwrap().iter().map(|c| c.as_u64().unwrap()).collect();
        let jar = dir.path().join("jar.txt");
        let (_, s) = post_json(&server, "/api/v1/auth/start", &json!({"user": "staff03"}), &jar);
        let (status, ok) = post_json(&server, "/api/v1/auth/verify", &json!({"challenge": s["challenge"], "otp": otp_from(&s, &cells)}), &jar);
        assert_eq!((status, ok["must_change_pattern"].clone()), (200, json!(true)));

        // A demoted administrator's token loses its powers at once; a revoked one too.
        let list = cli_value(&server, &["admin", "token", "list"]);
        let auditor_prefix = list.as_array().unwrap().iter().find(|t| t["admin_id"] == "auditor-1").unwrap()["prefix"].as_str().unwrap().to_string();
        cli_value(&server, &["admin", "token", "revoke", &auditor_prefix]);
        assert_eq!(call(&server, "GET", "/api/v1/admin/users", Some(&tokens["auditor"])).0, 401);

        // The audit log records the administrators' actions, filters, and exports
        // CSV with spreadsheet formulas made inert.
        let (_, body) = call(&server, "GET", "/api/v1/admin/audit?action=user.delete", Some(&tokens["admin"]));
        let log: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(log["entries"][0]["actor"], "user-admin-1");
        assert_eq!(log["entries"][0]["target"], "staff29");
        let (_, body) = call(&server, "GET", "/api/v1/admin/audit?action=user.&outcome=success", Some(&tokens["admin"]));
        let log: Value = serde_json::from_str(&body).unwrap();
        assert!(log["entries"].as_array().unwrap().iter().all(|e| e["action"].as_str().unwrap().starts_with("user.")));
        cli_value(&server, &["user", "add", "evil", "--name", "=cmd|calc"]);
        let (status, csv) = call(&server, "GET", "/api/v1/admin/audit?format=csv", Some(&tokens["admin"]));
        assert_eq!(status, 200);
        assert!(csv.starts_with('\u{feff}') && csv.contains("\"user.initial_pattern\""), "{csv}");
        assert!(!csv.contains(",\"="), "no cell starts with =");
        assert_eq!(call(&server, "GET", "/api/v1/admin/audit?format=xml", Some(&tokens["admin"])).0, 400);
    }
}

#[test]
fn the_openapi_document_lists_every_route_with_its_roles() {
    let dir = TempDir::new("openapi");
    let database = TestDb::new(Db::Sqlite);
    let server = TestServer::start(&dir.path().join("data"), &database, &[]);
    let doc = server.curl_json("/api/openapi.json", &[]);
    assert_eq!(doc["openapi"], "3.1.0");
    let audit = &doc["paths"]["/api/v1/admin/audit"]["get"];
    assert_eq!(audit["x-passgrid-roles"], json!(["admin", "auditor"]));
    assert_eq!(
        doc["paths"]["/api/v1/admin/users/{id}"]["delete"]["x-passgrid-roles"],
        json!(["admin", "user-admin"])
    );
    assert!(doc["paths"]["/api/v1/auth/start"]["post"].is_object());
    assert_eq!(
        doc["components"]["securitySchemes"]["adminToken"]["scheme"],
        "bearer"
    );
}

#[test]
fn the_dashboard_counts_logins_failures_and_locked_users() {
    let dir = TempDir::new("dashboard");
    let database = TestDb::new(Db::Sqlite);
    let config = dir.path().join("passgrid.toml");
    std::fs::write(&config, "[auth]\nlockout_threshold = 2\n").unwrap();
    let server = TestServer::start_with_config(&dir.path().join("data"), &database, &config, &[]);
    let token = admin_token(&server, "watcher", "auditor");
    let jar = dir.path().join("jar.txt");
    let ok_cells = add_user(&server, "good");
    add_user(&server, "unlucky");
    let (_, s) = post_json(
        &server,
        "/api/v1/auth/start",
        &json!({"user": "good"}),
        &jar,
    );
    post_json(
        &server,
        "/api/v1/auth/verify",
        &json!({"challenge": s["challenge"], "otp": otp_from(&s, &ok_cells)}),
        &jar,
    );
    for _ in 0..2 {
        let (_, s) = post_json(
            &server,
            "/api/v1/auth/start",
            &json!({"user": "unlucky"}),
            &jar,
        );
        post_json(
            &server,
            "/api/v1/auth/verify",
            &json!({"challenge": s["challenge"], "otp": "000000"}),
            &jar,
        );
    }
    // Refused while locked.
    post_json(
        &server,
        "/api/v1/auth/start",
        &json!({"user": "unlucky"}),
        &jar,
    );
    let (status, body) = call(&server, "GET", "/api/v1/admin/dashboard", Some(&token));
    assert_eq!(status, 200, "{body}");
    let d: Value = serde_json::from_str(&body).unwrap();
    let hours = d["logins_per_hour"].as_array().unwrap();
    let sum = |k: &str| hours.iter().map(|h| h[k].as_i64().unwrap()).sum::<i64>();
    assert_eq!(
        (sum("successes"), sum("failures"), sum("refusals")),
        (1, 2, 1),
        "{d}"
    );
    assert_eq!(d["locked_users"][0]["login_id"], "unlucky");
    assert_eq!(d["certificates_expiring_in_30_days"]["count"], 0);
}

/// A cookie's value from a curl cookie jar.
fn jar_cookie(jar: &std::path::Path, name: &str) -> String {
    std::fs::read_to_string(jar)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            (f.len() == 7 && f[5] == name).then(|| f[6].to_string())
        })
        .next()
        .unwrap_or_else(|| panic!("no {name} cookie in the jar"))
}

#[test]
fn an_administrator_signed_in_with_the_grid_uses_the_api_with_csrf() {
    let dir = TempDir::new("adminsession");
    let database = TestDb::new(Db::Sqlite);
    let server = TestServer::start(&dir.path().join("data"), &database, &[]);
    cli_value(&server, &["admin", "create", "boss", "--role", "operator"]);
    cli_value(&server, &["user", "add", "worker"]);
    let cells = [3u64, 17, 22, 40, 41, 9];
    for id in ["boss", "worker"] {
        cli_value(
            &server,
            &["user", "set-pattern", id, "--cells", "3,17,22,40,41,9"],
        );
    }
    let sign_in = |id: &str| {
        let jar = dir.path().join(format!("{id}.jar"));
        let (_, s) = post_json(&server, "/api/v1/auth/start", &json!({ "user": id }), &jar);
        let (status, ok) = post_json(
            &server,
            "/api/v1/auth/verify",
            &json!({"challenge": s["challenge"], "otp": otp_from(&s, &cells)}),
            &jar,
        );
        assert_eq!(status, 200, "{ok}");
        // A page gives the CSRF cookie, as the console's first page load would.
        server.curl(
            "/login",
            &["-b", jar.to_str().unwrap(), "-c", jar.to_str().unwrap()],
        );
        jar
    };
    let boss = sign_in("boss");
    let b = boss.to_str().unwrap();
    let (status, body) = server.curl("/api/v1/admin/users", &["-b", b]);
    assert_eq!(status, 200, "{body}");
    // A change without the CSRF header is refused; with it, done.
    let (status, body) = server.curl(
        "/api/v1/admin/users/worker/unlock",
        &["-b", b, "-X", "POST"],
    );
    assert_eq!((status, body.contains("csrf")), (400, true), "{body}");
    let csrf = format!("X-CSRF-Token: {}", jar_cookie(&boss, "passgrid_csrf"));
    let (status, body) = server.curl(
        "/api/v1/admin/users/worker/unlock",
        &["-b", b, "-X", "POST", "-H", &csrf],
    );
    assert_eq!(status, 200, "{body}");
    // The operator's session has the operator's powers only.
    assert_eq!(server.curl("/api/v1/admin/audit", &["-b", b]).0, 403);
    // A signed-in user who is no administrator: 403.
    let worker = sign_in("worker");
    assert_eq!(
        server
            .curl("/api/v1/admin/users", &["-b", worker.to_str().unwrap()])
            .0,
        403
    );
}

/// Every route of the OpenAPI document (generated from the table the handlers check)
/// is called by each role: the roles it names get past the role check (any answer but
/// 403), the others get 403, nobody without a token gets in (401). The calls name
/// things that do not exist, so nothing changes.
#[test]
fn every_documented_route_refuses_exactly_the_roles_it_does_not_name() {
    let dir = TempDir::new("adminroles");
    let database = TestDb::new(Db::Sqlite);
    let server = TestServer::start(&dir.path().join("data"), &database, &[]);
    let tokens = admin_tokens(
        &server,
        "r",
        &["admin", "user-admin", "operator", "auditor"],
    );
    let doc = server.curl_json("/api/openapi.json", &[]);
    let mut checked = 0;
    for (path, methods) in doc["paths"].as_object().unwrap() {
        for (method, op) in methods.as_object().unwrap() {
            let Some(roles) = op["x-passgrid-roles"].as_array() else {
                continue;
            };
            let url = path
                .replace("{id}", "nobody")
                .replace("{name}", "nothing")
                .replace("{group}", "nogroup")
                .replace("{serial}", "0abc")
                .replace("{prefix}", "0abc");
            let method = method.to_uppercase();
            assert_eq!(
                call(&server, &method, &url, None).0,
                401,
                "{method} {url} without a token"
            );
            for role in ["admin", "user-admin", "operator", "auditor"] {
                let (status, body) = if method == "GET" || method == "DELETE" {
                    let (status, text) = call(&server, &method, &url, Some(&tokens[role]));
                    (status, Value::String(text))
                } else {
                    // HTTP/1.1: Debian's curl shows an HTTP/2 answer sent before the
                    // body was read (a refusal) as a framing error (see bad_input.rs).
                    let auth = format!("Authorization: Bearer {}", tokens[role]);
                    let (status, text) = server.curl(
                        &url,
                        &[
                            "--http1.1",
                            "-X",
                            &method,
                            "-H",
                            &auth,
                            "-H",
                            "Content-Type: application/json",
                            "--data-binary",
                            "{}",
                        ],
                    );
                    (status, Value::String(text))
                };
                let allowed = roles.iter().any(|r| r == role);
                if allowed {
                    assert_ne!(status, 403, "{role} may {method} {url}: {body}");
                    assert!(status < 500, "{role} {method} {url}: {status} {body}");
                } else {
                    assert_eq!(status, 403, "{role} may not {method} {url}: {body}");
                }
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 4 * 25,
        "only {checked} route×role checks: is the table there?"
    );
    // Nothing was made by all those calls.
    let (_, users) = call(
        &server,
        "GET",
        "/api/v1/admin/users",
        Some(&tokens["admin"]),
    );
    let users: serde_json::Value = serde_json::from_str(&users).unwrap();
    assert_eq!(users["users"].as_array().unwrap().len(), 4, "{users}");
    let (_, groups) = call(
        &server,
        "GET",
        "/api/v1/admin/groups",
        Some(&tokens["admin"]),
    );
    assert!(!groups.contains("nogroup"), "{groups}");
    let (_, policies) = call(
        &server,
        "GET",
        "/api/v1/admin/policies",
        Some(&tokens["admin"]),
    );
    assert!(!policies.contains("nothing"), "{policies}");
}

on_both_databases! {
    fn groups_are_renamed_in_description_and_deleted_without_their_members(db: Db) {
        let dir = TempDir::new("admingroups");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        let tokens = admin_tokens(&server, "g", &["user-admin", "operator"]);
        cli_value(&server, &["group", "add", "ops"]);
        cli_value(&server, &["user", "add", "olga", "--group", "ops"]);
        assert!(server.cli(&["policy", "set", "tight", "lockout_threshold=2"]).status.success());
        assert!(server.cli(&["policy", "attach", "tight", "--group", "ops", "--priority", "5"]).status.success());
        assert_eq!(cli_value(&server, &["policy", "effective", "olga"])["policy"], "tight");

        let change = json!({"description": "Operations"});
        assert_eq!(send(&server, "PATCH", "/api/v1/admin/groups/ops", &tokens["operator"], &change).0, 403);
        assert_eq!(send(&server, "PATCH", "/api/v1/admin/groups/ops", &tokens["user-admin"], &json!({"description": "bad\u{7}"})).0, 400);
        assert_eq!(send(&server, "PATCH", "/api/v1/admin/groups/nope", &tokens["user-admin"], &change).0, 404);
        assert_eq!(send(&server, "PATCH", "/api/v1/admin/groups/ops", &tokens["user-admin"], &change).0, 200);
        let (_, groups) = call(&server, "GET", "/api/v1/admin/groups", Some(&tokens["operator"]));
        assert!(groups.contains("Operations"), "{groups}");

        assert_eq!(call(&server, "DELETE", "/api/v1/admin/groups/ops", Some(&tokens["operator"])).0, 403);
        assert_eq!(call(&server, "DELETE", "/api/v1/admin/groups/ops", Some(&tokens["user-admin"])).0, 204);
        assert_eq!(call(&server, "DELETE", "/api/v1/admin/groups/ops", Some(&tokens["user-admin"])).0, 404);
        // The member stays, without the group and its policy.
        let (_, olga) = call(&server, "GET", "/api/v1/admin/users/olga", Some(&tokens["operator"]));
        let olga: Value = serde_json::from_str(&olga).unwrap();
        assert_eq!((olga["groups"].clone(), olga["policy"]["name"].clone()), (json!([]), json!("default")), "{olga}");
    }
}

#[test]
fn api_tokens_are_made_listed_and_revoked_by_administrators() {
    let dir = TempDir::new("apitokens");
    let database = TestDb::new(Db::Sqlite);
    let server = TestServer::start(&dir.path().join("data"), &database, &[]);
    let root = admin_token(&server, "root", "admin");
    let helper = admin_token(&server, "helper", "user-admin");
    cli_value(&server, &["user", "add", "plain"]);

    assert_eq!(
        call(&server, "GET", "/api/v1/admin/api-tokens", Some(&helper)).0,
        403,
        "user admins do not manage tokens"
    );
    // Tokens are made for oneself only (issue #13): not for a user, not for another
    // administrator.
    for other in ["plain", "helper"] {
        let (status, bad) = send(
            &server,
            "POST",
            "/api/v1/admin/api-tokens",
            &root,
            &json!({ "admin": other }),
        );
        assert_eq!(status, 403, "{bad}");
    }
    assert_eq!(
        send(
            &server,
            "POST",
            "/api/v1/admin/api-tokens",
            &root,
            &json!({"days": 0})
        )
        .0,
        400
    );
    let (status, made) = send(
        &server,
        "POST",
        "/api/v1/admin/api-tokens",
        &root,
        &json!({"name": "nightly export", "days": 7}),
    );
    assert_eq!(status, 201, "{made}");
    let token = made["token"].as_str().unwrap().to_string();
    let prefix = made["prefix"].as_str().unwrap().to_string();
    assert!(token.starts_with(&format!("pgt_{prefix}_")));
    // It works, as its administrator (tokens act with their administrator's role:
    // the route tests above).
    assert_eq!(made["admin"], "root");
    assert_eq!(
        call(&server, "GET", "/api/v1/admin/users", Some(&token)).0,
        200
    );
    let (_, list) = call(&server, "GET", "/api/v1/admin/api-tokens", Some(&root));
    assert!(
        list.contains("nightly export") && list.contains(&prefix),
        "{list}"
    );
    assert!(!list.contains(&token), "a listed token is never shown");

    assert_eq!(
        call(
            &server,
            "DELETE",
            "/api/v1/admin/api-tokens/zz!",
            Some(&root)
        )
        .0,
        400
    );
    assert_eq!(
        call(
            &server,
            "DELETE",
            &format!("/api/v1/admin/api-tokens/{prefix}"),
            Some(&helper)
        )
        .0,
        403
    );
    assert_eq!(
        call(
            &server,
            "DELETE",
            &format!("/api/v1/admin/api-tokens/{prefix}"),
            Some(&root)
        )
        .0,
        204
    );
    assert_eq!(
        call(
            &server,
            "DELETE",
            &format!("/api/v1/admin/api-tokens/{prefix}"),
            Some(&root)
        )
        .0,
        404
    );
    assert_eq!(
        call(&server, "GET", "/api/v1/admin/users", Some(&token)).0,
        401,
        "a revoked token no longer works"
    );
    let (_, audit) = call(
        &server,
        "GET",
        "/api/v1/admin/audit?actor=root&action=admin.",
        Some(&root),
    );
    assert!(
        audit.contains("admin.token_create") && audit.contains("admin.token_revoke"),
        "{audit}"
    );
}

on_both_databases! {
    fn user_counts_agree_with_the_list_and_name_the_administrators(db: Db) {
        let dir = TempDir::new("usercounts");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        cli_value(&server, &["admin", "create", "count-boss", "--role", "user-admin"]);
        cli_value(&server, &["admin", "create", "count-aud", "--role", "auditor"]);
        let token = cli_value(&server, &["admin", "token", "create", "count-boss"])["token"]
            .as_str()
            .unwrap()
            .to_string();
        cli_value(&server, &["group", "add", "crew"]);
        for i in 0..7 {
            let id = format!("count-u{i}");
            let mut args = vec!["user", "add", id.as_str()];
            if i % 2 == 0 {
                args.extend(["--group", "crew"]);
            }
            cli_value(&server, &args);
        }
        let p12 = dir.path().join("u1.p12");
        cli_value(&server, &["cert", "issue", "count-u1", "--out", p12.to_str().unwrap()]);
        let get = |path: &str| -> Value {
            let (status, text) = call(&server, "GET", path, Some(&token));
            assert_eq!(status, 200, "{path}: {text}");
            serde_json::from_str(&text).unwrap()
        };
        for filter in ["q=count-", "q=count-u", "group=crew", "q=count-&cert=none", "q=count-&cert=valid", "status=disabled", "source=local&q=count"] {
            let counts = get(&format!("/api/v1/admin/user-counts?{filter}"));
            let listed = get(&format!("/api/v1/admin/users?{filter}&limit=500"))["users"].as_array().unwrap().len();
            assert_eq!(counts["total"], json!(listed), "{filter}: {counts}");
        }
        assert_eq!(
            get("/api/v1/admin/user-counts?q=count-"),
            json!({ "total": 9, "administrators": 2, "includes_self": true })
        );
        assert_eq!(
            get("/api/v1/admin/user-counts?group=crew"),
            json!({ "total": 4, "administrators": 0, "includes_self": false })
        );
        let (status, _) = call(&server, "GET", "/api/v1/admin/user-counts?cert=some", Some(&token));
        assert_eq!(status, 400);
        let (status, _) = call(&server, "GET", "/api/v1/admin/user-counts?after=x", Some(&token));
        assert_eq!(status, 400, "the count takes the filters only");
    }
}
