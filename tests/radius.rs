//! passgrid's RADIUS server (issue #18, SPEC §10.4) from the outside: the real binary
//! with `[radius]` on loopback, spoken to by the tests' own RADIUS client
//! (`radius_support::wire`, written from the RFCs, sharing no code with passgrid),
//! which checks every reply's Response Authenticator and Message-Authenticator.
//! The peers (radclient, FreeRADIUS, eapol_test, pam_radius_auth, radsecproxy) are in
//! `radius_peers.rs`.

#[path = "radius_support/mod.rs"]
mod radius_support;

use std::time::Duration;

use integration_tests::*;
use radius_support::wire::{self, Ma, ACCESS_ACCEPT, ACCESS_CHALLENGE, ACCESS_REJECT};
use radius_support::{Radius, CELLS, SECRET};
use serde_json::{json, Value};

fn class_of(reply: &wire::Reply) -> String {
    String::from_utf8_lossy(reply.first(wire::CLASS).expect("a Class")).to_string()
}

fn metric_sum(text: &str, prefix: &str) -> f64 {
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

on_both_databases! {
    /// PassLogic's way: the portal shows a grid for the VPN, the VPN client sends its
    /// OTP by PAP; accepted once, never twice, never without a grid.
    fn pap_with_the_portals_grid_is_accepted_once(db: Db) {
        let r = Radius::start(db, "radius-pap", "");
        r.user("alice");
        let jar = r.path("alice.jar");
        r.sign_in("alice", &jar);
        let mut nas = r.nas();

        // No grid asked for yet: the right-looking answer of no grid is refused.
        let reply = nas.ask("alice", "123456");
        assert_eq!(reply.code, ACCESS_REJECT);
        assert_eq!(reply.message(), "Authentication failed");

        let otp = r.vpn_otp(&jar);
        let reply = nas.ask("alice", &otp);
        assert_eq!(reply.code, ACCESS_ACCEPT, "{}", reply.message());
        assert!(class_of(&reply).starts_with("passgrid:"), "{}", class_of(&reply));
        // The same OTP again (a new request, not a retransmission): the grid is spent.
        let again = nas.ask("alice", &otp);
        assert_eq!(again.code, ACCESS_REJECT);

        // A wrong OTP spends the grid too: the right one after it is refused.
        let otp = r.vpn_otp(&jar);
        let wrong: String = otp.chars().map(|c| if c == '9' { '0' } else { '9' }).collect();
        assert_eq!(nas.ask("alice", &wrong).code, ACCESS_REJECT);
        assert_eq!(nas.ask("alice", &otp).code, ACCESS_REJECT);

        // Another user's grid is no use for alice.
        r.user("bob");
        let bob_jar = r.path("bob.jar");
        r.sign_in("bob", &bob_jar);
        let bob_otp = r.vpn_otp(&bob_jar);
        assert_eq!(nas.ask("alice", &bob_otp).code, ACCESS_REJECT);
        assert_eq!(nas.ask("bob", &bob_otp).code, ACCESS_ACCEPT);

        // Audited: the web grid, the login (the one decision's entry) and the accept.
        assert!(!r.audit("radius.web_grid").is_empty());
        let accepts = r.audit("radius.accept");
        assert_eq!(accepts.len(), 2, "{accepts:?}");
        assert!(accepts.iter().any(|e| e["actor"] == "alice" && e["target"] == "vpn"));
        let logins = r.audit("auth.login");
        assert!(logins.iter().any(|e| e["actor"] == "alice" && e["outcome"] == "failure" && e["source"].as_str().unwrap_or_default().contains("radius vpn")), "{logins:?}");
    }
}

/// The page of the portal: the grid is shown there (the island draws it from the
/// seed in the page), bound to the signed-in user; its OTP signs in to the VPN.
#[test]
fn the_portals_vpn_page_shows_a_grid_whose_otp_signs_in() {
    let r = Radius::start(Db::Sqlite, "radius-page", "");
    r.user("carol");
    let jar = r.path("carol.jar");
    r.sign_in("carol", &jar);
    let jar_s = jar.to_str().unwrap();
    let (status, me) = r.server.curl("/me", &["-b", jar_s, "-c", jar_s]);
    assert_eq!(status, 200);
    assert!(
        me.contains("href=\"/me/vpn\""),
        "the portal links the VPN page: {me}"
    );
    let (status, page) = r.server.curl("/me/vpn", &["-b", jar_s, "-c", jar_s]);
    assert_eq!(status, 200);
    let csrf = page
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("csrf field")
        .to_string();
    let out = std::process::Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{redirect_url}",
            "--cacert",
        ])
        .arg(r.server.ca_pem())
        .args(["-b", jar_s, "-c", jar_s, "-d", &format!("csrf={csrf}")])
        .arg(r.server.url("/me/vpn/grid"))
        .output()
        .unwrap();
    let answer = String::from_utf8_lossy(&out.stdout).to_string();
    let location = answer.split(' ').nth(1).unwrap_or_default().to_string();
    assert!(
        answer.starts_with("303") && location.contains("/me/vpn/grid?c="),
        "{answer}"
    );
    let path = &location[location.find("/me/vpn").unwrap()..];
    let (status, page) = r.server.curl(path, &["-b", jar_s, "-c", jar_s]);
    assert_eq!(status, 200);
    let challenge = path.trim_start_matches("/me/vpn/grid?c=");
    assert!(
        page.contains(&format!("data-challenge=\"{challenge}\"")),
        "{page}"
    );
    // The island's props carry the seed; the digits are derived as the browser does.
    let seed_hex = page
        .split("&quot;seed&quot;:&quot;")
        .nth(1)
        .and_then(|rest| rest.split('&').next())
        .unwrap_or_else(|| panic!("no seed in the page: {page}"));
    let seed: [u8; 32] = (0..32)
        .map(|i| u8::from_str_radix(&seed_hex[2 * i..2 * i + 2], 16).unwrap())
        .collect::<Vec<_>>()
        .try_into()
        .unwrap();
    let digits: String = app::grid::digits_from_seed(&seed, app::grid::GridShape::default())
        .iter()
        .map(|d| char::from(b'0' + d))
        .collect();
    // Another signed-in user cannot open carol's grid page.
    r.user("dan");
    let dan = r.path("dan.jar");
    r.sign_in("dan", &dan);
    let dan_s = dan.to_str().unwrap();
    let (_, other) = r.server.curl(path, &["-b", dan_s, "-c", dan_s]);
    assert!(
        !other.contains(seed_hex),
        "a grid is shown to its user only"
    );

    let mut nas = r.nas();
    let reply = nas.ask("carol", &wire::otp_at(&digits, &CELLS));
    assert_eq!(reply.code, ACCESS_ACCEPT, "{}", reply.message());
}

