-- The leader's comment (点评) on a region's daily briefing, one per region and day.
CREATE TABLE briefing_comments (
    region_id TEXT NOT NULL REFERENCES regions (id),
    day       TEXT NOT NULL,
    text      TEXT NOT NULL,
    set_by    TEXT NOT NULL,
    set_at    TEXT NOT NULL,
    PRIMARY KEY (region_id, day)
);

-- A day's briefing queued for a group's channel: once per group and day.
CREATE TABLE briefing_deliveries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    day             TEXT NOT NULL,
    group_id        TEXT NOT NULL REFERENCES regions (id),
    region_id       TEXT NOT NULL REFERENCES regions (id),
    sink            TEXT NOT NULL,
    message         TEXT NOT NULL,
    sent_by         TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    delivered_at    TEXT,
    last_error      TEXT,
    UNIQUE (day, group_id)
);
CREATE INDEX briefing_deliveries_due ON briefing_deliveries (next_attempt_at) WHERE delivered_at IS NULL;
