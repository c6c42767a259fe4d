//! The login decision in-process: every refusal and success path, with a store in
//! memory and a clock that moves only when a test moves it (no server, no socket, no
//! database file).

use std::{net::IpAddr, path::Path, sync::Arc};

use app::{grid::digits_from_seed, pattern::otp_for};

use super::{
    login::{finish_login, prepare_verify, start_login, Client, LoginOutcome, Refusal, Started},
    Authenticator, LoginGuards,
};
use crate::{
    ca::CertificateAuthority,
    clock::ManualClock,
    instance::{DataConfig, Instance},
    master_key::MasterKey,
    otp::{
        challenge::{IssuedChallenge, Purpose},
        patterns::store_pattern,
        phrase::{PhraseMode, PhraseRule},
        tokens::{assign_token, import_token_file},
        totp::{code_at, step_of, TotpParams, TotpSecret},
    },
    policy::{access_rules::AccessSource, AuthSettings, LoginMethod, Rate},
    store::{audit::AuditFilter, scratch::memory_store, users::NewUser},
};

/// Friday 15 January 2027, 08:00 UTC.
const T0: i64 = 1_800_000_000;
const CELLS: [u16; 8] = [3, 17, 17, 40, 9, 26, 44, 31];
const FLOW: [u8; 32] = [7; 32];
const SEED_HEX: &str = "3132333435363738393031323334353637383930";

struct Fixture {
    authn: Authenticator,
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
    Fixture {
        authn: Authenticator {
            instance,
            auth: Arc::new(auth),
            guards: Arc::new(guards),
            mailer: None,
            public_url: "https://passgrid.test".into(),
            policies: Default::default(),
        },
        clock,
    }
}

impl Fixture {
    async fn add_user(&self, id: &str) {
        let store = &self.authn.instance.store;
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
            &self.authn.instance.master_key,
            id,
            &CELLS,
            self.authn.auth.pattern_policy(),
            false,
            T0,
        )
        .await
        .expect("pattern");
    }

    async fn start(&self, user: &str, client: &Client<'_>) -> Started {
        start_login(&self.authn, user, client).await.expect("start")
    }

    async fn finish(
        &self,
        challenge: &str,
        otp: &str,
        totp: Option<&str>,
        client: &Client<'_>,
    ) -> LoginOutcome {
        let verification = prepare_verify(&self.authn, challenge).await.expect("facts");
        finish_login(&self.authn, &verification, challenge, otp, totp, client)
            .await
            .expect("finish")
    }

    async fn grid(&self, user: &str, client: &Client<'_>) -> IssuedChallenge {
        match self.start(user, client).await {
            Started::Grid(issued) => issued,
            Started::DeviceNotRegistered => panic!("{user}: device not registered"),
            Started::Refused(r) => panic!("{user}: refused {r:?}"),
        }
    }

    /// One wrong then a full start → finish with the right OTP.
    async fn sign_in(&self, user: &str, client: &Client<'_>) -> LoginOutcome {
        let issued = self.grid(user, client).await;
        self.finish(&issued.id, &right_otp(&issued), None, client)
            .await
    }

    async fn audit(&self, action: &str, outcome: &str) -> usize {
        let filter = AuditFilter {
            action: Some(action.into()),
            outcome: Some(outcome.into()),
            limit: 1000,
            ..Default::default()
        };
        self.authn
            .instance
            .store
            .search_audit(&filter)
            .await
            .expect("audit")
            .len()
    }
}

fn client(source: &str) -> Client<'_> {
    Client {
        source,
        ip: source.parse::<IpAddr>().ok(),
        flow_hash: &FLOW,
        cert_serial: None,
        cert_fingerprint: None,
    }
}

fn right_otp(issued: &IssuedChallenge) -> String {
    let digits = digits_from_seed(&issued.seed, issued.shape);
    let otp = otp_for(&digits, &CELLS).expect("cells on the grid");
    String::from_utf8(otp).expect("digits")
}

fn wrong_otp(issued: &IssuedChallenge) -> String {
    right_otp(issued)
        .bytes()
        .map(|d| char::from(b'0' + (d - b'0' + 1) % 10))
        .collect()
}

fn is_success(outcome: &LoginOutcome) -> bool {
    matches!(outcome, LoginOutcome::Success { .. })
}