on_both_databases! {
    /// Access-Challenge: the grid as text under a single-use State bound to the user
    /// and the NAS; unknown IDs get a challenge that looks the same.
    fn access_challenge_round(db: Db) {
        let r = Radius::start(db, "radius-challenge", "radius_mode = \"challenge\"");
        r.user("erin");
        let mut nas = r.nas();
        let first = nas.ask("erin", "");
        assert_eq!(first.code, ACCESS_CHALLENGE, "{}", first.message());
        let state = first.first(wire::STATE).expect("a State").to_vec();
        assert_eq!(state.len(), 32);
        let message = first.message();
        let lines: Vec<&str> = message.lines().collect();
        assert_eq!(lines[0].split_whitespace().collect::<Vec<_>>(), ["A", "B", "C"], "{message}");
        let digits = wire::grid_digits(&message);
        assert_eq!(digits.len(), 48, "{message}");
        assert!(message.len() <= 253, "one Reply-Message attribute");
        let otp = wire::otp_at(&digits, &CELLS);

        // The State is bound to the user: bob cannot answer erin's challenge.
        r.user("bob");
        let stolen = nas.ask_with("bob", &otp, &[(wire::STATE, state.clone())]);
        assert_eq!(stolen.code, ACCESS_REJECT);
        // ... and erin's still works (a stranger's try does not spend it).
        let reply = nas.ask_with("erin", &otp, &[(wire::STATE, state.clone())]);
        assert_eq!(reply.code, ACCESS_ACCEPT, "{}", reply.message());
        // Single use.
        assert_eq!(nas.ask_with("erin", &otp, &[(wire::STATE, state.clone())]).code, ACCESS_REJECT);
        // A State passgrid never made.
        assert_eq!(nas.ask_with("erin", &otp, &[(wire::STATE, vec![7; 32])]).code, ACCESS_REJECT);

        // An unknown ID: a challenge of the same shape (a decoy grid), refused after.
        let decoy = nas.ask("nobody-here", "");
        assert_eq!(decoy.code, ACCESS_CHALLENGE);
        assert_eq!(decoy.first(wire::STATE).unwrap().len(), 32);
        assert_eq!(wire::grid_digits(&decoy.message()).len(), 48);
        assert_eq!(decoy.message().lines().count(), message.lines().count());
        let guess = wire::otp_at(&wire::grid_digits(&decoy.message()), &CELLS);
        let state = decoy.first(wire::STATE).unwrap().to_vec();
        assert_eq!(nas.ask_with("nobody-here", &guess, &[(wire::STATE, state)]).code, ACCESS_REJECT);
    }
}

