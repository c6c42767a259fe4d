//! The RADIUS paths of the login decision in-process, in the style of `auth::tests`:
//! a store in memory, a clock that moves only when a test moves it, and requests
//! handed to the RADIUS server's handler as the transports would (no socket). Every
//! path must reach the one login decision: the same counters, rules, decoys, audit.

use std::{path::Path, sync::Arc};

use app::{grid::digits_from_seed, pattern::otp_for};
use passgrid_radius::{
    attributes::microsoft,
    eap::{EapCode, EapPacket, MschapV2Message, TYPE_IDENTITY},
    mschapv2::generate_nt_response,
    Attribute, ClientInfo, Code, EapMschapv2, Handler, Packet, Reply, Request, Secret, Transport,
};

use super::{
    clients::NasTable,
    decide::{Decide, Events},
    state::parse_state,
    web_grid::{issue_web_grid, VpnGrid},
};
use crate::{
    auth::{
        login::{start_login, Client, Refusal, Started},
        Authenticator, LoginGuards,
    },
    ca::CertificateAuthority,
    clock::ManualClock,
    instance::{DataConfig, Instance},
    master_key::MasterKey,
    otp::{
        challenge::IssuedChallenge,
        patterns::store_pattern,
        tokens::{assign_token, import_token_file},
        totp::{code_at, step_of, TotpParams, TotpSecret},
    },
    policy::{AuthSettings, LoginMethod, RadiusMode, Rate},
    radius_clients::{add_client, NewRadiusClient},
    sso::clients::AppRules,
    store::{audit::AuditFilter, scratch::memory_store, users::NewUser},
};

mod eap;

/// Friday 15 January 2027, 08:00 UTC.
const T0: i64 = 1_800_000_000;
const CELLS: [u16; 6] = [3, 17, 22, 40, 41, 9];
const SECRET: &str = "a-shared-secret-of-the-nas";
const SEED_HEX: &str = "3132333435363738393031323334353637383930";

struct Fixture {
    decide: Decide,
    clock: Arc<ManualClock>,
}

async fn fixture(configure: impl FnOnce(&mut AuthSettings)) -> Fixture {
    let store = memory_store().await;
    let (key, _) =
        MasterKey::load_or_create(Path::new("/nonexistent"), Some(&"42".repeat(32))).expect("key");
    let (ca, _) = CertificateAuthority::load_or_create(&store, &key, T0)
        .await
        .expect("ca");
    let clock = Arc::new(ManualClock::at(T0));
    let instance = Instance {
        data: DataConfig {
            data_dir: "/nonexistent".into(),
            database_url: "memory".into(),
        },
        master_key: Arc::new(key),
        store,
        ca: Arc::new(ca),
        clock: clock.clone(),
        created: Default::default(),
    };
    let mut auth = AuthSettings::default();
    configure(&mut auth);
    let guards = LoginGuards::new(&instance, &auth).expect("guards");
    for name in ["vpn", "other"] {
        add_client(
            &instance,
            &NewRadiusClient {
                name,
                address: if name == "vpn" {
                    "127.0.0.1"
                } else {
                    "127.0.0.2"
                },
                secret: Some(SECRET.as_bytes()),
                require_message_authenticator: true,
                rules: &AppRules::default(),
            },
            T0,
        )
        .await
        .expect("nas");
    }
    let nas = NasTable::load(&instance).await.expect("nas table");
    Fixture {
        decide: Decide {
            authn: Authenticator {
                instance,
                auth: Arc::new(auth),
                guards: Arc::new(guards),
                mailer: None,
                public_url: "https://passgrid.test".into(),
                policies: Default::default(),
            },
            nas,
            eap: EapMschapv2::new("passgrid"),
            events: Arc::new(Events::default()),
        },
        clock,
    }
}

