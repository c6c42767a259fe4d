-- A number every change of the RADIUS clients, their certificates, their applications
-- and the group replies moves on: each server keeps the NAS table in memory and
-- reloads it when this moves (a count and the newest time missed a removal and an
-- addition within one second).
CREATE TABLE radius_generation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT INTO radius_generation (id, value) VALUES (1, 0);
CREATE TRIGGER radius_clients_inserted AFTER INSERT ON radius_clients
BEGIN UPDATE radius_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER radius_clients_updated AFTER UPDATE ON radius_clients
BEGIN UPDATE radius_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER radius_clients_deleted AFTER DELETE ON radius_clients
BEGIN UPDATE radius_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER radius_client_certificates_inserted AFTER INSERT ON radius_client_certificates
BEGIN UPDATE radius_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER radius_client_certificates_deleted AFTER DELETE ON radius_client_certificates
BEGIN UPDATE radius_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER radius_group_replies_inserted AFTER INSERT ON radius_group_replies
BEGIN UPDATE radius_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER radius_group_replies_updated AFTER UPDATE ON radius_group_replies
BEGIN UPDATE radius_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER radius_group_replies_deleted AFTER DELETE ON radius_group_replies
BEGIN UPDATE radius_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER radius_applications_changed AFTER UPDATE ON applications WHEN NEW.kind = 'radius'
BEGIN UPDATE radius_generation SET value = value + 1 WHERE id = 1; END;
CREATE TRIGGER radius_applications_deleted AFTER DELETE ON applications WHEN OLD.kind = 'radius'
BEGIN UPDATE radius_generation SET value = value + 1 WHERE id = 1; END;
