-- Several servers on one database (SPEC §11).

-- Each running server: its row is written every few seconds (the heartbeat); the
-- console lists them, and the number seen lately divides the rate limits.
CREATE TABLE cluster_servers (
    -- Random for each start of a process.
    id TEXT PRIMARY KEY,
    -- Host name and listening address, for people.
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL,
    -- The scheduled jobs it holds, space separated.
    jobs TEXT NOT NULL DEFAULT ''
);

-- Which server runs a scheduled job (sync source, CRL renewal, purges): held while
-- renewed, taken over by another server once it runs out.
CREATE TABLE job_leases (
    job TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Bulk certificate jobs (SPEC §2.9), visible to every server.
CREATE TABLE cert_jobs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    action TEXT NOT NULL,
    total BIGINT NOT NULL,
    -- The server running it (cluster_servers.id).
    server_id TEXT NOT NULL,
    -- 'running', 'finished' or 'failed' (its server stopped).
    state TEXT NOT NULL,
    -- Every user of the job, in order, one per line: if its server dies, each user's
    -- state can still be told (done, in its step, not reached).
    users TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    finished_at BIGINT,
    failure TEXT,
    download_name TEXT,
    download_type TEXT,
    -- The ZIP (private keys and their passwords) sealed under the master key.
    download_sealed BYTEA
);
CREATE INDEX cert_jobs_state ON cert_jobs (state);

CREATE TABLE cert_job_results (
    job_id TEXT NOT NULL REFERENCES cert_jobs(id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    user_id TEXT NOT NULL,
    outcome TEXT NOT NULL,
    -- Serials touched, space separated.
    serials TEXT NOT NULL,
    error TEXT,
    PRIMARY KEY (job_id, position)
);
