-- A session is valid only on connections presenting the client certificate it was
-- made with (NULL: made without one); `proved_at` is when its user last proved who
-- they are (a sign-in), for changes that need a fresh proof.
ALTER TABLE sessions ADD COLUMN cert_fingerprint TEXT;
ALTER TABLE sessions ADD COLUMN proved_at BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET proved_at = created_at;
CREATE INDEX sessions_cert ON sessions (cert_fingerprint);
