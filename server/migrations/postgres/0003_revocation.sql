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
