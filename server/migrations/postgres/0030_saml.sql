-- SAML 2.0 identity provider (SPEC §10.4, issue #19): service providers, the IdP's
-- signing keys, the AuthnRequests taken (replay detection, sign-ins waiting, the
-- sessions they were answered from for Single Logout), persistent NameIDs, logout
-- chains, and extra user attributes from directory sync and CSV import.
-- Numbered 0030 to leave room for other work's migrations. Times are Unix seconds.

-- A service provider: one per application of kind 'saml', from its metadata.
CREATE TABLE saml_sps (
    application TEXT PRIMARY KEY REFERENCES applications(name) ON DELETE CASCADE,
    -- The metadata's entityID: the Audience, and the Issuer of its requests.
    entity_id TEXT NOT NULL UNIQUE,
    -- The SP's metadata as registered (file, URL or preset): ACS and SLO endpoints
    -- and certificates are taken from here only.
    metadata_xml TEXT NOT NULL,
    -- Where the metadata was fetched from, to fetch it again on demand.
    metadata_url TEXT,
    metadata_fetched_at BIGINT,
    -- 'microsoft365', 'google-workspace' or NULL.
    preset TEXT,
    -- 'persistent', 'email', 'login', 'transient' or 'attr:NAME'.
    name_id TEXT NOT NULL,
    -- The NameID Format URI when not the one name_id implies; NULL: implied.
    name_id_format TEXT,
    -- Attributes sent, one 'NAME=FIELD' per line.
    attributes TEXT NOT NULL DEFAULT '',
    -- 'assertion', 'response' or 'both'.
    sign TEXT NOT NULL,
    -- 'aes256-gcm', 'aes128-cbc' (when the metadata has an encryption key) or 'off'.
    encrypt TEXT NOT NULL,
    -- 1: refuse unsigned AuthnRequests even if the metadata does not say it signs.
    require_signed_requests BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- The IdP's RSA signing keys, sealed under the master key like the CA key. A
-- retired key's certificate stays in the metadata until it is dropped.
CREATE TABLE saml_keys (
    kid TEXT PRIMARY KEY,
    -- 'signing' while the key signs, NULL once retired: UNIQUE keeps one signing
    -- key even when several servers start at once.
    active TEXT UNIQUE,
    key_sealed BYTEA NOT NULL,
    certificate BYTEA NOT NULL,
    retired_at BIGINT,
    created_at BIGINT NOT NULL
);

-- Every AuthnRequest taken (and every IdP-initiated sign-in): its ID for replay
-- detection, what the answer needs while the user signs in, and once answered,
-- the session and NameID it was answered with (Single Logout).
CREATE TABLE saml_requests (
    -- SHA-256 of the handle the sign-in continues with.
    handle_hash BYTEA PRIMARY KEY,
    application TEXT NOT NULL REFERENCES applications(name) ON DELETE CASCADE,
    -- The AuthnRequest's ID; NULL for IdP-initiated sign-ins.
    request_id TEXT,
    -- From the SP's metadata, never from the request alone.
    acs_url TEXT NOT NULL,
    relay_state TEXT,
    force_authn BIGINT NOT NULL DEFAULT 0,
    -- The NameIDPolicy Format asked for, if any.
    name_id_policy TEXT,
    expires_at BIGINT NOT NULL,
    answered_at BIGINT,
    sid TEXT,
    session_hash BYTEA,
    user_id TEXT,
    name_id TEXT,
    name_id_format TEXT,
    logged_out_at BIGINT,
    created_at BIGINT NOT NULL,
    UNIQUE (application, request_id)
);
CREATE INDEX saml_requests_sid ON saml_requests (sid);
CREATE INDEX saml_requests_created ON saml_requests (created_at);

-- Persistent NameIDs (SAML Core §8.3.7): random, stable per user and SP entity.
CREATE TABLE saml_persistent_ids (
    entity_id TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (entity_id, user_id),
    UNIQUE (entity_id, name_id)
);

-- Single Logout in progress (Profiles §4.4): the SPs of a session are sent a
-- LogoutRequest one after the other through the browser, which carries the handle.
CREATE TABLE saml_logouts (
    handle_hash BYTEA PRIMARY KEY,
    sid TEXT NOT NULL,
    user_id TEXT NOT NULL,
    -- An SP-initiated logout is answered at the end: the SP, its request's ID and
    -- RelayState; NULL for passgrid's own logout.
    reply_application TEXT,
    reply_request_id TEXT,
    reply_relay_state TEXT,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Extra attributes of users (e.g. immutable_id for Microsoft 365), set by directory
-- sync and CSV import, sent to SPs as NameID or attributes.
CREATE TABLE user_attributes (
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, name)
);
