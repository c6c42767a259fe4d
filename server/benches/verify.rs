//! What one grid verification costs (issue #3): the CPU part (open the sealed pattern,
//! derive the grid from the seed, read the OTP, compare in constant time) and the whole
//! verify on SQLite (read the challenge with the login facts, check the answer, settle:
//! consume the challenge in one write step).
//!
//!     cargo bench -p passgrid --bench verify

use std::{hint::black_box, path::Path};

use app::{
    grid::{digits_from_seed, GridShape},
    pattern::otp_for,
};
use criterion::{criterion_group, criterion_main, BatchSize, Criterion};
use passgrid::{
    master_key::MasterKey,
    otp::{
        challenge::{
            check_login_answer, issue_challenge, login_verdict, Answer, Binding, Decoys, Purpose,
            DECOY_USER,
        },
        patterns::{open_pattern, seal_pattern, store_pattern},
    },
    policy::AuthSettings,
    store::{users::NewUser, Store},
};
use subtle::ConstantTimeEq;

const CELLS: [u16; 8] = [3, 17, 17, 40, 9, 26, 44, 31];

fn key() -> MasterKey {
    MasterKey::load_or_create(Path::new("/nonexistent"), Some(&"42".repeat(32)))
        .expect("key")
        .0
}

fn cpu(c: &mut Criterion) {
    let key = key();
    let sealed = seal_pattern(&key, "alice", &CELLS).expect("seal");
    let seed = [7u8; 32];
    let shape = GridShape::default();
    c.bench_function("grid: digits_from_seed (48 cells)", |b| {
        b.iter(|| digits_from_seed(black_box(&seed), shape))
    });
    c.bench_function(
        "verify: CPU part (open pattern + grid + OTP + compare)",
        |b| {
            b.iter(|| {
                let cells = open_pattern(&key, "alice", black_box(&sealed)).expect("open");
                let digits = digits_from_seed(&seed, shape);
                let expected = otp_for(&digits, &cells).unwrap_or_default();
                bool::from(expected.as_slice().ct_eq(black_box(b"12345678")))
            })
        },
    );
}

fn with_sqlite(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = std::env::temp_dir().join(format!("passgrid-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
    let key = key();
    let settings = AuthSettings::default();
    let store = rt.block_on(async {
        let store = Store::connect(&url).await.expect("store");
        let user = NewUser {
            id: "alice",
            display_name: "",
            email: None,
            admin_role: None,
            source: "local",
        };
        store.create_user(&user, 0).await.expect("user");
        store_pattern(
            &store,
            &key,
            "alice",
            &CELLS,
            settings.pattern_policy(),
            false,
            0,
        )
        .await
        .expect("pattern");
        store
    });
    let decoy = seal_pattern(&key, DECOY_USER, &[1, 2, 3, 5, 8, 13]).expect("decoy");
    let flow = [9u8; 32];
    let binding = Binding {
        flow_hash: &flow,
        cert_fingerprint: None,
    };
    let now = 1_000_000;
    c.bench_function(
        "verify: facts + check + settle on SQLite (one read, CPU, one write step)",
        |b| {
            b.iter_batched(
                || {
                    rt.block_on(issue_challenge(
                        &store,
                        Purpose::Login,
                        "alice",
                        settings.shape,
                        &binding,
                        300,
                        now,
                    ))
                    .expect("issue")
                    .id
                },
                |id| {
                    rt.block_on(async {
                        let facts = store.login_facts_of_challenge(&id).await.expect("facts");
                        let challenge = facts.challenge.as_ref().expect("challenge");
                        let checked = check_login_answer(
                            &store,
                            &key,
                            "alice",
                            challenge,
                            &Answer {
                                otp: b"00000000",
                                totp: None,
                                phrase: None,
                            },
                            &Decoys {
                                pattern: &decoy,
                                token: &[],
                            },
                            facts.subject.as_ref(),
                            now,
                        )
                        .await
                        .expect("check");
                        let settled = store
                            .settle_login(&id, &flow, None, None, None, now)
                            .await
                            .expect("settle");
                        login_verdict(settled, None, checked.as_ref(), now)
                    })
                },
                BatchSize::SmallInput,
            )
        },
    );
    c.bench_function("start: issue_challenge on SQLite", |b| {
        b.iter(|| {
            rt.block_on(issue_challenge(
                &store,
                Purpose::Login,
                "alice",
                settings.shape,
                &binding,
                300,
                now,
            ))
            .expect("issue")
        })
    });
    rt.block_on(store.close());
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, cpu, with_sqlite);
criterion_main!(benches);