fn info(nas: &str) -> ClientInfo {
    ClientInfo {
        name: nas.into(),
        source: if nas == "vpn" {
            "127.0.0.1:40000"
        } else {
            "127.0.0.2:40000"
        }
        .parse()
        .expect("address"),
        transport: Transport::Udp,
    }
}

/// An Access-Request as the UDP transport hands it over (already authenticated).
fn pap(nas: &str, user: &str, password: &str, extra: &[Attribute]) -> Request {
    let secret = Secret::from(SECRET);
    let mut p = Packet::new(Code::AccessRequest, 7, rand::random());
    p.push(Attribute::user_name(user.as_bytes()));
    p.set_user_password(password.as_bytes(), &secret)
        .expect("password");
    p.attributes.extend_from_slice(extra);
    Request::new(p, info(nas), secret)
}

impl Fixture {
    fn authn(&self) -> &Authenticator {
        &self.decide.authn
    }

    /// Imports the hardware token HW-1 (seed `SEED_HEX`), gives it to `user` and
    /// returns its code at `T0`.
    async fn give_hardware_token(&self, user: &str) -> String {
        let store = &self.authn().instance.store;
        let key = &self.authn().instance.master_key;
        let file = format!("serial,seed\nHW-1,{SEED_HEX}\n");
        import_token_file(store, key, file.as_bytes(), None, T0)
            .await
            .expect("import");
        assign_token(store, "HW-1", user, T0).await.expect("assign");
        let params = TotpParams::default();
        let secret = TotpSecret::from_bytes(hex::decode(SEED_HEX).expect("hex")).expect("secret");
        code_at(&secret, &params, step_of(&params, T0))
    }

    async fn add_user(&self, id: &str, initial: bool) {
        let store = &self.authn().instance.store;
        let user = NewUser {
            id,
            display_name: id,
            email: None,
            admin_role: None,
            source: "local",
        };
        store.create_user(&user, T0).await.expect("user");
        store_pattern(
            store,
            &self.authn().instance.master_key,
            id,
            &CELLS,
            self.authn().auth.pattern_policy(),
            initial,
            T0,
        )
        .await
        .expect("pattern");
    }

    async fn ask(&self, request: Request) -> Reply {
        self.decide.handle(request).await.expect("an answer")
    }

    async fn web_grid(&self, user: &str) -> IssuedChallenge {
        match issue_web_grid(self.authn(), user, "198.51.100.7".parse().ok())
            .await
            .expect("grid")
        {
            VpnGrid::Issued(issued) => issued,
            VpnGrid::NotAvailable(why) => panic!("{user}: {why}"),
            VpnGrid::Refused(r) => panic!("{user}: {r:?}"),
        }
    }

    async fn audit(&self, action: &str, outcome: &str) -> Vec<crate::store::audit::AuditEntry> {
        let filter = AuditFilter {
            action: Some(action.into()),
            outcome: Some(outcome.into()),
            limit: 1000,
            ..Default::default()
        };
        self.authn()
            .instance
            .store
            .search_audit(&filter)
            .await
            .expect("audit")
    }
}

fn otp_of(seed: &[u8; 32], shape: app::grid::GridShape) -> String {
    let digits = digits_from_seed(seed, shape);
    String::from_utf8(otp_for(&digits, &CELLS).expect("cells")).expect("digits")
}

fn wrong(otp: &str) -> String {
    otp.bytes()
        .map(|d| char::from(b'0' + (d - b'0' + 1) % 10))
        .collect()
}

fn packet_of(reply: &Reply) -> Packet {
    let mut p = Packet::new(reply.code, 0, [0; 16]);
    p.attributes = reply.attributes.clone();
    p
}

