-- The grid login: patterns (sealed under the master key), their history, login
-- challenges (consumed once) and sessions. Times are Unix seconds.

CREATE TABLE patterns (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    sealed BLOB NOT NULL,
    key_id TEXT NOT NULL,
    -- 1 while it is the initial pattern an administrator handed out: the user must
    -- replace it after the first login.
    is_initial INTEGER NOT NULL,
    expires_at INTEGER,
    created_at INTEGER NOT NULL
);

CREATE TABLE pattern_history (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    sealed BLOB NOT NULL,
    key_id TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX pattern_history_user ON pattern_history (user_id, created_at);

CREATE TABLE challenges (
    id TEXT PRIMARY KEY,
    -- 'login', or 'confirm' for proving a new pattern before it is saved.
    purpose TEXT NOT NULL DEFAULT 'login',
    flow_hash BLOB NOT NULL,
    cert_fingerprint TEXT,
    -- The ID the client asked for, known or not (unknown IDs get a decoy).
    claimed_user TEXT NOT NULL,
    seed BLOB NOT NULL,
    blocks_across INTEGER NOT NULL,
    blocks_down INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    consumed_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX challenges_expires ON challenges (expires_at);

CREATE TABLE sessions (
    id_hash BLOB PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    idle_expires_at INTEGER NOT NULL,
    absolute_expires_at INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- A new pattern waiting for its two confirmations (SPEC §1.6).
CREATE TABLE pattern_drafts (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    sealed BLOB NOT NULL,
    confirmations INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
