//! What issuing a client certificate costs (issue #4): the key and the signed
//! certificate with its database row (SQLite), the PKCS#12 packaging in both
//! encodings, and all of it together as `cert issue --out FILE.p12` does it.
//!
//!     cargo bench -p passgrid --bench issue

use std::{hint::black_box, path::Path};

use criterion::{criterion_group, criterion_main, Criterion};
use passgrid::{
    ca::{
        client_cert::{ClientProfile, KeyType},
        pkcs12::{build, new_password, P12Encoding},
        CertificateAuthority,
    },
    master_key::MasterKey,
    store::{users::NewUser, Store},
};

fn issue(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = std::env::temp_dir().join(format!("passgrid-bench-issue-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite://{}?mode=rwc", dir.join("bench.db").display());
    let key = MasterKey::load_or_create(Path::new("/nonexistent"), Some(&"42".repeat(32)))
        .expect("key")
        .0;
    let now = 1_800_000_000;
    let (store, ca) = rt.block_on(async {
        let store = Store::connect(&url).await.expect("store");
        let user = NewUser {
            id: "alice",
            display_name: "",
            email: Some("alice@example.com"),
            admin_role: None,
            source: "local",
        };
        store.create_user(&user, 0).await.expect("user");
        let (ca, _) = CertificateAuthority::load_or_create(&store, &key, now)
            .await
            .expect("CA");
        (store, ca)
    });
    let profile = ClientProfile {
        user_id: "alice",
        shared: false,
        email: Some("alice@example.com"),
        validity_days: 365,
        // The benchmark issues thousands to one user.
        max_valid: u32::MAX,
        key: KeyType::P256,
    };
    c.bench_function(
        "issue: P-256 key + certificate + database row (SQLite)",
        |b| {
            b.iter(|| {
                rt.block_on(ca.issue_client_certificate_with_key(&store, &profile, now))
                    .expect("issue")
            })
        },
    );
    let made = rt
        .block_on(ca.issue_client_certificate_with_key(&store, &profile, now))
        .expect("issue");
    for encoding in [P12Encoding::Modern, P12Encoding::Legacy] {
        c.bench_function(
            &format!("issue: PKCS#12 {} (2048 iterations)", encoding.name()),
            |b| {
                b.iter(|| {
                    build(
                        black_box(&made.key_der),
                        &made.cert_der,
                        ca.cert_der(),
                        "alice",
                        "abcd-efgh-jkmn-pqrs",
                        encoding,
                    )
                    .expect("p12")
                })
            },
        );
    }
    c.bench_function(
        "issue: all of `cert issue --out FILE.p12` but the file write",
        |b| {
            b.iter(|| {
                let made = rt
                    .block_on(ca.issue_client_certificate_with_key(&store, &profile, now))
                    .expect("issue");
                let password = new_password().expect("password");
                build(
                    &made.key_der,
                    &made.cert_der,
                    ca.cert_der(),
                    "alice",
                    &password,
                    P12Encoding::Modern,
                )
                .expect("p12")
            })
        },
    );
    rt.block_on(store.close());
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, issue);
criterion_main!(benches);
