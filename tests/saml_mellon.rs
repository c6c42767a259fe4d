//! A real SAML SP from Debian protects a page with passgrid as IdP (issue #19
//! acceptance): Apache httpd + mod_auth_mellon, its key and metadata made by Debian's
//! own `mellon_create_metadata`. SP-initiated sign-in with the grid ends on the page
//! with MELLON_NAME_ID and the mapped attributes (the assertion encrypted to the SP's
//! key, which mellon decrypts); mellon's logout ends passgrid's session (Single
//! Logout, HTTP-Redirect, signed both ways); IdP-initiated sign-in from the portal's
//! tile lands on the SP; passgrid's own logout logs the browser out of mellon too.
//! curl with a cookie jar is the browser and submits the auto-post forms.

use std::{
    os::unix::process::CommandExt,
    path::{Path, PathBuf},
    process::{Command, Stdio},
};

use integration_tests::browser::{
    absolute, browse, follow, form_of, sign_in_form, url_encode, wait_port, Peer,
};
use integration_tests::saml::{audit, idp_metadata};
use integration_tests::*;

const CELLS: [u64; 7] = [3, 17, 22, 40, 41, 9, 30];

/// Posts an auto-submitting form (what the page's script does in a browser).
fn submit(ca: &Path, jar: &Path, page: &str) -> (u16, Option<String>, String) {
    let (action, fields) = form_of(page).unwrap_or_else(|| panic!("no form in: {page}"));
    let mut args = Vec::new();
    for (name, value) in &fields {
        args.push("--data-urlencode".to_string());
        args.push(format!("{name}={value}"));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    browse(ca, jar, &action, &args)
}

/// Apache with mod_auth_mellon on `port` protecting /app/ (a CGI that prints the
/// MELLON_ variables). Returns the Apache tree and the SP's metadata file.
fn mellon_site(dir: &Path, port: u16, idp_md: &str) -> (PathBuf, PathBuf) {
    let root = dir.join("apache");
    std::fs::create_dir_all(root.join("cgi")).unwrap();
    std::fs::create_dir_all(root.join("htdocs")).unwrap();
    let base = format!("http://127.0.0.1:{port}/mellon");
    // Debian's tool: an RSA key, a certificate and SP metadata (signing and
    // encryption key, SLO by HTTP-Redirect, ACS by HTTP-POST, AuthnRequestsSigned).
    let out = Command::new("/usr/sbin/mellon_create_metadata")
        .arg(format!("{base}/metadata"))
        .arg(&base)
        .current_dir(&root)
        .output()
        .expect("mellon_create_metadata (Debian package libapache2-mod-auth-mellon)");
    assert!(out.status.success(), "{}", stderr(&out));
    let stem = format!("http_127.0.0.1_{port}_mellon_metadata");
    let generated = std::fs::read_to_string(root.join(format!("{stem}.xml"))).unwrap();
    // The NameID format mellon asks for is its metadata's (else transient).
    let md = generated.replace(
        "<AssertionConsumerService",
        "<NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</NameIDFormat>\n    <AssertionConsumerService",
    );
    let sp_md = root.join("sp-metadata.xml");
    std::fs::write(&sp_md, md).unwrap();
    std::fs::write(root.join("idp-metadata.xml"), idp_md).unwrap();
    std::fs::write(root.join("htdocs/bye.html"), "bye\n").unwrap();
    let cgi = root.join("cgi/whoami.cgi");
    std::fs::write(
        &cgi,
        "#!/bin/sh\nprintf 'Content-Type: text/plain\\n\\n'\nenv | grep '^MELLON_' | sort\n",
    )
    .unwrap();
    let r = root.display();
    let m = "/usr/lib/apache2/modules";
    let conf = format!(
        r#"
ServerRoot "{r}"
Listen 127.0.0.1:{port}
ServerName 127.0.0.1
PidFile {r}/httpd.pid
ErrorLog {r}/error.log
LogLevel warn
LoadModule mpm_prefork_module {m}/mod_mpm_prefork.so
LoadModule authz_core_module {m}/mod_authz_core.so
LoadModule authn_core_module {m}/mod_authn_core.so
LoadModule authz_user_module {m}/mod_authz_user.so
LoadModule alias_module {m}/mod_alias.so
LoadModule cgi_module {m}/mod_cgi.so
LoadModule auth_mellon_module {m}/mod_auth_mellon.so
User www-data
Group www-data
DocumentRoot {r}/htdocs
<Directory {r}/htdocs>
  Require all granted
</Directory>
ScriptAlias /app/ {r}/cgi/
<Location />
  MellonEndpointPath /mellon
  MellonSPPrivateKeyFile {r}/{stem}.key
  MellonSPCertFile {r}/{stem}.cert
  MellonSPMetadataFile {r}/sp-metadata.xml
  MellonIdPMetadataFile {r}/idp-metadata.xml
</Location>
<Location /app/>
  AuthType Mellon
  MellonEnable auth
  Require valid-user
</Location>
"#
    );
    std::fs::write(root.join("httpd.conf"), conf).unwrap();
    // Apache's worker user must read these (the scratch folder is private).
    Command::new("chmod").arg("a+x").arg(dir).status().unwrap();
    Command::new("chmod")
        .args(["-R", "a+rX"])
        .arg(&root)
        .status()
        .unwrap();
    Command::new("chmod").arg("755").arg(&cgi).status().unwrap();
    (root, sp_md)
}

fn start_apache(root: &Path, port: u16) -> Peer {
    let child = Command::new("/usr/sbin/apache2")
        .arg("-f")
        .arg(root.join("httpd.conf"))
        .arg("-DFOREGROUND")
        // Its own process group: Apache stops by signalling its whole group.
        .process_group(0)
        .env("APACHE_RUN_DIR", root)
        .env("APACHE_LOCK_DIR", root)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(root.join("stderr.log")).unwrap())
        .spawn()
        .expect("apache2 (Debian packages apache2, libapache2-mod-auth-mellon)");
    let peer = Peer(child);
    wait_port(port, "apache", &root.join("stderr.log"));
    peer
}