#[tokio::test]
async fn a_right_otp_signs_in_once_and_a_wrong_one_fails() {
    let fx = fixture(|_| {}).await;
    fx.add_user("ann").await;
    let c = client("192.0.2.1");
    let issued = fx.grid("ann", &c).await;
    assert_eq!(issued.purpose, Purpose::Login);
    let outcome = fx.finish(&issued.id, &right_otp(&issued), None, &c).await;
    assert_eq!(
        outcome,
        LoginOutcome::Success {
            user_id: "ann".into(),
            must_change_pattern: false,
            must_enrol_token: false,
            must_set_phrase: false,
        }
    );
    // The challenge is spent: the same right answer again is no login.
    let again = fx.finish(&issued.id, &right_otp(&issued), None, &c).await;
    assert_eq!(again, LoginOutcome::ChallengeInvalid);
    let issued = fx.grid("ann", &c).await;
    let wrong = fx.finish(&issued.id, &wrong_otp(&issued), None, &c).await;
    assert_eq!(wrong, LoginOutcome::Failed);
    assert_eq!(fx.audit("auth.login", "success").await, 1);
    assert_eq!(fx.audit("auth.login", "failure").await, 2);
}

#[tokio::test]
async fn an_expired_grid_and_another_flow_never_verify() {
    let fx = fixture(|s| s.challenge_ttl_secs = 60).await;
    fx.add_user("ann").await;
    let c = client("192.0.2.1");
    let issued = fx.grid("ann", &c).await;
    fx.clock.advance(61);
    let late = fx.finish(&issued.id, &right_otp(&issued), None, &c).await;
    assert_eq!(late, LoginOutcome::ChallengeExpired);
    // A grid is bound to the flow it was drawn for.
    let issued = fx.grid("ann", &c).await;
    let other_flow = [8u8; 32];
    let thief = Client {
        flow_hash: &other_flow,
        ..client("192.0.2.9")
    };
    let stolen = fx
        .finish(&issued.id, &right_otp(&issued), None, &thief)
        .await;
    assert!(!is_success(&stolen), "{stolen:?}");
}

#[tokio::test]
async fn failures_lock_the_id_until_the_lock_runs_out_and_a_lock_beats_a_right_otp() {
    let fx = fixture(|s| {
        s.lockout.threshold = 3;
        s.lockout.lock_secs = 600;
    })
    .await;
    fx.add_user("ann").await;
    let c = client("192.0.2.1");
    // A grid drawn before the lock, answered right after it: refused, not counted.
    let early = fx.grid("ann", &c).await;
    for _ in 0..3 {
        let issued = fx.grid("ann", &c).await;
        assert_eq!(
            fx.finish(&issued.id, &wrong_otp(&issued), None, &c).await,
            LoginOutcome::Failed
        );
    }
    assert_eq!(fx.audit("auth.lockout", "success").await, 1);
    let late = fx.finish(&early.id, &right_otp(&early), None, &c).await;
    assert!(
        matches!(late, LoginOutcome::Refused(Refusal::Locked { .. })),
        "{late:?}"
    );
    assert!(matches!(
        fx.start("ann", &c).await,
        Started::Refused(Refusal::Locked { until: Some(t) }) if t == T0 + 600
    ));
    fx.clock.advance(600);
    assert!(is_success(&fx.sign_in("ann", &c).await));
}

#[tokio::test]
async fn unknown_ids_get_a_decoy_grid_that_fails_and_counts_like_a_real_one() {
    let fx = fixture(|s| s.lockout.threshold = 2).await;
    let c = client("192.0.2.1");
    let issued = fx.grid("nobody", &c).await;
    assert_eq!(issued.purpose, Purpose::Login);
    assert_eq!(issued.shape, fx.authn.auth.shape);
    // Whatever is typed fails, as a wrong OTP does.
    let outcome = fx.finish(&issued.id, &right_otp(&issued), None, &c).await;
    assert_eq!(outcome, LoginOutcome::Failed);
    let issued = fx.grid("nobody", &c).await;
    fx.finish(&issued.id, &wrong_otp(&issued), None, &c).await;
    assert!(matches!(
        fx.start("nobody", &c).await,
        Started::Refused(Refusal::Locked { .. })
    ));
}

#[tokio::test]
async fn rate_limits_refuse_starts_per_address_and_per_id() {
    let fx = fixture(|s| {
        s.rate_per_source = Rate {
            burst: 2,
            per_minute: 1,
        };
        s.rate_per_user = Rate {
            burst: 3,
            per_minute: 1,
        };
    })
    .await;
    fx.add_user("ann").await;
    let a = client("192.0.2.1");
    fx.grid("ann", &a).await;
    fx.grid("bob", &a).await;
    assert!(matches!(
        fx.start("carl", &a).await,
        Started::Refused(Refusal::RateLimited { retry_after }) if retry_after >= 1
    ));
    // Other addresses, one ID: the ID's own budget runs out too.
    fx.grid("ann", &client("192.0.2.2")).await;
    fx.grid("ann", &client("192.0.2.3")).await;
    assert!(matches!(
        fx.start("ann", &client("192.0.2.4")).await,
        Started::Refused(Refusal::RateLimited { .. })
    ));
    assert!(fx.audit("auth.refused", "failure").await >= 1);
}

