-- A certificate waiting for its one download (SPEC §2.3, §2.4, §5.2): the key and the
-- certificate password sealed under the master key, found by the SHA-256 of a one-time
-- token. The row goes with the last allowed download, and with it the key.
CREATE TABLE certificate_pickups (
    token_hash BLOB PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    serial TEXT NOT NULL REFERENCES client_certificates(serial) ON DELETE CASCADE,
    key_sealed BLOB NOT NULL,
    cert_der BLOB NOT NULL,
    password_sealed BLOB NOT NULL,
    downloads_left INTEGER NOT NULL CHECK (downloads_left >= 0),
    downloads_done INTEGER NOT NULL DEFAULT 0,
    -- 1: reached through a one-time link (mail, print-out), without signing in;
    -- 0: only by the signed-in user it was issued to (first-login auto-issue).
    by_link INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX certificate_pickups_user ON certificate_pickups (user_id);
