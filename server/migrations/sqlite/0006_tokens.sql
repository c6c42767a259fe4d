-- TOTP tokens (SPEC §4): software tokens enrolled by QR code and hardware tokens
-- imported from the vendor's seed file. Seeds are sealed under the master key.
CREATE TABLE tokens (
    serial TEXT PRIMARY KEY,
    -- 'software' or 'hardware'
    kind TEXT NOT NULL,
    -- One token per user; hardware tokens wait unassigned (NULL) after an import.
    user_id TEXT UNIQUE REFERENCES users(id) ON DELETE SET NULL,
    secret_sealed BLOB NOT NULL,
    algorithm TEXT NOT NULL,
    digits INTEGER NOT NULL,
    period INTEGER NOT NULL,
    -- The last accepted time step: a code is never accepted twice (SPEC §4.3).
    last_step INTEGER,
    -- Steps the token's clock runs ahead (+) or behind (-), as last seen.
    drift INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    assigned_at INTEGER
);

-- A software token being enrolled: shown as a QR code, saved once a code from it
-- is confirmed.
CREATE TABLE token_enrolments (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    secret_sealed BLOB NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
