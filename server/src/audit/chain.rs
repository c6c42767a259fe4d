//! The tamper-evident audit chain (SPEC §12). Entries are written unlinked on the hot
//! path; a sealer gives each a chain position and a MAC over the previous entry's MAC
//! and its own fields. The MAC key is derived from the master key, which is kept
//! outside the database: whoever can edit the database cannot recompute the chain.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::{
    master_key::MasterKey,
    store::{
        audit::{AuditEntry, AuditLink},
        Store, StoreError,
    },
};

const KEY_PURPOSE: &str = "audit chain";
/// Entries sealed per transaction.
const SEAL_BATCH: i64 = 5_000;
/// Entries read per page while verifying.
const VERIFY_PAGE: i64 = 10_000;

/// The key the chain's MACs are made with.
pub struct ChainKey(Zeroizing<[u8; 32]>);

impl ChainKey {
    pub fn from_master(master: &MasterKey) -> ChainKey {
        ChainKey(master.derive(KEY_PURPOSE))
    }

    /// The MAC of `entry` at position `seq` after an entry whose MAC was `prev`
    /// (empty for the first). Fields are length-prefixed so no two entries serialise
    /// alike.
    fn mac(&self, prev: &[u8], seq: i64, entry: &AuditEntry) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.0.as_slice())
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
        let mut field = |bytes: &[u8]| {
            mac.update(&(bytes.len() as u64).to_be_bytes());
            mac.update(bytes);
        };
        field(prev);
        field(&seq.to_be_bytes());
        field(&entry.id.to_be_bytes());
        field(&entry.at.to_be_bytes());
        for text in [
            &entry.actor,
            &entry.source,
            &entry.action,
            &entry.target,
            &entry.outcome,
            &entry.reason,
        ] {
            field(text.as_bytes());
        }
        mac.finalize().into_bytes().into()
    }
}

/// Links every unsealed entry into the chain; returns how many were sealed.
pub async fn seal_pending(store: &Store, key: &ChainKey) -> Result<usize, StoreError> {
    let mut total = 0;
    loop {
        let sealed = store
            .seal_audit_entries(SEAL_BATCH, |head, entries| {
                let (mut seq, mut prev) = match head {
                    Some((seq, mac)) => (seq, hex::decode(mac).unwrap_or_default()),
                    None => (0, Vec::new()),
                };
                entries
                    .iter()
                    .map(|entry| {
                        seq += 1;
                        let mac = key.mac(&prev, seq, entry);
                        prev = mac.to_vec();
                        AuditLink {
                            id: entry.id,
                            chain_seq: seq,
                            entry_mac: hex::encode(mac),
                        }
                    })
                    .collect()
            })
            .await?;
        total += sealed;
        if (sealed as i64) < SEAL_BATCH {
            return Ok(total);
        }
    }
}

/// What `verify_chain` found.
#[derive(Debug, PartialEq, Eq)]
pub enum ChainReport {
    /// Every sealed entry matches; `unsealed` were written too recently to be linked.
    Intact { entries: i64, unsealed: i64 },
    /// The first entry that does not fit the chain, and why.
    Broken {
        entry_id: Option<i64>,
        position: i64,
        reason: String,
    },
}

/// Walks the chain from its first entry and stops at the first broken link.
pub async fn verify_chain(store: &Store, key: &ChainKey) -> Result<ChainReport, StoreError> {
    let mut expected = 1;
    let mut prev: Vec<u8> = Vec::new();
    loop {
        let page = store.audit_chain_page(expected - 1, VERIFY_PAGE).await?;
        if page.is_empty() {
            break;
        }
        let full = page.len() as i64 == VERIFY_PAGE;
        for entry in page {
            let seq = entry.chain_seq.unwrap_or_default();
            if seq != expected {
                return Ok(ChainReport::Broken {
                    entry_id: None,
                    position: expected,
                    reason: format!(
                        "the entry at chain position {expected} is missing (removed from the log)"
                    ),
                });
            }
            let stored = entry
                .entry_mac
                .as_deref()
                .and_then(|m| hex::decode(m).ok())
                .unwrap_or_default();
            let computed = key.mac(&prev, seq, &entry);
            if !bool::from(stored.as_slice().ct_eq(&computed)) {
                return Ok(ChainReport::Broken {
                    entry_id: Some(entry.id),
                    position: seq,
                    reason: format!(
                        "audit entry {} (chain position {seq}, {} {}) does not match its MAC: \
                         it was altered, or put in place of another",
                        entry.id, entry.action, entry.target
                    ),
                });
            }
            prev = stored;
            expected += 1;
        }
        if !full {
            break;
        }
    }
    Ok(ChainReport::Intact {
        entries: expected - 1,
        unsealed: store.count_unsealed_audit().await?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: i64, reason: &str) -> AuditEntry {
        AuditEntry {
            id,
            at: 1_700_000_000,
            actor: "alice".into(),
            source: "127.0.0.1".into(),
            action: "auth.grid".into(),
            target: "alice".into(),
            outcome: "success".into(),
            reason: reason.into(),
            chain_seq: None,
            entry_mac: None,
        }
    }

    #[test]
    fn every_field_and_the_previous_link_change_the_mac() {
        let key = ChainKey(Zeroizing::new([7; 32]));
        let base = key.mac(b"prev", 1, &entry(1, "x"));
        assert_eq!(base, key.mac(b"prev", 1, &entry(1, "x")));
        assert_ne!(base, key.mac(b"prev", 1, &entry(1, "y")));
        assert_ne!(base, key.mac(b"other", 1, &entry(1, "x")));
        assert_ne!(base, key.mac(b"prev", 2, &entry(1, "x")));
        assert_ne!(base, key.mac(b"prev", 1, &entry(2, "x")));
        let mut moved = entry(1, "x");
        moved.actor = "alic".into();
        moved.source = "e127.0.0.1".into();
        assert_ne!(base, key.mac(b"prev", 1, &moved), "length-prefixed fields");
        let other_key = ChainKey(Zeroizing::new([8; 32]));
        assert_ne!(base, other_key.mac(b"prev", 1, &entry(1, "x")));
    }
}
