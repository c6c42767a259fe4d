-- The additional phrase (SPEC §1.3), argon2id-hashed (PHC string), and self-service
-- reset links (SPEC §9.3), found by the SHA-256 of their one-time token.
CREATE TABLE phrases (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    hash TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE reset_tokens (
    token_hash BLOB PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    used_at INTEGER,
    -- The new initial pattern is shown once, right after the reset.
    revealed_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX reset_tokens_user ON reset_tokens (user_id);