/// Whether passgrid sees a session in this jar.
fn has_session(server: &TestServer, jar: &Path) -> bool {
    let (_, body) = server.curl("/api/v1/whoami", &["-b", jar.to_str().unwrap()]);
    !body.contains("\"session\":null")
}

on_both_databases! {
    fn apache_mod_auth_mellon_with_passgrid_as_idp(db: Db) {
        let dir = TempDir::new("saml-mellon");
        let database = TestDb::new(db);
        let server = TestServer::start(&dir.path().join("data"), &database, &[]);
        let admin = admin_token(&server, "mellon-admin", "admin");
        let (idp_md, _) = idp_metadata(&server, dir.path());
        let port = free_port();
        let (root, sp_md) = mellon_site(dir.path(), port, &idp_md);
        cli_value(&server, &[
            "saml", "sp", "add", "mellon", "--metadata", sp_md.to_str().unwrap(),
            "--attribute", "mail=email", "--attribute", "displayName=name", "--attribute", "groups=groups",
        ]);
        cli_value(&server, &["group", "add", "staff"]);
        cli_value(&server, &["user", "add", "alice", "--name", "Alice Liddell", "--email", "alice@example.com", "--group", "staff"]);
        let cells = CELLS.map(|c| c.to_string()).join(",");
        cli_value(&server, &["user", "set-pattern", "alice", "--cells", &cells]);
        let _apache = start_apache(&root, port);
        let log = || std::fs::read_to_string(root.join("error.log")).unwrap_or_default();
        let ca = server.ca_pem();
        let page = format!("http://127.0.0.1:{port}/app/whoami.cgi");

        // SP-initiated: the page sends the browser through mellon to passgrid's sign-in.
        let jar = dir.path().join("alice.jar");
        let (status, url, _) = follow(&server, &ca, &jar, page.clone(), |_| false);
        assert_eq!(status, 200, "{}", log());
        assert!(url.ends_with("/login"), "passgrid's sign-in: {url}");
        let next = sign_in_form(&server, &ca, &jar, "alice", &CELLS, &[]);
        let (status, _, form) = follow(&server, &ca, &jar, next, |_| false);
        assert_eq!(status, 200, "{form}");
        let (status, location, body) = submit(&ca, &jar, &form);
        assert_eq!(status, 303, "mellon took the Response: {body}\n{}", log());
        assert_eq!(location.as_deref(), Some(page.as_str()), "back to the page asked for");
        let (status, _, body) = browse(&ca, &jar, &page, &[]);
        assert_eq!(status, 200, "{body}");
        let name_id = body.lines().find_map(|l| l.strip_prefix("MELLON_NAME_ID=")).expect("MELLON_NAME_ID").to_string();
        assert!(name_id.len() >= 20, "an opaque persistent NameID: {name_id}");
        assert!(body.contains("MELLON_mail=alice@example.com"), "{body}");
        assert!(body.contains("MELLON_displayName=Alice Liddell"), "{body}");
        assert!(body.contains("MELLON_groups=staff"), "{body}");
        assert!(form.contains("EncryptedAssertion") || {
            // The form carries the Response base64-encoded: look inside.
            let (_, fields) = form_of(&form).unwrap();
            let xml = String::from_utf8(integration_tests::saml::unb64(&fields[0].1)).unwrap();
            xml.contains("EncryptedAssertion")
        }, "encrypted to mellon's key");

        // mellon's logout: its LogoutRequest ends passgrid's session, passgrid answers.
        let logout = format!("http://127.0.0.1:{port}/mellon/logout?ReturnTo={}", url_encode(&format!("http://127.0.0.1:{port}/bye.html")));
        let (status, url, body) = follow(&server, &ca, &jar, logout, |_| false);
        assert_eq!(status, 200, "{body}\n{}", log());
        assert!(url.ends_with("/bye.html") && body.contains("bye"), "{url}: {body}");
        assert!(!has_session(&server, &jar), "passgrid's session ended");
        let slo = audit(&server, &admin, "saml.logout");
        assert!(slo.iter().any(|e| e["actor"] == "alice" && e["reason"].as_str().unwrap().contains("signed LogoutRequest")), "{slo:?}");
        let (status, location, _) = browse(&ca, &jar, &page, &[]);
        assert_eq!(status, 303, "signed out of the page too");
        assert!(location.unwrap().contains("/mellon/login"));

        // IdP-initiated: the portal's tile, the RelayState naming the page.
        let jar = dir.path().join("alice2.jar");
        browse(&ca, &jar, &server.url("/login"), &[]);
        let next = sign_in_form(&server, &ca, &jar, "alice", &CELLS, &[]);
        assert!(next.ends_with("/me"), "{next}");
        let (_, _, portal) = browse(&ca, &jar, &next, &[]);
        assert!(portal.contains("href=\"/saml/start/mellon\""), "a tile: {portal}");
        let start = server.url(&format!("/saml/start/mellon?RelayState={}", url_encode(&page)));
        let (status, _, form) = browse(&ca, &jar, &start, &[]);
        assert_eq!(status, 200, "{form}");
        let (status, location, _) = submit(&ca, &jar, &form);
        assert_eq!((status, location.as_deref()), (303, Some(page.as_str())), "{}", log());
        let (status, _, body) = browse(&ca, &jar, &page, &[]);
        assert_eq!(status, 200);
        assert!(body.contains(&format!("MELLON_NAME_ID={name_id}")), "the same persistent NameID: {body}");

        // passgrid's own logout reaches mellon through the browser (LogoutRequest).
        let (_, _, login_page) = browse(&ca, &jar, &server.url("/login"), &[]);
        let csrf = csrf_field(&login_page);
        let (status, location, _) = browse(&ca, &jar, &server.url("/logout"), &["-d", &format!("csrf={csrf}")]);
        assert_eq!(status, 303);
        let (status, url, _) = follow(&server, &ca, &jar, absolute(&server, &location.unwrap()), |_| false);
        assert_eq!(status, 200, "{}", log());
        assert!(url.ends_with("/login"), "back at passgrid's sign-in: {url}");
        let (status, location, _) = browse(&ca, &jar, &page, &[]);
        assert_eq!(status, 303, "mellon's session ended too: {}", log());
        assert!(location.unwrap().contains("/mellon/login"));
        let slo = audit(&server, &admin, "saml.logout");
        assert!(slo.iter().any(|e| e["reason"] == "LogoutRequest sent to the SP"), "{slo:?}");
        assert!(slo.iter().any(|e| e["reason"] == "LogoutResponse: the SP logged out" && e["outcome"] == "success"), "{slo:?}");
    }
}
