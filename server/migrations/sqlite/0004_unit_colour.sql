-- The colour of each unit as onemap last logged it (green, yellow, orange, red, black or
-- uninspected), kept in the table for other readers of the database: a GIS desktop, a
-- second tile server. onemap derives colours from the facts; this column follows every
-- committed write and every deadline the scheduler logs, in the same transaction. NULL
-- until onemap first starts on the data: it fills those at start.
ALTER TABLE units ADD COLUMN colour text
    CHECK (colour IN ('green', 'yellow', 'orange', 'red', 'black', 'uninspected'));
CREATE INDEX units_colour_missing ON units (id) WHERE colour IS NULL;
