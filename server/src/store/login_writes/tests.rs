//! Group commit of the login path's writes on a real (scratch) SQLite store.

use crate::store::{
    audit::AuditInsert, challenges::NewChallenge, lockouts::Claim, scratch::scratch_store,
    StoreError,
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
        tasks.spawn(async move {
            store
                .consume_challenge("c1", &FLOW, None, None, 1_001)
                .await
        });
    }
    let mut winners = 0;
    while let Some(done) = tasks.join_next().await {
        let found = done.expect("task").expect("consume");
        if let Some((c, attempt)) = found {
            assert_eq!(c.claimed_user, "alice");
            assert_eq!(c.seed, vec![7; 32]);
            assert_eq!(attempt, None, "no claim asked");
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
    let stranger = store
        .consume_challenge("c1", &other, None, None, 1_001)
        .await;
    assert!(stranger.expect("consume").is_none());
    let with_cert = store
        .consume_challenge("c1", &FLOW, Some("ab"), None, 1_001)
        .await;
    assert!(with_cert.expect("consume").is_none());
    let owner = store
        .consume_challenge("c1", &FLOW, None, None, 1_001)
        .await;
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
                .consume_challenge(&id, &FLOW, None, Some(claim), 1_001)
                .await
        });
    }
    let mut counts = Vec::new();
    while let Some(done) = tasks.join_next().await {
        let (_, attempt) = done.expect("task").expect("consume").expect("consumed");
        counts.push(attempt.expect("counted").count);
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
    // A success forgets the count and that lock.
    store
        .clear_failures_after_success("alice")
        .await
        .expect("clear");
    assert!(store.login_failures("alice").await.expect("read").is_none());
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
        .consume_challenge("fresh", &FLOW, None, None, 1_001)
        .await
        .expect("consume")
        .is_some());
}
