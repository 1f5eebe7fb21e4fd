-- A register's own key for a unit (编号), kept by imports so that a second import of
-- the same register updates instead of adding.
CREATE TABLE unit_external_ids (
    external_id text PRIMARY KEY,
    unit_id     bigint NOT NULL UNIQUE REFERENCES units (id)
);