/// TOTP by PAP with codes from `oathtool`, once each; grid + TOTP with the portal's
/// grid and a code; EAP and the rest in `radius_peers.rs`.
#[test]
fn totp_codes_from_oathtool_are_accepted_once() {
    let r = Radius::start_with(Db::Sqlite, "radius-totp", "", |data, db| {
        radius_support::cli_on(data, db, &["group", "add", "tokens"]);
        radius_support::cli_on(data, db, &["group", "add", "both"]);
        radius_support::cli_on(data, db, &["policy", "set", "tokens", "method=totp"]);
        radius_support::cli_on(
            data,
            db,
            &[
                "policy",
                "attach",
                "tokens",
                "--group",
                "tokens",
                "--priority",
                "10",
            ],
        );
        radius_support::cli_on(data, db, &["policy", "set", "both", "method=both"]);
        radius_support::cli_on(
            data,
            db,
            &[
                "policy",
                "attach",
                "both",
                "--group",
                "both",
                "--priority",
                "10",
            ],
        );
    });
    let seed = "3132333435363738393031323334353637383930";
    let seed2 = "3132333435363738393031323334353637383931";
    let csv = r.path("tokens.csv");
    std::fs::write(&csv, format!("serial,seed\nT-1,{seed}\nT-2,{seed2}\n")).unwrap();
    r.cli(&["token", "import", csv.to_str().unwrap()]);
    for (user, group, serial) in [("tina", "tokens", "T-1"), ("bo", "both", "T-2")] {
        r.cli(&["user", "add", user, "--group", group]);
        let cells: Vec<String> = CELLS.iter().map(|c| c.to_string()).collect();
        r.cli(&["user", "set-pattern", user, "--cells", &cells.join(",")]);
        r.cli(&["token", "assign", serial, user]);
    }
    let code = |s: &str| {
        let out = std::process::Command::new("oathtool")
            .args(["--totp", s])
            .output()
            .expect("oathtool (Debian package oathtool)");
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    let mut nas = r.nas();
    let c = code(seed);
    let reply = nas.ask("tina", &c);
    assert_eq!(reply.code, ACCESS_ACCEPT, "{}", reply.message());
    assert_eq!(
        nas.ask("tina", &c).code,
        ACCESS_REJECT,
        "a code is never accepted twice"
    );
    assert_eq!(nas.ask("tina", "000000").code, ACCESS_REJECT);

    // Grid + TOTP: the portal's grid, a colon, the code.
    let jar = r.path("bo.jar");
    let (status, start) = post_json(
        &r.server,
        "/api/v1/auth/start",
        &json!({"user": "bo"}),
        &jar,
    );
    assert_eq!(status, 200, "{start}");
    let cells: Vec<u64> = CELLS.iter().map(|&c| c as u64).collect();
    let (status, done) = post_json(
        &r.server,
        "/api/v1/auth/verify",
        &json!({"challenge": start["challenge"], "otp": otp_from(&start, &cells), "totp": code(seed2)}),
        &jar,
    );
    assert_eq!(status, 200, "{done}");
    let jar_s = jar.to_str().unwrap();
    r.server.curl("/me", &["-b", jar_s, "-c", jar_s]);
    // The web sign-in used this step's code: the VPN needs the next one.
    let otp = r.vpn_otp(&jar);
    let step = |offset: i64| {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let out = std::process::Command::new("oathtool")
            .args(["--totp", &format!("--now=@{}", now + offset), seed2])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    assert_eq!(
        nas.ask("bo", &format!("{otp}:{}", step(0))).code,
        ACCESS_REJECT,
        "the code the web took"
    );
    let otp = r.vpn_otp(&jar);
    let reply = nas.ask("bo", &format!("{otp}:{}", step(30)));
    assert_eq!(reply.code, ACCESS_ACCEPT, "{}", reply.message());
}

/// Blast-RADIUS (CVE-2024-3596): a request without a Message-Authenticator, with a
/// wrong one, with the wrong secret or from an unknown address gets no answer at all,
/// and each is counted; a retransmission gets the identical answer, decided once.
#[test]
fn no_answer_without_a_valid_message_authenticator_and_retransmissions_repeat() {
    let r = Radius::start(
        Db::Sqlite,
        "radius-ma",
        "radius_mode = \"challenge\"\nlockout_threshold = 2",
    );
    r.user("fay");
    let mut nas = r.nas();
    let before = r.metrics();
    assert!(
        nas.access("fay", "x", &[], Ma::Missing).is_none(),
        "no Message-Authenticator"
    );
    assert!(
        nas.access("fay", "x", &[], Ma::Wrong).is_none(),
        "a wrong Message-Authenticator"
    );
    let mut stranger = wire::Nas::new("127.0.0.1", r.udp, "not-the-secret-of-vpn");
    assert!(
        stranger.access("fay", "x", &[], Ma::Valid).is_none(),
        "a wrong secret"
    );
    let mut unknown = wire::Nas::new("127.0.0.9", r.udp, SECRET);
    assert!(
        unknown.access("fay", "x", &[], Ma::Valid).is_none(),
        "an unknown address"
    );
    let after = r.metrics();
    let delta = |reason: &str| {
        let name =
            format!("passgrid_radius_dropped_total{{transport=\"udp\",reason=\"{reason}\"}}");
        metric(&after, &name) - metric(&before, &name)
    };
    assert_eq!(delta("missing_message_authenticator"), 1.0);
    // A wrong secret shows as a wrong Message-Authenticator.
    assert_eq!(delta("bad_message_authenticator"), 2.0);
    assert_eq!(delta("unknown_client"), 1.0);

    // Retransmission: the same octets twice get the same octets back, one challenge.
    let id = nas.id();
    let (bytes, auth) = wire::access_request(
        id,
        SECRET.as_bytes(),
        &[(wire::USER_NAME, b"fay".to_vec())],
        Some(b""),
        Ma::Valid,
    );
    let first = nas.send_raw(&bytes).expect("answer");
    let second = nas.send_raw(&bytes).expect("answer to the retransmission");
    assert_eq!(first, second, "identical answer");
    let challenge = wire::check_reply(&first, &auth, SECRET.as_bytes(), true);
    assert_eq!(challenge.code, ACCESS_CHALLENGE);
    let state = challenge.first(wire::STATE).unwrap().to_vec();
    let digits = wire::grid_digits(&challenge.message());
    // A wrong OTP sent four times (one request, three retransmissions) counts once:
    // with a lock-out threshold of 2, fay is not locked after it.
    let wrong: String = wire::otp_at(&digits, &CELLS)
        .chars()
        .map(|c| if c == '1' { '2' } else { '1' })
        .collect();
    let id = nas.id();
    let (bytes, auth) = wire::access_request(
        id,
        SECRET.as_bytes(),
        &[(wire::USER_NAME, b"fay".to_vec()), (wire::STATE, state)],
        Some(wrong.as_bytes()),
        Ma::Valid,
    );
    let replies: Vec<Vec<u8>> = (0..4)
        .map(|_| nas.send_raw(&bytes).expect("answer"))
        .collect();
    assert!(replies.windows(2).all(|w| w[0] == w[1]));
    assert_eq!(
        wire::check_reply(&replies[0], &auth, SECRET.as_bytes(), true).code,
        ACCESS_REJECT
    );
    let text = r.metrics();
    assert!(
        metric(&text, "passgrid_radius_duplicates_total{transport=\"udp\"}") >= 4.0,
        "{text}"
    );
    let next = nas.ask("fay", "");
    assert_eq!(
        next.code, ACCESS_CHALLENGE,
        "one failure counted, not four: fay is not locked"
    );
    let otp = wire::otp_at(&wire::grid_digits(&next.message()), &CELLS);
    let state = next.first(wire::STATE).unwrap().to_vec();
    assert_eq!(
        nas.ask_with("fay", &otp, &[(wire::STATE, state)]).code,
        ACCESS_ACCEPT
    );
}

on_both_databases! {
    /// N wrong OTPs over RADIUS lock the ID for the web too (one counter); a locked ID
    /// gets Access-Reject without a challenge; the NAS's application rules and the
    /// group reply attributes hold.
    fn lockout_is_shared_with_the_web_and_rules_hold(db: Db) {
        let r = Radius::start_with(db, "radius-lock", "radius_mode = \"challenge\"\nlockout_threshold = 3\nlockout_secs = 600", |data, db| {
            radius_support::cli_on(data, db, &["group", "add", "vpn"]);
            radius_support::cli_on(data, db, &["radius", "reply", "set", "vpn", "Filter-Id=vpn-staff", "Cisco-AVPair=shell:priv-lvl=15"]);
            radius_support::cli_on(data, db, &["app", "set", "vpn", "--group", "vpn"]);
        });
        r.user("gus");
        r.cli(&["user", "add", "hal", "--group", "vpn"]);
        let cells: Vec<String> = CELLS.iter().map(|c| c.to_string()).collect();
        r.cli(&["user", "set-pattern", "hal", "--cells", &cells.join(",")]);
        let mut nas = r.nas();
        let round = |nas: &mut wire::Nas, user: &str, right: bool| {
            let c = nas.ask(user, "");
            assert_eq!(c.code, ACCESS_CHALLENGE, "{user}: {}", c.message());
            let otp = wire::otp_at(&wire::grid_digits(&c.message()), &CELLS);
            let otp = if right { otp } else { otp.chars().map(|d| if d == '5' { '6' } else { '5' }).collect() };
            nas.ask_with(user, &otp, &[(wire::STATE, c.first(wire::STATE).unwrap().to_vec())])
        };
        // gus is not in group vpn: the right OTP, then the NAS's rule refuses him.
        assert_eq!(round(&mut nas, "gus", true).code, ACCESS_REJECT);
        let refused = r.audit("radius.refused");
        assert!(refused.iter().any(|e| e["actor"] == "gus" && e["reason"].as_str().unwrap().contains("not in an allowed group")), "{refused:?}");
        // hal is: Accept with the group's attributes.
        let ok = round(&mut nas, "hal", true);
        assert_eq!(ok.code, ACCESS_ACCEPT, "{}", ok.message());
        assert_eq!(ok.first(wire::FILTER_ID), Some(&b"vpn-staff"[..]));
        let vsa = ok.first(wire::VENDOR_SPECIFIC).expect("Cisco-AVPair");
        // Vendor 9 (Cisco), type 1, length 2 + 17 (RFC 2865 §5.26).
        assert_eq!(&vsa[..6], &[0, 0, 0, 9, 1, 19]);
        assert_eq!(&vsa[6..], b"shell:priv-lvl=15");

        for _ in 0..3 {
            assert_eq!(round(&mut nas, "hal", false).code, ACCESS_REJECT);
        }
        // Locked: no challenge over RADIUS...
        let locked = nas.ask("hal", "");
        assert_eq!(locked.code, ACCESS_REJECT);
        assert!(locked.first(wire::STATE).is_none());
        // ... and none on the web either.
        let jar = r.path("hal.jar");
        let (status, body) = post_json(&r.server, "/api/v1/auth/start", &json!({"user": "hal"}), &jar);
        assert_eq!((status, body["error"].as_str()), (403, Some("account_locked")), "{body}");
        let lockouts = r.audit("auth.lockout");
        assert!(!lockouts.is_empty());
        r.cli(&["user", "unlock", "hal"]);
        assert_eq!(round(&mut nas, "hal", true).code, ACCESS_ACCEPT);
    }
}

/// Accounting (RFC 2866) is answered, so NAS devices stop retrying, and audited with
/// the session and the Class of the sign-in.
#[test]
fn accounting_is_answered_and_audited() {
    let r = Radius::start(Db::Sqlite, "radius-acct", "");
    let nas = r.nas();
    let (bytes, auth) = wire::accounting_request(
        9,
        SECRET.as_bytes(),
        &[
            (wire::USER_NAME, b"ivy".to_vec()),
            (wire::ACCT_STATUS_TYPE, 1u32.to_be_bytes().to_vec()),
            (wire::ACCT_SESSION_ID, b"sess-42".to_vec()),
            (wire::CLASS, b"passgrid:0123456789abcdef".to_vec()),
        ],
    );
    let raw = nas.send_raw(&bytes).expect("Accounting-Response");
    let reply = wire::check_reply(&raw, &auth, SECRET.as_bytes(), false);
    assert_eq!(reply.code, wire::ACCOUNTING_RESPONSE);
    // A wrong accounting authenticator: no answer.
    let mut forged = bytes.clone();
    forged[5] ^= 1;
    assert!(nas.send_raw(&forged).is_none());
    let rows = r.audit("radius.accounting");
    assert_eq!(rows.len(), 1, "{rows:?}");
    let reason = rows[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("start")
            && reason.contains("sess-42")
            && reason.contains("passgrid:0123456789abcdef"),
        "{reason}"
    );
}

/// Truncated packets, wrong lengths, attributes overrunning the packet, unknown codes
/// and 10,000 random datagrams: dropped, counted, no panic; a legitimate round right
/// after succeeds.
#[test]
fn bad_packets_and_random_datagrams_are_dropped_and_counted() {
    let r = Radius::start(Db::Sqlite, "radius-bad", "radius_mode = \"challenge\"");
    r.user("jo");
    let mut nas = r.nas();
    let received = |text: &str| metric(text, "passgrid_radius_received_total{transport=\"udp\"}");
    let dropped = |text: &str| metric_sum(text, "passgrid_radius_dropped_total{transport=\"udp\"");
    let before = r.metrics();
    let id = nas.id();
    let (good, _) = wire::access_request(
        id,
        SECRET.as_bytes(),
        &[(wire::USER_NAME, b"jo".to_vec())],
        Some(b""),
        Ma::Valid,
    );
    let mut crafted: Vec<Vec<u8>> = vec![
        good[..10].to_vec(),             // truncated header
        good[..good.len() - 3].to_vec(), // shorter than its Length
        vec![],                          // empty
    ];
    let mut long = good.clone();
    long[2..4].copy_from_slice(&5000u16.to_be_bytes()); // Length over 4096
    crafted.push(long);
    let mut short = good.clone();
    short[2..4].copy_from_slice(&19u16.to_be_bytes()); // Length under the header
    crafted.push(short);
    let mut overrun = good.clone();
    overrun[21] = 250; // the first attribute claims more than the packet holds
    crafted.push(overrun);
    let mut zero = good.clone();
    zero[21] = 0; // an attribute of length 0
    crafted.push(zero);
    for code in [0u8, 2, 3, 11, 42, 255] {
        let mut c = good.clone();
        c[0] = code; // replies and unknown codes are not requests
        crafted.push(c);
    }
    for bytes in &crafted {
        assert!(nas.send_raw(bytes).is_none(), "{bytes:?} was answered");
    }
    // 10,000 random datagrams (xorshift; lengths 0..300), paced so loopback keeps them.
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    nas.socket.set_nonblocking(true).unwrap();
    for i in 0..10_000 {
        let len = (next() % 300) as usize;
        let mut d: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if i % 3 == 0 && d.len() >= 20 {
            // Some look like Access-Requests with a fitting Length.
            d[0] = 1;
            let l = d.len() as u16;
            d[2..4].copy_from_slice(&l.to_be_bytes());
        }
        let _ = nas.socket.send_to(&d, r.udp);
        if i % 200 == 199 {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    let mut buf = [0u8; 4096];
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        nas.socket.recv_from(&mut buf).is_err(),
        "no random datagram was answered"
    );
    nas.socket.set_nonblocking(false).unwrap();
    // Everything that arrived was dropped and counted (the server may lose a few to a
    // full socket buffer before reading them; what it read, it counted).
    let mut after = r.metrics();
    for _ in 0..50 {
        if received(&after) - received(&before) >= 10_000.0 + crafted.len() as f64 - 100.0 {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        after = r.metrics();
    }
    let got = received(&after) - received(&before);
    assert!(got >= 9_000.0, "received {got}");
    assert_eq!(
        dropped(&after) - dropped(&before),
        got,
        "every datagram read was dropped: {after}"
    );
    assert!(
        metric(
            &after,
            "passgrid_radius_dropped_total{transport=\"udp\",reason=\"malformed\"}"
        ) >= crafted.len() as f64
    );

    // Still serving: a full challenge round right after.
    let c = nas.ask("jo", "");
    assert_eq!(c.code, ACCESS_CHALLENGE);
    let otp = wire::otp_at(&wire::grid_digits(&c.message()), &CELLS);
    let reply = nas.ask_with(
        "jo",
        &otp,
        &[(wire::STATE, c.first(wire::STATE).unwrap().to_vec())],
    );
    assert_eq!(reply.code, ACCESS_ACCEPT);
    let (status, _) = r.server.curl("/healthz", &[]);
    assert_eq!(status, 200);
}

/// The command line: secrets come from a file, are checked, never printed; a NAS is
/// an application; removal takes its application with it.
#[test]
fn radius_clients_from_the_command_line() {
    let r = Radius::start(Db::Sqlite, "radius-cli", "");
    let short = r.path("short.secret");
    std::fs::write(&short, "tooshort\n").unwrap();
    let out = r.server.cli(&[
        "radius",
        "client",
        "add",
        "sw1",
        "--address",
        "10.0.0.0/8",
        "--secret-file",
        short.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("16 to 128"), "{}", stderr(&out));
    let out = r.server.cli(&[
        "radius",
        "client",
        "add",
        "sw1",
        "--address",
        "10.0.0.0/33",
        "--secret-file",
        short.to_str().unwrap(),
    ]);
    assert!(!out.status.success());
    let good = r.path("good.secret");
    std::fs::write(&good, "a-long-enough-shared-secret\n").unwrap();
    let listed = r.cli(&[
        "radius",
        "client",
        "add",
        "sw1",
        "--address",
        "10.0.0.0/8",
        "--secret-file",
        good.to_str().unwrap(),
        "--require-message-authenticator",
        "false",
    ]);
    assert!(
        listed.contains("sw1") && listed.contains("optional"),
        "{listed}"
    );
    let list: Value =
        serde_json::from_str(&r.cli(&["--json", "radius", "client", "list"])).unwrap();
    let text = list.to_string();
    assert!(
        !text.contains("a-long-enough-shared-secret") && !text.contains(SECRET),
        "secrets are never shown"
    );
    assert_eq!(list.as_array().unwrap().len(), 2);
    let apps = r.cli(&["app", "list"]);
    assert!(apps.contains("sw1\tradius"), "{apps}");
    // Not in the database in clear either.
    let dump = r.db.sql(
        &r.server.data_dir,
        "SELECT hex(secret_sealed) FROM radius_clients",
    );
    assert!(!dump.contains(&hex_upper("a-long-enough-shared-secret")));
    r.cli(&["radius", "client", "remove", "sw1"]);
    assert!(!r.cli(&["app", "list"]).contains("sw1"));
    let out = r.server.cli(&["radius", "client", "remove", "sw1"]);
    assert!(!out.status.success());
    let out = r
        .server
        .cli(&["radius", "reply", "set", "nogroup", "Filter-Id=x"]);
    assert!(!out.status.success());
    r.cli(&["group", "add", "staff"]);
    let out = r.server.cli(&[
        "radius",
        "reply",
        "set",
        "staff",
        "Framed-IP-Address=10.0.0.1",
    ]);
    assert!(
        stderr(&out).contains("not a known reply attribute"),
        "{}",
        stderr(&out)
    );
}

fn hex_upper(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02X}")).collect()
}
