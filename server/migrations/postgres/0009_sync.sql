-- User information auto-update (SPEC §8.2, §8.3): sync sources and their runs.
CREATE TABLE sync_sources (
    name TEXT PRIMARY KEY,
    -- 'ldap' or 'csv'
    kind TEXT NOT NULL,
    -- The source's settings as JSON (URL, base, filter, mapping, folder, …); never
    -- a secret: the bind password is sealed apart.
    settings TEXT NOT NULL,
    secret_sealed BYTEA,
    interval_secs BIGINT NOT NULL,
    -- Largest share of the source's users one run may disable, in percent.
    max_disable_percent BIGINT NOT NULL DEFAULT 20,
    created_at BIGINT NOT NULL
);

CREATE TABLE sync_runs (
    id BIGSERIAL PRIMARY KEY,
    source TEXT NOT NULL REFERENCES sync_sources(name) ON DELETE CASCADE,
    started_at BIGINT NOT NULL,
    finished_at BIGINT NOT NULL,
    dry_run BIGINT NOT NULL,
    -- 'applied', 'unchanged', 'dry-run', 'refused' (safety rule) or 'failed'
    outcome TEXT NOT NULL,
    adds BIGINT NOT NULL,
    changes BIGINT NOT NULL,
    disables BIGINT NOT NULL,
    enables BIGINT NOT NULL,
    report TEXT NOT NULL
);
CREATE INDEX sync_runs_source ON sync_runs (source, started_at);
