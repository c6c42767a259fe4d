-- Protection (SPEC §1.10, §6, §12): the audit hash chain, lock-out counters and
-- login-protect windows. Times are Unix seconds.

-- Entries are written without a link and chained shortly after by one sealer at a
-- time, in the order it finds them (chain_seq), so concurrent writers and servers
-- never contend for "the previous entry". entry_mac = HMAC-SHA256 under a key derived
-- from the master key (outside the database) over the previous entry's MAC and this
-- entry's fields: an edited, inserted or removed row breaks the chain.
ALTER TABLE audit_log ADD COLUMN chain_seq INTEGER;
ALTER TABLE audit_log ADD COLUMN entry_mac TEXT;
CREATE UNIQUE INDEX audit_log_chain_seq ON audit_log (chain_seq);

-- Consecutive failures per claimed login ID, known or not, so a lock-out answers the
-- same for IDs that do not exist. In the database: every server of a cluster agrees.
CREATE TABLE login_failures (
    login_id TEXT PRIMARY KEY,
    failures INTEGER NOT NULL,
    -- Set while locked; NULL while counting. i64::MAX: until an operator unlocks.
    locked_until INTEGER,
    last_failure_at INTEGER NOT NULL
);

-- Login protect: a signed-in device opened a short window in which this user may
-- sign in elsewhere (SPEC §1.10).
CREATE TABLE login_windows (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    open_until INTEGER NOT NULL,
    opened_at INTEGER NOT NULL
);
