-- The field workflow's journal: the append-only event log, idempotency keys, the notice
-- outbox, weekly targets, attachments, and the clock watermark. Every write commits its
-- facts and its rows here in one transaction.

CREATE TABLE events (
    seq           INTEGER PRIMARY KEY AUTOINCREMENT,
    at            TEXT NOT NULL,
    kind          TEXT NOT NULL,
    actor         TEXT NOT NULL,
    unit_id       INTEGER REFERENCES units (id),
    unit_name     TEXT,
    hazard_id     INTEGER REFERENCES hazards (id),
    region_id     TEXT REFERENCES regions (id),
    colour_before TEXT,
    colour_after  TEXT,
    before        TEXT NOT NULL DEFAULT 'null',
    after         TEXT NOT NULL DEFAULT 'null'
);
CREATE INDEX events_unit ON events (unit_id, seq);
-- Append-only: the log is never rewritten.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

CREATE TABLE idempotency (
    key          TEXT PRIMARY KEY,
    fingerprint  TEXT NOT NULL,
    status       INTEGER NOT NULL,
    response     TEXT NOT NULL,
    created_at   TEXT NOT NULL
);

CREATE TABLE notices (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event_seq       INTEGER NOT NULL REFERENCES events (seq),
    unit_id         INTEGER NOT NULL REFERENCES units (id),
    recipient       TEXT NOT NULL,
    phone           TEXT NOT NULL,
    message         TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    delivered_at    TEXT,
    last_error      TEXT
);
CREATE INDEX notices_due ON notices (next_attempt_at) WHERE delivered_at IS NULL;

CREATE TABLE targets (
    group_id   TEXT NOT NULL REFERENCES regions (id),
    week       TEXT NOT NULL,
    closures   INTEGER NOT NULL CHECK (closures >= 0),
    set_at     TEXT NOT NULL,
    set_by     TEXT NOT NULL,
    PRIMARY KEY (group_id, week)
);

CREATE TABLE blobs (
    hash         TEXT PRIMARY KEY,
    content_type TEXT NOT NULL,
    size         INTEGER NOT NULL,
    data         BLOB NOT NULL
);

CREATE TABLE attachments (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_id    INTEGER NOT NULL REFERENCES units (id),
    hash       TEXT NOT NULL REFERENCES blobs (hash),
    kind       TEXT NOT NULL CHECK (kind IN ('photo', 'video', 'floor_plan')),
    created_at TEXT NOT NULL,
    actor      TEXT NOT NULL
);
CREATE INDEX attachments_unit ON attachments (unit_id);

-- The moment up to which every clock-driven colour change has been logged.
CREATE TABLE clock (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    watermark TEXT NOT NULL
);
