-- A comprehensive one-time inspection (综合查一次): the visit's tag, carried by the
-- hazards it found.
ALTER TABLE inspections ADD COLUMN comprehensive boolean NOT NULL DEFAULT false;
ALTER TABLE hazards ADD COLUMN comprehensive boolean NOT NULL DEFAULT false;
