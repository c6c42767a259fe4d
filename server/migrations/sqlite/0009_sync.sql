-- User information auto-update (SPEC §8.2, §8.3): sync sources and their runs.
CREATE TABLE sync_sources (
    name TEXT PRIMARY KEY,
    -- 'ldap' or 'csv'
    kind TEXT NOT NULL,
    -- The source's settings as JSON (URL, base, filter, mapping, folder, …); never
    -- a secret: the bind password is sealed apart.
    settings TEXT NOT NULL,
    secret_sealed BLOB,
    interval_secs INTEGER NOT NULL,
    -- Largest share of the source's users one run may disable, in percent.
    max_disable_percent INTEGER NOT NULL DEFAULT 20,
    created_at INTEGER NOT NULL
);

CREATE TABLE sync_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL REFERENCES sync_sources(name) ON DELETE CASCADE,
    started_at INTEGER NOT NULL,
    finished_at INTEGER NOT NULL,
    dry_run INTEGER NOT NULL,
    -- 'applied', 'unchanged', 'dry-run', 'refused' (safety rule) or 'failed'
    outcome TEXT NOT NULL,
    adds INTEGER NOT NULL,
    changes INTEGER NOT NULL,
    disables INTEGER NOT NULL,
    enables INTEGER NOT NULL,
    report TEXT NOT NULL
);
CREATE INDEX sync_runs_source ON sync_runs (source, started_at);
