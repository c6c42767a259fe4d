//! Group commit of the login path's writes on a real (scratch) SQLite store.

use crate::store::{
    audit::AuditInsert, challenges::NewChallenge, lockouts::Claim, login_writes::SuccessRows,
    scratch::scratch_store, sessions::SessionRow, StoreError,
};

const FLOW: [u8; 32] = [1; 32];

fn challenge(id: &str) -> NewChallenge<'_> {
    NewChallenge {
        id,
        purpose: "login",
        flow_hash: &FLOW,
        cert_fingerprint: None,
        claimed_user: "alice",
        seed: &[7; 32],
        blocks_across: 4,
        blocks_down: 3,
        expires_at: 2_000,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_consumers_of_one_challenge_get_it_once() {
    let (_dir, store) = scratch_store().await;
    store
        .insert_challenge(&challenge("c1"), 1_000)
        .await
        .expect("insert");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..16 {
        let store = store.clone();
        tasks.spawn(async move { store.consume_challenge("c1", &FLOW, None, 1_001).await });
    }
    let mut winners = 0;
    while let Some(done) = tasks.join_next().await {
        let found = done.expect("task").expect("consume");
        if let Some(c) = found {
            assert_eq!(c.claimed_user, "alice");
            assert_eq!(c.seed, vec![7; 32]);
            winners += 1;
        }
    }
    assert_eq!(winners, 1);
}

#[tokio::test]
async fn another_flow_or_certificate_cannot_consume_the_owners_challenge() {
    let (_dir, store) = scratch_store().await;
    store
        .insert_challenge(&challenge("c1"), 1_000)
        .await
        .expect("insert");
    let other = [2u8; 32];
    let stranger = store.consume_challenge("c1", &other, None, 1_001).await;
    assert!(stranger.expect("consume").is_none());
    let with_cert = store
        .consume_challenge("c1", &FLOW, Some("ab"), 1_001)
        .await;
    assert!(with_cert.expect("consume").is_none());
    let owner = store.consume_challenge("c1", &FLOW, None, 1_001).await;
    assert!(
        owner.expect("consume").is_some(),
        "still there for its owner"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parallel_attempts_take_their_places_in_the_lockout_count() {
    let (_dir, store) = scratch_store().await;
    let ids: Vec<String> = (0..12).map(|i| format!("c{i}")).collect();
    for id in &ids {
        store
            .insert_challenge(&challenge(id), 1_000)
            .await
            .expect("insert");
    }
    let claim = Claim {
        threshold: 5,
        lock_until: 9_000,
    };
    let mut tasks = tokio::task::JoinSet::new();
    for id in ids {
        let store = store.clone();
        tasks.spawn(async move {
            store
                .settle_login(&id, &FLOW, None, Some(claim), None, 1_001)
                .await
        });
    }
    let mut counts = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let settled = done.expect("task").expect("consume").expect("consumed");
        counts.push(settled.attempt.expect("counted").count);
    }
    counts.sort();
    // Twelve at once: twelve distinct places, so only five are within the budget.
    assert_eq!(counts, (1..=12).collect::<Vec<_>>());
    let state = store
        .login_failures("alice")
        .await
        .expect("read")
        .expect("row");
    assert_eq!(
        state.locked_until,
        Some(9_000),
        "locked as the fifth was counted"
    );
    // A right answer past the budget writes nothing of a success.
    store
        .insert_challenge(&challenge("late"), 1_000)
        .await
        .expect("insert");
    let late = store
        .settle_login(
            "late",
            &FLOW,
            None,
            Some(claim),
            Some(success("s-late")),
            1_002,
        )
        .await
        .expect("settle")
        .expect("consumed");
    assert!(!late.succeeded && late.attempt.is_some_and(|a| a.over(&claim)));
    assert!(store.login_failures("alice").await.expect("read").is_some());
    assert_eq!(successes_audited(&store).await, 0);
}

fn success(session: &str) -> SuccessRows {
    let event = AuditInsert {
        actor: "alice",
        source: "127.0.0.1",
        action: "auth.login",
        target: "alice",
        outcome: "success",
        reason: "",
    };
    let row = SessionRow {
        id_hash: session.as_bytes().to_vec(),
        user_id: "alice".into(),
        created_at: 1_001,
        idle_expires_at: 5_000,
        absolute_expires_at: 9_000,
        cert_fingerprint: None,
    };
    SuccessRows::new(Some(row), &event, 1_001)
}

async fn successes_audited(store: &crate::store::Store) -> usize {
    let filter = crate::store::audit::AuditFilter {
        action: Some("auth.login".into()),
        outcome: Some("success".into()),
        limit: 100,
        ..Default::default()
    };
    store.search_audit(&filter).await.expect("audit").len()
}

#[tokio::test]
async fn a_right_answer_within_the_budget_clears_the_count_in_its_own_step() {
    let (_dir, store) = scratch_store().await;
    let alice = crate::store::users::NewUser {
        id: "alice",
        display_name: "Alice",
        email: None,
        admin_role: None,
        source: "local",
    };
    store.create_user(&alice, 1).await.expect("user");
    let claim = Claim {
        threshold: 5,
        lock_until: 9_000,
    };
    for id in ["w1", "w2", "right"] {
        store
            .insert_challenge(&challenge(id), 1_000)
            .await
            .expect("insert");
    }
    for id in ["w1", "w2"] {
        store
            .settle_login(id, &FLOW, None, Some(claim), None, 1_001)
            .await
            .expect("settle");
    }
    assert_eq!(
        store
            .login_failures("alice")
            .await
            .expect("read")
            .map(|f| f.failures),
        Some(2)
    );
    let right = store
        .settle_login(
            "right",
            &FLOW,
            None,
            Some(claim),
            Some(success("s1")),
            1_001,
        )
        .await
        .expect("settle")
        .expect("consumed");
    assert!(right.succeeded);
    assert_eq!(right.attempt.map(|a| a.count), Some(3));
    // Forgotten, with the session and the audit entry written in the same step.
    assert!(store.login_failures("alice").await.expect("read").is_none());
    assert!(store
        .live_session(b"s1", 1_002)
        .await
        .expect("session")
        .is_some());
    assert_eq!(successes_audited(&store).await, 1);
    // The same grid again: consumed, nothing more written.
    let again = store
        .settle_login(
            "right",
            &FLOW,
            None,
            Some(claim),
            Some(success("s2")),
            1_002,
        )
        .await
        .expect("settle");
    assert!(again.is_none());
    assert!(store
        .live_session(b"s2", 1_002)
        .await
        .expect("session")
        .is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_failing_write_does_not_fail_its_batch_neighbours() {
    let (_dir, store) = scratch_store().await;
    store
        .insert_challenge(&challenge("dup"), 1_000)
        .await
        .expect("insert");
    let event = AuditInsert {
        actor: "alice",
        source: "127.0.0.1",
        action: "test",
        target: "alice",
        outcome: "success",
        reason: "",
    };
    // Sent together so that they share a batch when the writer is busy.
    let (again, other) = (challenge("dup"), challenge("fresh"));
    let (dup, fresh, audit) = tokio::join!(
        store.insert_challenge(&again, 1_000),
        store.insert_challenge(&other, 1_000),
        store.append_audit(&event, 1_000),
    );
    assert!(matches!(dup, Err(StoreError::Conflict)), "{dup:?}");
    fresh.expect("the other challenge is stored");
    audit.expect("the audit entry is stored");
    assert!(store
        .consume_challenge("fresh", &FLOW, None, 1_001)
        .await
        .expect("consume")
        .is_some());
}
