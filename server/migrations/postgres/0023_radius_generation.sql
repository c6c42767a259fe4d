-- A number every change of the RADIUS clients, their certificates, their applications
-- and the group replies moves on: each server keeps the NAS table in memory and
-- reloads it when this moves (a count and the newest time missed a removal and an
-- addition within one second).
CREATE TABLE radius_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value BIGINT NOT NULL
);
INSERT INTO radius_generation (id, value) VALUES (1, 0);
CREATE FUNCTION bump_radius_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE radius_generation SET value = value + 1 WHERE id = 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER radius_clients_changed AFTER INSERT OR UPDATE OR DELETE ON radius_clients
    FOR EACH STATEMENT EXECUTE FUNCTION bump_radius_generation();
CREATE TRIGGER radius_client_certificates_changed AFTER INSERT OR DELETE ON radius_client_certificates
    FOR EACH STATEMENT EXECUTE FUNCTION bump_radius_generation();
CREATE TRIGGER radius_group_replies_changed AFTER INSERT OR UPDATE OR DELETE ON radius_group_replies
    FOR EACH STATEMENT EXECUTE FUNCTION bump_radius_generation();
-- Applications of every kind: statement triggers see no row (a few extra reloads).
CREATE TRIGGER radius_applications_changed AFTER UPDATE OR DELETE ON applications
    FOR EACH STATEMENT EXECUTE FUNCTION bump_radius_generation();
