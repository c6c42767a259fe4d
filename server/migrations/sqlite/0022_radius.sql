-- RADIUS (SPEC §10.4, issue #18). Numbered 0022 to leave 0021 to SAML. Times are
-- Unix seconds.

-- NAS devices: each is an application (kind 'radius') for the access rules of
-- SPEC §6.3, with the address block it sends from and its shared secret sealed under
-- the master key (NULL: RadSec only, by certificate).
CREATE TABLE radius_clients (
    name TEXT PRIMARY KEY REFERENCES applications(name) ON DELETE CASCADE,
    -- One address or a CIDR block.
    address TEXT NOT NULL,
    secret_sealed BLOB,
    -- 1: drop Access-Requests without Message-Authenticator (Blast-RADIUS).
    require_message_authenticator INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- RadSec (RFC 6614): the certificates passgrid's CA issued to a NAS. Only these open
-- a RadSec connection (a user's device certificate never does).
CREATE TABLE radius_client_certificates (
    serial TEXT PRIMARY KEY REFERENCES client_certificates(serial) ON DELETE CASCADE,
    client TEXT NOT NULL REFERENCES radius_clients(name) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
);

-- The portal's "VPN sign-in" grid: the newest one a user asked for. The challenge
-- itself lives in challenges (consumed by the one login decision); this row finds it
-- by user, so an Access-Request with PAP needs no search of that table.
CREATE TABLE radius_web_grids (
    user_id TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    challenge_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);

-- Reply attributes an Access-Accept carries for members of a group, as configured
-- text ("Filter-Id=staff", "Cisco-AVPair=shell:priv-lvl=15"), in order.
CREATE TABLE radius_group_replies (
    group_name TEXT NOT NULL REFERENCES groups(name) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    attribute TEXT NOT NULL,
    PRIMARY KEY (group_name, position)
);
