-- The set-up link names the administrator it made, so the page after it can show that
-- administrator's initial pattern once (`revealed_at`).
ALTER TABLE setup_tokens ADD COLUMN admin_id TEXT;
ALTER TABLE setup_tokens ADD COLUMN revealed_at INTEGER;
