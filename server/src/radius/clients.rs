//! The NAS table (RFC 2865 §3: a server answers only clients it shares a secret
//! with), loaded from the database with each secret opened from its seal under the
//! master key, and reloaded when an administrator changes it (checked every two
//! seconds, on every server of a cluster).

use std::{
    collections::{BTreeMap, HashMap},
    net::IpAddr,
    sync::{Arc, RwLock},
    time::Duration,
};

use passgrid_radius::{Attribute, Client, ClientTable, IpNetwork, Secret, StaticClients};

use crate::{
    instance::Instance,
    master_key::MasterKey,
    radius_clients::{replies::parse_reply_attribute, secret_purpose},
    store::{applications::Application, StoreError},
};

/// One NAS: its application (the access rules) and where it may send from.
#[derive(Debug)]
pub struct Nas {
    pub application: Application,
    pub network: IpNetwork,
}

/// A NAS certificate that may open a RadSec connection.
#[derive(Debug, Clone)]
pub struct NasCertificate {
    pub client: String,
    pub fingerprint_sha256: String,
    pub not_after: i64,
}

#[derive(Default)]
struct Snapshot {
    version: String,
    udp: StaticClients,
    by_name: HashMap<String, Arc<Nas>>,
    /// Unrevoked NAS certificates by serial (lower-case hex).
    certificates: HashMap<String, NasCertificate>,
    /// Reply attributes per group, parsed.
    group_replies: BTreeMap<String, Vec<Attribute>>,
}

/// The NAS table of this server, shared by the UDP and RadSec listeners.
#[derive(Clone, Default)]
pub struct NasTable {
    inner: Arc<RwLock<Snapshot>>,
}

impl std::fmt::Debug for NasTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NasTable")
    }
}

impl NasTable {
    /// Loads the table now.
    pub async fn load(instance: &Instance) -> Result<NasTable, StoreError> {
        let table = NasTable::default();
        table.reload(instance).await?;
        Ok(table)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Snapshot> {
        // A panic while holding the lock leaves a whole snapshot behind.
        self.inner.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Reloads when the stored table changed (or always, with `force`).
    async fn reload_if_changed(&self, instance: &Instance, force: bool) -> Result<(), StoreError> {
        let version = instance.store.radius_clients_version().await?;
        if !force && self.read().version == version {
            return Ok(());
        }
        self.reload(instance).await
    }

    /// Reads every NAS, certificate and group reply and swaps the snapshot.
    pub async fn reload(&self, instance: &Instance) -> Result<(), StoreError> {
        let store = &instance.store;
        let version = store.radius_clients_version().await?;
        let rows = store.radius_clients().await?;
        let mut snapshot = Snapshot {
            version,
            ..Snapshot::default()
        };
        for row in rows {
            let Some(application) = store.application(&row.name).await? else {
                continue;
            };
            let Ok(network) = row.address.parse::<IpNetwork>() else {
                tracing::warn!(
                    nas = row.name,
                    "RADIUS client address does not parse; skipped"
                );
                continue;
            };
            if let Some(sealed) = &row.secret_sealed {
                match open_secret(&instance.master_key, &row.name, sealed) {
                    Some(secret) => snapshot.udp.add(
                        network,
                        Client {
                            name: row.name.clone(),
                            secret,
                            require_message_authenticator: row.require_message_authenticator,
                        },
                    ),
                    None => tracing::warn!(
                        nas = row.name,
                        "RADIUS client secret cannot be opened; skipped"
                    ),
                }
            }
            snapshot.by_name.insert(
                row.name.clone(),
                Arc::new(Nas {
                    application,
                    network,
                }),
            );
        }
        for cert in store.radius_client_certificates().await? {
            if !cert.revoked {
                snapshot.certificates.insert(
                    cert.serial.trim_start_matches("00").to_string(),
                    NasCertificate {
                        client: cert.client,
                        fingerprint_sha256: cert.fingerprint_sha256,
                        not_after: cert.not_after,
                    },
                );
            }
        }
        for (group, texts) in store.radius_group_replies().await? {
            let parsed = texts
                .iter()
                .filter_map(|t| parse_reply_attribute(t).ok())
                .collect();
            snapshot.group_replies.insert(group, parsed);
        }
        *self.inner.write().unwrap_or_else(|e| e.into_inner()) = snapshot;
        Ok(())
    }

    /// The NAS named `name` (from the UDP table or a RadSec certificate).
    pub fn nas(&self, name: &str) -> Option<Arc<Nas>> {
        self.read().by_name.get(name).cloned()
    }

    /// The NAS a RadSec certificate belongs to, if it is one of theirs and unrevoked.
    pub fn certificate(&self, serial: &str) -> Option<NasCertificate> {
        self.read()
            .certificates
            .get(serial.trim_start_matches("00"))
            .cloned()
    }

    /// The reply attributes for members of `groups`, in group order.
    pub fn replies_for(&self, groups: &[String]) -> Vec<Attribute> {
        let snapshot = self.read();
        groups
            .iter()
            .filter_map(|g| snapshot.group_replies.get(g))
            .flatten()
            .cloned()
            .collect()
    }
}

fn open_secret(key: &MasterKey, name: &str, sealed: &[u8]) -> Option<Secret> {
    let opened = key.open(sealed, &secret_purpose(name)).ok()?;
    // `Secret` zeroizes its own copy; `opened` wipes itself on drop.
    Some(Secret::new(opened.to_vec()))
}

impl ClientTable for NasTable {
    fn client_for(&self, source: IpAddr) -> Option<Arc<Client>> {
        self.read().udp.client_for(source)
    }
}

/// Keeps the table current: a cheap version check every two seconds, a full reload
/// every minute whatever it says.
pub async fn keep_loaded(table: NasTable, instance: Instance) {
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    let mut ticks = 0u32;
    loop {
        tick.tick().await;
        ticks = ticks.wrapping_add(1);
        if let Err(error) = table
            .reload_if_changed(&instance, ticks.is_multiple_of(30))
            .await
        {
            tracing::warn!(%error, "reloading the RADIUS clients failed");
        }
    }
}
