//! TOTP tokens (SPEC §4) against the real server: hardware seed files in, codes made
//! by an independent implementation (Debian's `oathtool`) accepted once, enrolment of
//! an authenticator app by QR code on the web page.

use std::{path::Path, process::Command};

use integration_tests::*;
use serde_json::{json, Value};

/// RFC 6238's SHA-1 seed ("12345678901234567890"), in hex.
const SEED_HEX: &str = "3132333435363738393031323334353637383930";

/// RFC 6030 Figure 6 (pre-shared key 0x1234…9012, HMAC-SHA1 MAC), as a TOTP key: the
/// secret inside is SEED_HEX.
fn pskc_figure6(value_mac: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<KeyContainer Version="1.0" xmlns="urn:ietf:params:xml:ns:keyprov:pskc"
    xmlns:ds="http://www.w3.org/2000/09/xmldsig#" xmlns:xenc="http://www.w3.org/2001/04/xmlenc#">
  <EncryptionKey><ds:KeyName>Pre-shared-key</ds:KeyName></EncryptionKey>
  <MACMethod Algorithm="http://www.w3.org/2000/09/xmldsig#hmac-sha1">
    <MACKey>
      <xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
      <xenc:CipherData><xenc:CipherValue>ESIzRFVmd4iZABEiM0RVZgKn6WjLaTC1sbeBMSvIhRejN9vJa2BOlSaMrR7I5wSX</xenc:CipherValue></xenc:CipherData>
    </MACKey>
  </MACMethod>
  <KeyPackage>
    <DeviceInfo><Manufacturer>Manufacturer</Manufacturer><SerialNo>987654321</SerialNo></DeviceInfo>
    <Key Id="12345678" Algorithm="urn:ietf:params:xml:ns:keyprov:pskc:totp">
      <AlgorithmParameters><ResponseFormat Length="6" Encoding="DECIMAL"/></AlgorithmParameters>
      <Data>
        <Secret>
          <EncryptedValue>
            <xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>
            <xenc:CipherData><xenc:CipherValue>AAECAwQFBgcICQoLDA0OD+cIHItlB3Wra1DUpxVvOx2lef1VmNPCMl8jwZqIUqGv</xenc:CipherValue></xenc:CipherData>
          </EncryptedValue>
          <ValueMAC>{value_mac}</ValueMAC>
        </Secret>
        <TimeInterval><PlainValue>30</PlainValue></TimeInterval>
      </Data>
    </Key>
  </KeyPackage>
</KeyContainer>"#
    )
}

