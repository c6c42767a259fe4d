//! One passgrid installation as the subcommands see it: its data directory, master
//! key, database and CA, opened (and on first use created) in one place.

use std::{os::unix::fs::DirBuilderExt, path::PathBuf, sync::Arc};

use crate::{
    ca::{CaError, CertificateAuthority},
    clock::SharedClock,
    master_key::{MasterKey, SealError},
    store::{Store, StoreError},
};

/// Where an installation lives: its data directory (master key, `ca.pem`, the SQLite
/// file) and its database.
#[derive(Clone, Debug)]
pub struct DataConfig {
    pub data_dir: PathBuf,
    pub database_url: String,
}

impl DataConfig {
    pub fn master_key_path(&self) -> PathBuf {
        self.data_dir.join("master.key")
    }

    pub fn ca_pem_path(&self) -> PathBuf {
        self.data_dir.join("ca.pem")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum InstanceError {
    #[error("data directory {path}: {reason}")]
    DataDir { path: String, reason: String },
    #[error(transparent)]
    Seal(#[from] SealError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Ca(#[from] CaError),
}

/// What `open` created on this run (for the first-start banner).
#[derive(Debug, Default, Clone, Copy)]
pub struct Created {
    pub master_key: bool,
    pub ca: bool,
}

/// An opened installation.
#[derive(Clone)]
pub struct Instance {
    pub data: DataConfig,
    pub master_key: Arc<MasterKey>,
    pub store: Store,
    pub ca: Arc<CertificateAuthority>,
    pub clock: SharedClock,
    pub created: Created,
}

impl Instance {
    /// Opens the installation, creating the data directory (0700), master key and CA
    /// when missing, and writes `ca.pem` (public) into the data directory.
    pub async fn open(data: DataConfig) -> Result<Instance, InstanceError> {
        let dir_err = |reason: String| InstanceError::DataDir {
            path: data.data_dir.display().to_string(),
            reason,
        };
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&data.data_dir)
            .map_err(|e| dir_err(e.to_string()))?;
        let env_key = std::env::var("PASSGRID_MASTER_KEY").ok();
        let (master_key, key_created) =
            MasterKey::load_or_create(&data.master_key_path(), env_key.as_deref())?;
        let store = Store::connect(&data.database_url).await?;
        let clock = crate::clock::process_clock();
        let (ca, ca_created) =
            CertificateAuthority::load_or_create(&store, &master_key, clock.now()).await?;
        std::fs::write(data.ca_pem_path(), ca.cert_pem())
            .map_err(|e| dir_err(format!("writing ca.pem: {e}")))?;
        Ok(Instance {
            data,
            master_key: Arc::new(master_key),
            store,
            ca: Arc::new(ca),
            clock,
            created: Created {
                master_key: key_created,
                ca: ca_created,
            },
        })
    }
}