#[tokio::test]
async fn access_rules_refuse_other_networks_and_hours() {
    let fx = fixture(|s| {
        s.access_source = AccessSource {
            networks: vec!["192.0.2.0/24".into()],
            hours: vec!["Mon-Fri 09:00-18:00".into()],
            time_zone: "UTC".into(),
        };
        s.access = s.access_source.parse().expect("rules");
    })
    .await;
    fx.add_user("ann").await;
    // 08:00 on a Friday: the right network, the wrong hour.
    assert!(matches!(
        fx.start("ann", &client("192.0.2.1")).await,
        Started::Refused(Refusal::Time)
    ));
    fx.clock.advance(3600);
    assert!(matches!(
        fx.start("ann", &client("198.51.100.1")).await,
        Started::Refused(Refusal::Network)
    ));
    assert!(is_success(&fx.sign_in("ann", &client("192.0.2.1")).await));
}

#[tokio::test]
async fn login_protect_needs_a_window_opened_from_a_signed_in_device() {
    let fx = fixture(|s| {
        s.login_protect = true;
        s.lockout.threshold = 1;
    })
    .await;
    fx.add_user("ann").await;
    let c = client("192.0.2.1");
    // Refused before any grid, and not counted: an attacker cannot lock ann out.
    for _ in 0..3 {
        assert!(matches!(
            fx.start("ann", &c).await,
            Started::Refused(Refusal::LoginProtect)
        ));
    }
    super::login_protect::open_window(&fx.authn, "ann", "192.0.2.7", T0)
        .await
        .expect("window");
    assert!(is_success(&fx.sign_in("ann", &c).await));
    // One window, one sign-in.
    assert!(matches!(
        fx.start("ann", &c).await,
        Started::Refused(Refusal::LoginProtect)
    ));
}

#[tokio::test]
async fn the_totp_method_asks_holders_of_a_token_and_unknown_ids_alike() {
    let fx = fixture(|s| s.method = LoginMethod::Totp).await;
    fx.add_user("ann").await;
    fx.add_user("bob").await;
    let store = &fx.authn.instance.store;
    import_token_file(
        store,
        &fx.authn.instance.master_key,
        format!("serial,seed\nHW-1,{SEED_HEX}\n").as_bytes(),
        None,
        T0,
    )
    .await
    .expect("import");
    assign_token(store, "HW-1", "ann", T0)
        .await
        .expect("assign");
    let c = client("192.0.2.1");
    // Every ID is asked the same: a holder, a user without a token, an unknown ID.
    for id in ["ann", "bob", "nobody"] {
        assert_eq!(fx.grid(id, &c).await.purpose, Purpose::LoginTotp, "{id}");
    }
    // bob has no token yet: the grid's digits stand in for the code, then he enrols.
    let bob = fx.grid("bob", &c).await;
    assert!(matches!(
        fx.finish(&bob.id, &right_otp(&bob), None, &c).await,
        LoginOutcome::Success {
            must_enrol_token: true,
            ..
        }
    ));
    // ann holds a token: the grid's digits are no code.
    let ann = fx.grid("ann", &c).await;
    assert_eq!(
        fx.finish(&ann.id, &right_otp(&ann), None, &c).await,
        LoginOutcome::Failed
    );
    let ann = fx.grid("ann", &c).await;
    let params = TotpParams::default();
    let secret = TotpSecret::from_bytes(hex::decode(SEED_HEX).expect("hex")).expect("secret");
    let code = code_at(&secret, &params, step_of(&params, T0));
    assert!(is_success(&fx.finish(&ann.id, &code, None, &c).await));
    // The same code never passes twice.
    let ann = fx.grid("ann", &c).await;
    assert_eq!(
        fx.finish(&ann.id, &code, None, &c).await,
        LoginOutcome::Failed
    );
}

