-- Certificates deleted by an administrator (SPEC §2.9): revoked first (they stay on the
-- CRL until they expire), then gone from every list.
ALTER TABLE client_certificates ADD COLUMN deleted_at BIGINT;
