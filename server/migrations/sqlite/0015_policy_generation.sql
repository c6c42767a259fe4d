-- A number that every change of a policy or of where policies apply moves on: each
-- server keeps the policies in memory and reads this with every login's facts, so a
-- change made on any server holds from the next login on every server.
CREATE TABLE policy_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO policy_generation (id, value) VALUES (1, 0);
CREATE TRIGGER policies_inserted AFTER INSERT ON policies
BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER policies_updated AFTER UPDATE ON policies
BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER policies_deleted AFTER DELETE ON policies
BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER policy_groups_inserted AFTER INSERT ON policy_groups
BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER policy_groups_updated AFTER UPDATE ON policy_groups
BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER policy_groups_deleted AFTER DELETE ON policy_groups
BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
-- A group's deletion takes its attachment with it (a cascade).
CREATE TRIGGER groups_deleted AFTER DELETE ON groups
BEGIN UPDATE policy_generation SET value = value + 1 WHERE id = 1; END;
