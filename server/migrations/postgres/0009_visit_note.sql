-- The inspector's note on a visit ('' when none).
ALTER TABLE inspections ADD COLUMN note text NOT NULL DEFAULT '';
