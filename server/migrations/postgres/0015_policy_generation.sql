-- A number that every change of a policy or of where policies apply moves on: each
-- server keeps the policies in memory and reads this with every login's facts, so a
-- change made on any server holds from the next login on every server.
CREATE TABLE policy_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO policy_generation (id, value) VALUES (1, 0);
CREATE FUNCTION bump_policy_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE policy_generation SET value = value + 1 WHERE id = 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER policies_changed AFTER INSERT OR UPDATE OR DELETE ON policies
    FOR EACH STATEMENT EXECUTE FUNCTION bump_policy_generation();
CREATE TRIGGER policy_groups_changed AFTER INSERT OR UPDATE OR DELETE ON policy_groups
    FOR EACH STATEMENT EXECUTE FUNCTION bump_policy_generation();
-- A group's deletion takes its attachment with it (a cascade).
CREATE TRIGGER groups_deleted AFTER DELETE ON groups
    FOR EACH STATEMENT EXECUTE FUNCTION bump_policy_generation();