/// The current code of a hex seed, from oathtool (Debian package `oathtool`).
fn oathtool(args: &[&str]) -> String {
    let out = Command::new("oathtool")
        .args(args)
        .output()
        .expect("run oathtool (Debian package oathtool)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn cli_ok(server: &TestServer, args: &[&str]) -> String {
    let out = server.cli(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn start(server: &TestServer, user: &str, jar: &Path) -> Value {
    let (status, s) = post_json(server, "/api/v1/auth/start", &json!({ "user": user }), jar);
    assert_eq!(status, 200, "{s}");
    s
}

on_both_databases! {
    fn hardware_tokens_from_pskc_and_csv_log_in_once_per_code(db: Db) {
        let dir = TempDir::new("totp");
        let database = TestDb::new(db);
        let config = dir.path().join("passgrid.toml");
        std::fs::write(&config, "[auth]\nmethod = \"totp\"\n").unwrap();
        let server = TestServer::start_with_config(&dir.path().join("data"), &database, &config, &[]);
        let jar = dir.path().join("jar.txt");
        add_user(&server, "hana");
        add_user(&server, "ivan");

        // A PSKC file with a wrong MAC: refused with the reason, nothing imported.
        let key = dir.path().join("psk.hex");
        std::fs::write(&key, "12345678901234567890123456789012\n").unwrap();
        let bad = dir.path().join("bad.pskc");
        std::fs::write(&bad, pskc_figure6("AAAAAAAAAAAAAAAAAAAAAAAAAAA=")).unwrap();
        let out = server.cli(&["token", "import", bad.to_str().unwrap(), "--key-file", key.to_str().unwrap()]);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("MAC") && err.contains("nothing imported"), "{err}");
        // …and without the key it cannot be read at all.
        let good = dir.path().join("good.pskc");
        std::fs::write(&good, pskc_figure6("Su+NvtQfmvfJzF6bmQiJqoLRExc=")).unwrap();
        let out = server.cli(&["token", "import", good.to_str().unwrap()]);
        assert!(!out.status.success());
        let tokens: Value = serde_json::from_str(&cli_ok(&server, &["--json", "token", "list"])).unwrap();
        assert_eq!(tokens, json!([]));

        cli_ok(&server, &["token", "import", good.to_str().unwrap(), "--key-file", key.to_str().unwrap()]);
        // A CSV of SHA-256, 8-digit tokens with a header.
        let csv = dir.path().join("tokens.csv");
        let seed256 = "3132333435363738393031323334353637383930313233343536373839303132";
        std::fs::write(&csv, format!("serial,seed,algorithm,digits,period\nHW-0001,{seed256},SHA256,8,30\n")).unwrap();
        cli_ok(&server, &["token", "import", csv.to_str().unwrap()]);
        // The same serial again: the whole file is refused.
        let out = server.cli(&["token", "import", csv.to_str().unwrap()]);
        assert!(String::from_utf8_lossy(&out.stderr).contains("HW-0001"));

        cli_ok(&server, &["token", "assign", "987654321", "hana"]);
        cli_ok(&server, &["token", "assign", "HW-0001", "ivan"]);
        let out = server.cli(&["token", "assign", "NOPE", "hana"]);
        assert!(String::from_utf8_lossy(&out.stderr).contains("no token"));

        // The login asks for a code, and the independent code works once. The start
        // still carries a grid (the same shape for every ID, token or not).
        let s = start(&server, "hana", &jar);
        assert_eq!(s["method"], "totp");
        assert!(s["grid"]["digits"].is_string(), "every start has the same shape: {s}");
        let code = oathtool(&["--totp", SEED_HEX]);
        let (status, ok) = post_json(&server, "/api/v1/auth/verify", &json!({"challenge": s["challenge"], "otp": code}), &jar);
        assert_eq!(status, 200, "{ok}");
        let s = start(&server, "hana", &jar);
        let (status, replay) = post_json(&server, "/api/v1/auth/verify", &json!({"challenge": s["challenge"], "otp": code}), &jar);
        assert_eq!((status, replay["error"].as_str()), (401, Some("authentication_failed")), "a code is never accepted twice");

        let s = start(&server, "ivan", &jar);
        let code = oathtool(&["--totp=sha256", "--digits=8", seed256]);
        let (status, ok) = post_json(&server, "/api/v1/auth/verify", &json!({"challenge": s["challenge"], "otp": code}), &jar);
        assert_eq!(status, 200, "{ok}");

        // Unknown IDs are asked for a code the same way and fail the same way.
        let s = start(&server, "nobody", &jar);
        assert_eq!(s["method"], "totp");
        let (status, _) = post_json(&server, "/api/v1/auth/verify", &json!({"challenge": s["challenge"], "otp": "123456"}), &jar);
        assert_eq!(status, 401);
        assert!(!server.server_log().contains(SEED_HEX));
    }
}

#[test]
fn an_authenticator_app_is_enrolled_by_qr_code_and_then_asked_for_with_the_grid() {
    let dir = TempDir::new("totp-enrol");
    let database = TestDb::new(Db::Sqlite);
    let config = dir.path().join("passgrid.toml");
    std::fs::write(&config, "[auth]\nmethod = \"both\"\n").unwrap();
    let server = TestServer::start_with_config(&dir.path().join("data"), &database, &config, &[]);
    let jar = dir.path().join("jar.txt");
    let j = jar.to_str().unwrap();
    let cells = add_user(&server, "jun");

    // No token yet: the start looks like anyone's under "both" (a code field is
    // offered), the grid alone signs in, and the answer says a token is wanted.
    let s = start(&server, "jun", &jar);
    assert_eq!(s["method"], "grid");
    assert_eq!(
        s["totp"], true,
        "the shape does not tell who has a token: {s}"
    );
    let (status, ok) = post_json(
        &server,
        "/api/v1/auth/verify",
        &json!({"challenge": s["challenge"], "otp": otp_from(&s, &cells)}),
        &jar,
    );
    assert_eq!(status, 200, "{ok}");
    assert_eq!(ok["must_enrol_token"], true);

    let (status, page) = server.curl("/me/token", &["-b", j, "-c", j]);
    assert_eq!(status, 200);
    assert!(page.contains("token-required"), "the page asks for a token");
    let (status, _) = server.curl(
        "/me/token/new",
        &[
            "-b",
            j,
            "-c",
            j,
            "--data",
            &format!("csrf={}", csrf_field(&page)),
        ],
    );
    assert_eq!(status, 303);
    let (_, page) = server.curl("/me/token", &["-b", j, "-c", j]);
    assert!(page.contains("<svg"), "a QR code is shown");
    let key = page
        .split("class=\"totp-key\">")
        .nth(1)
        .and_then(|r| r.split('<').next())
        .expect("the key for typing by hand")
        .to_string();
    // A wrong code first: not saved.
    let (status, _) = server.curl(
        "/me/token/confirm",
        &[
            "-b",
            j,
            "-c",
            j,
            "--data",
            &format!("csrf={}&code=000000", csrf_field(&page)),
        ],
    );
    assert_eq!(status, 303);
    let tokens: Value = serde_json::from_str(&cli_ok(
        &server,
        &["--json", "token", "list", "--user", "jun"],
    ))
    .unwrap();
    assert_eq!(tokens, json!([]));
    let code = oathtool(&["--totp", "-b", &key]);
    let (status, _) = server.curl(
        "/me/token/confirm",
        &[
            "-b",
            j,
            "-c",
            j,
            "--data",
            &format!("csrf={}&code={code}", csrf_field(&page)),
        ],
    );
    assert_eq!(status, 303);
    let tokens: Value = serde_json::from_str(&cli_ok(
        &server,
        &["--json", "token", "list", "--user", "jun"],
    ))
    .unwrap();
    assert_eq!(tokens[0]["kind"], "software", "{tokens}");

    // From now on: the grid and a code. The confirming code is spent already, and
    // a right grid with a wrong code fails without saying which.
    let s = start(&server, "jun", &jar);
    assert_eq!(
        (s["method"].as_str(), s["totp"].as_bool()),
        (Some("grid"), Some(true))
    );
    let (status, fail) = post_json(
        &server,
        "/api/v1/auth/verify",
        &json!({"challenge": s["challenge"], "otp": otp_from(&s, &cells), "totp": code}),
        &jar,
    );
    assert_eq!(
        (status, fail["error"].as_str()),
        (401, Some("authentication_failed"))
    );
    // The next period's code (allowed by the drift window) with the grid: in.
    let next = oathtool(&[
        "--totp",
        "-b",
        &key,
        "--now",
        &format!("@{}", now_secs() + 30),
    ]);
    let s = start(&server, "jun", &jar);
    let (status, ok) = post_json(
        &server,
        "/api/v1/auth/verify",
        &json!({"challenge": s["challenge"], "otp": otp_from(&s, &cells), "totp": next}),
        &jar,
    );
    assert_eq!(status, 200, "{ok}");
    assert_eq!(ok["must_enrol_token"], false);
}

fn now_secs() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

on_both_databases! {
    fn the_console_imports_assigns_and_resets_tokens_over_the_api(db: Db) {
        let dir = TempDir::new("totp-api");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        add_user(&server, "hana");
        let tokens = admin_tokens(&server, "t", &["admin", "user-admin", "operator", "auditor"]);
        let file = dir.path().join("good.pskc");
        std::fs::write(&file, pskc_figure6("Su+NvtQfmvfJzF6bmQiJqoLRExc=")).unwrap();
        let import = |role: &str, key: Option<&str>| {
            let auth = format!("Authorization: Bearer {}", tokens[role]);
            let key_header = key.map(|k| format!("X-PSKC-Key: {k}"));
            let mut args = vec!["--http1.1", "-X", "POST", "-H", auth.as_str(), "-H", "Content-Type: application/octet-stream"];
            if let Some(h) = &key_header {
                args.extend_from_slice(&["-H", h.as_str()]);
            }
            let data = format!("@{}", file.display());
            args.extend_from_slice(&["--data-binary", data.as_str()]);
            let (status, body) = server.curl("/api/v1/admin/token-imports", &args);
            (status, serde_json::from_str::<Value>(&body).unwrap_or(Value::String(body)))
        };
        let call = |role: &str, method: &str, path: &str, body: Option<Value>| {
            let auth = format!("Authorization: Bearer {}", tokens[role]);
            let data = body.map(|b| b.to_string());
            let mut args = vec!["--http1.1", "-X", method, "-H", auth.as_str(), "-H", "Content-Type: application/json"];
            if let Some(d) = &data {
                args.extend_from_slice(&["--data-binary", d.as_str()]);
            }
            let (status, text) = server.curl(path, &args);
            (status, serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text)))
        };
        let key = "12345678901234567890123456789012";

        // Importing seeds is for administrators; the file's key goes in a header.
        assert_eq!(import("user-admin", Some(key)).0, 403);
        let (status, refused) = import("admin", Some("00112233445566778899aabbccddeeff"));
        assert_eq!(status, 400, "{refused}");
        assert!(refused["message"].as_str().unwrap().contains("MAC"), "{refused}");
        assert_eq!(call("admin", "GET", "/api/v1/admin/tokens", None).1["tokens"], json!([]));
        let (status, done) = import("admin", Some(key));
        assert_eq!(status, 201, "{done}");
        let serial = done["imported"][0].as_str().unwrap().to_string();
        let (status, again) = import("admin", Some(key));
        assert_eq!(status, 400, "the same serial twice: {again}");

        // Assigning: user admins and admins; unknown token or user → 404.
        let assign = format!("/api/v1/admin/tokens/{serial}/assign");
        assert_eq!(call("operator", "POST", &assign, Some(json!({"user": "hana"}))).0, 403);
        assert_eq!(call("user-admin", "POST", &assign, Some(json!({"user": "nobody"}))).0, 404);
        assert_eq!(call("user-admin", "POST", "/api/v1/admin/tokens/nope/assign", Some(json!({"user": "hana"}))).0, 404);
        assert_eq!(call("user-admin", "POST", &assign, Some(json!({"user": "hana"}))).0, 200);
        let (_, listed) = call("auditor", "GET", "/api/v1/admin/tokens?user=hana", None);
        assert_eq!(listed["tokens"][0]["serial"], serial.as_str(), "{listed}");
        assert!(!listed.to_string().contains("seed") && !listed.to_string().contains("secret"));
        assert_eq!(call("admin", "GET", "/api/v1/admin/users/hana", None).1["token"]["serial"], serial.as_str());

        // Resetting: operators and up; the token goes back to the unassigned ones.
        assert_eq!(call("auditor", "POST", "/api/v1/admin/users/hana/token/reset", None).0, 403);
        let (status, reset) = call("operator", "POST", "/api/v1/admin/users/hana/token/reset", None);
        assert_eq!((status, reset["reset"].clone()), (200, json!(true)));
        assert_eq!(call("admin", "GET", "/api/v1/admin/tokens?user=hana", None).1["tokens"], json!([]));
        let (_, all) = call("admin", "GET", "/api/v1/admin/tokens", None);
        assert_eq!(all["tokens"][0]["user_id"], Value::Null);

        let audit = call("admin", "GET", "/api/v1/admin/audit?action=token.", None).1;
        let actions: Vec<&str> = audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, vec!["token.reset", "token.assign", "token.import"], "{audit}");
    }
}
