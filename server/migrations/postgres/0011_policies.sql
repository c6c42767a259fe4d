-- Policies (SPEC §7): named sets of login settings, each key optional (unset keys
-- inherit from the policy named 'default', which inherits from the [auth] config).
-- settings is a JSON object of key -> value text, validated by passgrid before it is
-- written (policy.rs), never free-form.
CREATE TABLE policies (
    name TEXT PRIMARY KEY,
    settings TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A group gets at most one policy (the primary key); the user's effective policy is
-- the attached one of highest priority among their groups. Deleting the group or the
-- policy removes the attachment.
CREATE TABLE policy_groups (
    group_name TEXT PRIMARY KEY REFERENCES groups(name) ON DELETE CASCADE,
    policy_name TEXT NOT NULL REFERENCES policies(name) ON DELETE CASCADE,
    priority BIGINT NOT NULL
);
CREATE INDEX policy_groups_policy ON policy_groups (policy_name);