/// The OTP for the grid text of a challenge.
fn challenge_otp(reply: &Reply) -> (Vec<u8>, String) {
    let p = packet_of(reply);
    let text = String::from_utf8(p.reply_message().expect("Reply-Message")).expect("utf-8");
    let digits: Vec<u8> = text
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        .flat_map(|l| {
            l.split_whitespace()
                .skip(1)
                .flat_map(|g| g.bytes().map(|b| b - b'0'))
                .collect::<Vec<_>>()
        })
        .collect();
    let otp = CELLS
        .iter()
        .map(|&c| char::from(b'0' + digits[usize::from(c)]))
        .collect();
    (p.state().expect("State").to_vec(), otp)
}

#[tokio::test]
async fn the_portals_grid_signs_in_by_pap_once() {
    let fx = fixture(|_| {}).await;
    fx.add_user("ann", false).await;
    let issued = fx.web_grid("ann").await;
    let otp = otp_of(&issued.seed, issued.shape);
    let reply = fx.ask(pap("vpn", "ann", &otp, &[])).await;
    assert_eq!(reply.code, Code::AccessAccept);
    let class = packet_of(&reply).classes().next().expect("Class").to_vec();
    assert!(class.starts_with(b"passgrid:"));
    // Once.
    assert_eq!(
        fx.ask(pap("vpn", "ann", &otp, &[])).await.code,
        Code::AccessReject
    );
    // The portal's grid is consumed by the one decision: audited as a login.
    assert_eq!(fx.audit("auth.login", "success").await.len(), 1);
    let accepts = fx.audit("radius.accept", "success").await;
    assert_eq!(accepts.len(), 1);
    assert!(accepts[0]
        .reason
        .contains(&String::from_utf8_lossy(&class).to_string()));
}

#[tokio::test]
async fn pap_without_a_grid_counts_toward_the_lockout_like_any_failure() {
    let fx = fixture(|s| s.lockout.threshold = 2).await;
    fx.add_user("ann", false).await;
    for _ in 0..2 {
        assert_eq!(
            fx.ask(pap("vpn", "ann", "123456", &[])).await.code,
            Code::AccessReject
        );
    }
    // Locked for the web too: one counter (SPEC §10.5).
    let flow = [1u8; 32];
    let client = Client {
        source: "192.0.2.1",
        ip: "192.0.2.1".parse().ok(),
        flow_hash: &flow,
        cert_serial: None,
        cert_fingerprint: None,
    };
    assert!(matches!(
        start_login(fx.authn(), "ann", &client)
            .await
            .expect("start"),
        Started::Refused(Refusal::Locked { .. })
    ));
    // ...and the portal gives no VPN grid while locked.
    assert!(matches!(
        issue_web_grid(fx.authn(), "ann", None).await.expect("grid"),
        VpnGrid::Refused(Refusal::Locked { .. })
    ));
    // Unknown IDs are counted the same way (nothing tells them apart).
    for _ in 0..2 {
        assert_eq!(
            fx.ask(pap("vpn", "nobody", "123456", &[])).await.code,
            Code::AccessReject
        );
    }
    assert_eq!(fx.audit("auth.lockout", "success").await.len(), 2);
}

