-- Administrator API tokens (SPEC §9.4): only the SHA-256 of a token is stored; a
-- token acts with its administrator's role at the time of each request.
CREATE TABLE admin_tokens (
    token_hash BYTEA PRIMARY KEY,
    -- A short public prefix, so a token can be named in lists and revoked.
    prefix TEXT NOT NULL UNIQUE,
    admin_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    last_used_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX admin_tokens_admin ON admin_tokens (admin_id);
