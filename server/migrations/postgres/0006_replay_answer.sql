-- An Idempotency-Key replays the first answer; its HTTP status follows from the answer
-- (a creation is a 201), so the store keeps the answer alone.
ALTER TABLE idempotency DROP COLUMN status;