#[tokio::test]
async fn an_access_challenge_is_bound_to_its_user_and_nas_and_answers_once() {
    let fx = fixture(|s| s.radius_mode = RadiusMode::Challenge).await;
    fx.add_user("ann", false).await;
    fx.add_user("bob", false).await;
    let first = fx.ask(pap("vpn", "ann", "", &[])).await;
    assert_eq!(first.code, Code::AccessChallenge);
    let (state, otp) = challenge_otp(&first);
    assert!(parse_state(&state).is_some());
    // Another NAS, another user: refused, and the challenge is still the owner's.
    let st = Attribute::state(&state);
    assert_eq!(
        fx.ask(pap("other", "ann", &otp, std::slice::from_ref(&st)))
            .await
            .code,
        Code::AccessReject
    );
    assert_eq!(
        fx.ask(pap("vpn", "bob", &otp, std::slice::from_ref(&st)))
            .await
            .code,
        Code::AccessReject
    );
    assert_eq!(
        fx.ask(pap("vpn", "ann", &otp, std::slice::from_ref(&st)))
            .await
            .code,
        Code::AccessAccept
    );
    assert_eq!(
        fx.ask(pap("vpn", "ann", &otp, std::slice::from_ref(&st)))
            .await
            .code,
        Code::AccessReject
    );
    // Expired: the challenge lifetime passes between the legs.
    let first = fx.ask(pap("vpn", "ann", "", &[])).await;
    let (state, otp) = challenge_otp(&first);
    fx.clock.advance(fx.authn().auth.challenge_ttl_secs + 1);
    assert_eq!(
        fx.ask(pap("vpn", "ann", &otp, &[Attribute::state(&state)]))
            .await
            .code,
        Code::AccessReject
    );
    // Every attempt is audited: the other NAS's, bob's and the replay as a challenge
    // that is not theirs (or used), the late one as expired.
    let rows = fx.audit("auth.login", "failure").await;
    let reasons: Vec<&str> = rows.iter().map(|r| r.reason.as_str()).collect();
    assert_eq!(
        reasons
            .iter()
            .filter(|r| **r == "unknown or used challenge")
            .count(),
        3,
        "{reasons:?}"
    );
    assert_eq!(
        reasons
            .iter()
            .filter(|r| **r == "challenge expired")
            .count(),
        1,
        "{reasons:?}"
    );
}

#[tokio::test]
async fn unknown_ids_get_a_decoy_challenge_and_locked_ids_none() {
    let fx = fixture(|s| {
        s.radius_mode = RadiusMode::Challenge;
        s.lockout.threshold = 1;
    })
    .await;
    fx.add_user("ann", false).await;
    let real = fx.ask(pap("vpn", "ann", "", &[])).await;
    let decoy = fx.ask(pap("vpn", "nobody", "", &[])).await;
    assert_eq!(decoy.code, Code::AccessChallenge);
    let (rs, _) = challenge_otp(&real);
    let (ds, dotp) = challenge_otp(&decoy);
    assert_eq!(rs.len(), ds.len());
    assert_eq!(
        packet_of(&real).reply_message().map(|m| m.len()),
        packet_of(&decoy).reply_message().map(|m| m.len())
    );
    // The decoy fails at the answer, as a wrong OTP does, and counts.
    assert_eq!(
        fx.ask(pap("vpn", "nobody", &dotp, &[Attribute::state(&ds)]))
            .await
            .code,
        Code::AccessReject
    );
    let locked = fx.ask(pap("vpn", "nobody", "", &[])).await;
    assert_eq!(locked.code, Code::AccessReject);
    assert!(
        packet_of(&locked).state().is_none(),
        "no challenge when locked"
    );
}

#[tokio::test]
async fn rate_limits_login_protect_and_network_rules_hold_over_radius() {
    let fx = fixture(|s| {
        s.radius_mode = RadiusMode::Challenge;
        s.rate_per_user = Rate {
            burst: 2,
            per_minute: 1,
        };
    })
    .await;
    fx.add_user("ann", false).await;
    for _ in 0..2 {
        assert_eq!(
            fx.ask(pap("vpn", "ann", "", &[])).await.code,
            Code::AccessChallenge
        );
    }
    assert_eq!(
        fx.ask(pap("vpn", "ann", "", &[])).await.code,
        Code::AccessReject
    );
    assert!(!fx.audit("auth.refused", "failure").await.is_empty());

    let fx = fixture(|s| {
        s.radius_mode = RadiusMode::Challenge;
        s.login_protect = true;
    })
    .await;
    fx.add_user("ann", false).await;
    assert_eq!(
        fx.ask(pap("vpn", "ann", "", &[])).await.code,
        Code::AccessReject
    );

    // The user's address is the NAS's Calling-Station-Id when it is an address.
    let fx = fixture(|s| {
        s.radius_mode = RadiusMode::Challenge;
        s.access_source.networks = vec!["10.0.0.0/8".into()];
        s.access = s.access_source.parse().expect("rules");
    })
    .await;
    fx.add_user("ann", false).await;
    let from = |ip: &str| Attribute::calling_station_id(ip.as_bytes());
    assert_eq!(
        fx.ask(pap("vpn", "ann", "", &[from("192.0.2.9")]))
            .await
            .code,
        Code::AccessReject
    );
    let first = fx.ask(pap("vpn", "ann", "", &[from("10.1.2.3")])).await;
    assert_eq!(first.code, Code::AccessChallenge);
    let (state, otp) = challenge_otp(&first);
    assert_eq!(
        fx.ask(pap(
            "vpn",
            "ann",
            &otp,
            &[from("10.1.2.3"), Attribute::state(&state)]
        ))
        .await
        .code,
        Code::AccessAccept
    );
}

