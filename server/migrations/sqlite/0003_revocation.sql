-- The current CRL (SPEC §2.1, §2.7): one row, replaced on every revocation and before
-- it expires. crl_number only grows (RFC 5280 §5.2.3).
CREATE TABLE crl_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    crl_number INTEGER NOT NULL,
    der BLOB NOT NULL,
    this_update INTEGER NOT NULL,
    next_update INTEGER NOT NULL
);

-- Shared-terminal certificates (SPEC §2.5) belong to a profile, not to a user: the
-- owner is a user or a profile, never both. SQLite cannot drop NOT NULL in place, so
-- the table is rebuilt.
CREATE TABLE client_certificates_new (
    serial TEXT PRIMARY KEY,
    user_id TEXT REFERENCES users(id) ON DELETE CASCADE,
    shared_profile TEXT,
    subject TEXT NOT NULL,
    cert_pem TEXT NOT NULL,
    fingerprint_sha256 TEXT NOT NULL UNIQUE,
    not_before INTEGER NOT NULL,
    not_after INTEGER NOT NULL,
    revoked_at INTEGER,
    revocation_reason TEXT,
    created_at INTEGER NOT NULL,
    CHECK ((user_id IS NULL) <> (shared_profile IS NULL))
);
INSERT INTO client_certificates_new (serial, user_id, subject, cert_pem, fingerprint_sha256,
    not_before, not_after, revoked_at, revocation_reason, created_at)
    SELECT serial, user_id, subject, cert_pem, fingerprint_sha256, not_before, not_after,
    revoked_at, revocation_reason, created_at FROM client_certificates;
DROP TABLE client_certificates;
ALTER TABLE client_certificates_new RENAME TO client_certificates;
CREATE INDEX client_certificates_user ON client_certificates (user_id);
CREATE INDEX client_certificates_shared ON client_certificates (shared_profile) WHERE shared_profile IS NOT NULL;
CREATE INDEX client_certificates_revoked ON client_certificates (revoked_at) WHERE revoked_at IS NOT NULL;
