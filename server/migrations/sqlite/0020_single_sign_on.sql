-- Single sign-on (SPEC §10.1, §10.2, §6.3): applications and their access rules,
-- OpenID Connect clients, signing keys, codes, tokens, and forward-auth sessions.
-- Numbered 0020 to leave room for the core's own migrations. Times are Unix seconds.

-- What users sign in to through passgrid: OIDC clients and forward-auth sites now,
-- SAML SPs and RADIUS clients later (kind), each with its access rules.
CREATE TABLE applications (
    name TEXT PRIMARY KEY,
    -- 'oidc' or 'forward_auth' (later 'saml', 'radius').
    kind TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    -- Group names separated by ';'; empty: every user.
    allowed_groups TEXT NOT NULL DEFAULT '',
    -- CIDRs separated by ';'; empty: any network.
    allowed_networks TEXT NOT NULL DEFAULT '',
    -- Rules like 'Mon-Fri 08:00-19:00' separated by ';'; empty: any time.
    allowed_hours TEXT NOT NULL DEFAULT '',
    time_zone TEXT NOT NULL DEFAULT 'UTC',
    -- 1: only a device showing a valid certificate of the user gets in.
    require_certificate INTEGER NOT NULL DEFAULT 0,
    -- The application's own "sign in again after" (seconds since the grid); NULL: the SSO session will do.
    max_auth_age_secs INTEGER,
    -- Forward-auth: the host name the site is served at.
    domain TEXT UNIQUE,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

CREATE TABLE oidc_clients (
    client_id TEXT PRIMARY KEY,
    application TEXT NOT NULL UNIQUE REFERENCES applications(name) ON DELETE CASCADE,
    -- SHA-256 of the secret (256 random bits); NULL for public clients.
    secret_hash BLOB,
    id_token_alg TEXT NOT NULL,
    -- Registered URIs, one per line, matched exactly.
    redirect_uris TEXT NOT NULL,
    post_logout_uris TEXT NOT NULL DEFAULT '',
    backchannel_logout_uri TEXT,
    -- Scopes the client may ask for, separated by spaces.
    scopes TEXT NOT NULL,
    access_token_secs INTEGER NOT NULL,
    refresh_token_secs INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- ID-token signing keys, sealed under the master key like the CA key.
CREATE TABLE oidc_keys (
    kid TEXT PRIMARY KEY,
    alg TEXT NOT NULL,
    -- The alg while the key signs, NULL once retired: UNIQUE keeps one signing key per
    -- alg even when several servers start at once.
    active_alg TEXT UNIQUE,
    key_sealed BLOB NOT NULL,
    public_jwk TEXT NOT NULL,
    -- A retired key stays published until the tokens it signed have expired.
    retired_at INTEGER,
    created_at INTEGER NOT NULL
);

-- Authorization codes (RFC 6749 §4.1.2): single use, short-lived, by hash.
CREATE TABLE oidc_codes (
    code_hash BLOB PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES oidc_clients(client_id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    sid TEXT NOT NULL,
    scope TEXT NOT NULL,
    nonce TEXT,
    auth_time INTEGER NOT NULL,
    amr TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    consumed_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX oidc_codes_expires ON oidc_codes (expires_at);

-- Access and refresh tokens, by hash. family: the hash of the code they descend from,
-- so a replayed code or refresh token revokes every token of its line.
CREATE TABLE oidc_tokens (
    token_hash BLOB PRIMARY KEY,
    kind TEXT NOT NULL,
    family BLOB NOT NULL,
    client_id TEXT NOT NULL REFERENCES oidc_clients(client_id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    sid TEXT NOT NULL,
    scope TEXT NOT NULL,
    auth_time INTEGER NOT NULL,
    amr TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    -- A refresh token is used once (rotation); a second use is a replay.
    used_at INTEGER,
    revoked_at INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX oidc_tokens_family ON oidc_tokens (family);
CREATE INDEX oidc_tokens_sid ON oidc_tokens (sid);
CREATE INDEX oidc_tokens_expires ON oidc_tokens (expires_at);

-- Which clients a passgrid session signed in to: their back-channel logout targets.
CREATE TABLE oidc_logins (
    sid TEXT NOT NULL,
    client_id TEXT NOT NULL REFERENCES oidc_clients(client_id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (sid, client_id)
);

-- Forward-auth: one opaque cookie for the protected domain, tied to the passgrid
-- session it came from (it ends with it).
CREATE TABLE forward_auth_sessions (
    token_hash BLOB PRIMARY KEY,
    session_hash BLOB NOT NULL REFERENCES sessions(id_hash) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX forward_auth_sessions_session ON forward_auth_sessions (session_hash);