#[tokio::test]
async fn an_unfinished_first_sign_in_and_a_policy_without_radius_are_refused() {
    let fx = fixture(|s| s.radius_mode = RadiusMode::Challenge).await;
    fx.add_user("new", true).await;
    let first = fx.ask(pap("vpn", "new", "", &[])).await;
    let (state, otp) = challenge_otp(&first);
    assert_eq!(
        fx.ask(pap("vpn", "new", &otp, &[Attribute::state(&state)]))
            .await
            .code,
        Code::AccessReject
    );
    let refused = fx.audit("radius.refused", "failure").await;
    assert!(refused[0].reason.contains("first sign-in not finished"));

    let fx = fixture(|s| s.radius_mode = RadiusMode::Off).await;
    fx.add_user("ann", false).await;
    assert_eq!(
        fx.ask(pap("vpn", "ann", "", &[])).await.code,
        Code::AccessReject
    );
    assert!(matches!(
        issue_web_grid(fx.authn(), "ann", None).await.expect("grid"),
        VpnGrid::NotAvailable("radius_off")
    ));
    // A policy that requires a device certificate: RADIUS shows none.
    let fx = fixture(|s| s.require_certificate = true).await;
    fx.add_user("ann", false).await;
    assert!(matches!(
        issue_web_grid(fx.authn(), "ann", None).await.expect("grid"),
        VpnGrid::NotAvailable("certificate_required")
    ));
}

#[tokio::test]
async fn totp_codes_by_pap_once_each() {
    let fx = fixture(|s| s.method = LoginMethod::Totp).await;
    fx.add_user("ann", false).await;
    let code = fx.give_hardware_token("ann").await;
    assert_eq!(
        fx.ask(pap("vpn", "ann", &code, &[])).await.code,
        Code::AccessAccept
    );
    assert_eq!(
        fx.ask(pap("vpn", "ann", &code, &[])).await.code,
        Code::AccessReject
    );
    // A TOTP user gets no VPN grid: the code is the password.
    assert!(matches!(
        issue_web_grid(fx.authn(), "ann", None).await.expect("grid"),
        VpnGrid::NotAvailable("uses_totp")
    ));
}

/// An EAP-MSCHAPv2 peer, simulated: identity, the response to the challenge for
/// `password`, and the Success-Response; returns the last reply.
#[tokio::test]
async fn accounting_is_answered_and_audited() {
    let fx = fixture(|_| {}).await;
    let mut p = Packet::new(Code::AccountingRequest, 3, [0; 16]);
    p.push(Attribute::user_name(b"ann"));
    p.push(Attribute::acct_status_type(2));
    p.push(Attribute::acct_session_id(b"s-1"));
    let reply = fx
        .ask(Request::new(p, info("vpn"), Secret::from(SECRET)))
        .await;
    assert_eq!(reply.code, Code::AccountingResponse);
    let rows = fx.audit("radius.accounting", "success").await;
    assert!(rows[0].reason.contains("stop session=s-1"));
}
