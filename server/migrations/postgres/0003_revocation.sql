-- The current CRL (SPEC §2.1, §2.7): one row, replaced on every revocation and before
-- it expires. crl_number only grows (RFC 5280 §5.2.3).
CREATE TABLE crl_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    crl_number BIGINT NOT NULL,
    der BYTEA NOT NULL,
    this_update BIGINT NOT NULL,
    next_update BIGINT NOT NULL
);
CREATE INDEX client_certificates_revoked ON client_certificates (revoked_at) WHERE revoked_at IS NOT NULL;

-- Shared-terminal certificates (SPEC §2.5) belong to a profile, not to a user: the
-- owner is a user or a profile, never both.
ALTER TABLE client_certificates ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE client_certificates ADD COLUMN shared_profile TEXT;
ALTER TABLE client_certificates ADD CONSTRAINT client_certificates_one_owner
    CHECK ((user_id IS NULL) <> (shared_profile IS NULL));
CREATE INDEX client_certificates_shared ON client_certificates (shared_profile) WHERE shared_profile IS NOT NULL;
