-- The inspector's note on a visit ('' when none).
ALTER TABLE inspections ADD COLUMN note TEXT NOT NULL DEFAULT '';
