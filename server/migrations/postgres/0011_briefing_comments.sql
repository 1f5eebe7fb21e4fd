-- The leader's comment (点评) on a region's daily briefing, one per region and day.
CREATE TABLE briefing_comments (
    region_id text NOT NULL REFERENCES regions (id),
    day       text NOT NULL,
    text      text NOT NULL,
    set_by    text NOT NULL,
    set_at    timestamptz NOT NULL,
    PRIMARY KEY (region_id, day)
);

-- A day's briefing queued for a group's channel: once per group and day.
CREATE TABLE briefing_deliveries (
    id              bigserial PRIMARY KEY,
    day             text NOT NULL,
    group_id        text NOT NULL REFERENCES regions (id),
    region_id       text NOT NULL REFERENCES regions (id),
    sink            text NOT NULL,
    message         text NOT NULL,
    sent_by         text NOT NULL,
    created_at      timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    delivered_at    timestamptz,
    last_error      text,
    UNIQUE (day, group_id)
);
CREATE INDEX briefing_deliveries_due ON briefing_deliveries (next_attempt_at) WHERE delivered_at IS NULL;
