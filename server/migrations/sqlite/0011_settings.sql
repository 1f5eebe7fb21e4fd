-- The town's settings, by name: `time_zone` (a UTC offset, `+08:00`) says which
-- calendar its days (`at=` dates, deadlines' days, briefings) are counted in.
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
