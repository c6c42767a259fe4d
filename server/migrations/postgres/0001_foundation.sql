-- Foundation: the CA, the TLS server certificate, users, the first-admin set-up
-- tokens, client certificates and the audit log. Times are Unix seconds.

CREATE TABLE ca_certificates (
    id BIGSERIAL PRIMARY KEY,
    -- 1 for the CA in use, NULL once retired: UNIQUE keeps at most one active CA,
    -- even when several servers start at once on one database.
    is_active BIGINT UNIQUE,
    cert_pem TEXT NOT NULL,
    key_sealed BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE server_certificates (
    names TEXT PRIMARY KEY,
    cert_pem TEXT NOT NULL,
    key_sealed BYTEA NOT NULL,
    not_after BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    display_name TEXT NOT NULL DEFAULT '',
    email TEXT,
    admin_role TEXT,
    status TEXT NOT NULL DEFAULT 'active',
    source TEXT NOT NULL DEFAULT 'local',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE setup_tokens (
    token_hash BYTEA PRIMARY KEY,
    expires_at BIGINT NOT NULL,
    used_at BIGINT,
    created_at BIGINT NOT NULL
);

CREATE TABLE client_certificates (
    serial TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    cert_pem TEXT NOT NULL,
    fingerprint_sha256 TEXT NOT NULL UNIQUE,
    not_before BIGINT NOT NULL,
    not_after BIGINT NOT NULL,
    revoked_at BIGINT,
    revocation_reason TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX client_certificates_user ON client_certificates (user_id);

CREATE TABLE audit_log (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    source TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    outcome TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE INDEX audit_log_at ON audit_log (at);