#[tokio::test]
async fn an_additional_phrase_is_part_of_the_answer() {
    let fx = fixture(|s| {
        s.phrase = PhraseRule {
            mode: PhraseMode::After,
            min_len: 4,
            max_len: 32,
        }
    })
    .await;
    fx.add_user("ann").await;
    let c = client("192.0.2.1");
    // No phrase set yet: the digits alone, then the page asks for one.
    assert!(matches!(
        fx.sign_in("ann", &c).await,
        LoginOutcome::Success {
            must_set_phrase: true,
            ..
        }
    ));
    let hash = fx
        .authn
        .guards
        .phrase_hasher
        .hash("blue-fox")
        .await
        .expect("hash");
    fx.authn
        .instance
        .store
        .set_user_phrase("ann", &hash, T0)
        .await
        .expect("phrase");
    let issued = fx.grid("ann", &c).await;
    let without = fx.finish(&issued.id, &right_otp(&issued), None, &c).await;
    assert_eq!(without, LoginOutcome::Failed);
    let issued = fx.grid("ann", &c).await;
    let wrong = format!("{}blue-cat", right_otp(&issued));
    assert_eq!(
        fx.finish(&issued.id, &wrong, None, &c).await,
        LoginOutcome::Failed
    );
    let issued = fx.grid("ann", &c).await;
    let right = format!("{}blue-fox", right_otp(&issued));
    assert!(matches!(
        fx.finish(&issued.id, &right, None, &c).await,
        LoginOutcome::Success {
            must_set_phrase: false,
            ..
        }
    ));
}

#[tokio::test]
async fn the_certificate_gate_shows_no_grid_without_the_users_valid_certificate() {
    let fx = fixture(|s| s.require_certificate = true).await;
    fx.add_user("ann").await;
    fx.add_user("bob").await;
    let instance = &fx.authn.instance;
    let ann = instance
        .store
        .user("ann")
        .await
        .expect("read")
        .expect("ann");
    let bob = instance
        .store
        .user("bob")
        .await
        .expect("read")
        .expect("bob");
    let settings = fx.authn.auth.clone();
    let mint = |user| {
        let profile = settings.client_profile(user);
        async move {
            instance
                .ca
                .issue_client_certificate_with_key(&instance.store, &profile, T0)
                .await
                .expect("certificate")
                .issued
                .record
        }
    };
    let ann_cert = mint(&ann).await;
    let bob_cert = mint(&bob).await;
    let bare = client("192.0.2.1");
    assert!(matches!(
        fx.start("ann", &bare).await,
        Started::DeviceNotRegistered
    ));
    // Bob's certificate is no way in for ann.
    let bob_device = Client {
        cert_serial: Some(&bob_cert.serial),
        cert_fingerprint: Some(&bob_cert.fingerprint_sha256),
        ..client("192.0.2.1")
    };
    assert!(matches!(
        fx.start("ann", &bob_device).await,
        Started::DeviceNotRegistered
    ));
    let device = Client {
        cert_serial: Some(&ann_cert.serial),
        cert_fingerprint: Some(&ann_cert.fingerprint_sha256),
        ..client("192.0.2.1")
    };
    let issued = fx.grid("ann", &device).await;
    // Revoked between the grid and the answer: no session.
    instance
        .store
        .revoke_client_certificate(&ann_cert.serial, "keyCompromise", T0)
        .await
        .expect("revoke");
    let outcome = fx
        .finish(&issued.id, &right_otp(&issued), None, &device)
        .await;
    assert_eq!(outcome, LoginOutcome::DeviceNotRegistered);
    assert!(matches!(
        fx.start("ann", &device).await,
        Started::DeviceNotRegistered
    ));
    assert!(fx.audit("auth.device", "failure").await >= 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_never_get_more_answers_checked_than_the_threshold() {
    let fx = Arc::new(
        fixture(|s| {
            s.lockout.threshold = 5;
            // Twelve starts for one ID: over the shipped per-ID budget, off here.
            s.rate_per_user = Rate {
                burst: 0,
                per_minute: 0,
            };
        })
        .await,
    );
    fx.add_user("ann").await;
    let c = client("192.0.2.1");
    // Twelve grids fetched, then eleven wrong answers and one right one sent at once.
    let mut grids = Vec::new();
    for _ in 0..12 {
        grids.push(fx.grid("ann", &c).await);
    }
    let mut tasks = tokio::task::JoinSet::new();
    for (i, issued) in grids.into_iter().enumerate() {
        let fx = fx.clone();
        tasks.spawn(async move {
            let answer = if i == 11 {
                right_otp(&issued)
            } else {
                wrong_otp(&issued)
            };
            fx.finish(&issued.id, &answer, None, &client("192.0.2.1"))
                .await
        });
    }
    let (mut checked, mut locked) = (0, 0);
    while let Some(done) = tasks.join_next().await {
        match done.expect("task") {
            LoginOutcome::Failed | LoginOutcome::Success { .. } => checked += 1,
            LoginOutcome::Refused(Refusal::Locked { .. }) => locked += 1,
            other => panic!("{other:?}"),
        }
    }
    assert!(
        checked <= 5,
        "{checked} answers checked with a threshold of 5"
    );
    assert_eq!(checked + locked, 12);
}
