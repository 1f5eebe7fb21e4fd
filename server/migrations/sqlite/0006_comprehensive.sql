-- A comprehensive one-time inspection (综合查一次): the visit's tag, carried by the
-- hazards it found.
ALTER TABLE inspections ADD COLUMN comprehensive BOOLEAN NOT NULL DEFAULT 0;
ALTER TABLE hazards ADD COLUMN comprehensive BOOLEAN NOT NULL DEFAULT 0;
