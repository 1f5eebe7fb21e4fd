-- Owners' fix reports (整改反馈): links an inspector makes for one unit (kept only as
-- the token's SHA-256), and the reports sent through them. A report's photos are the
-- unit's attachments; `photos` lists their hashes.
CREATE TABLE fix_links (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_id     INTEGER NOT NULL REFERENCES units (id),
    token_hash  TEXT NOT NULL UNIQUE,
    made_by     TEXT NOT NULL,
    made_at     TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE INDEX fix_links_unit ON fix_links (unit_id);

CREATE TABLE fix_reports (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_id     INTEGER NOT NULL REFERENCES units (id),
    link_id     INTEGER NOT NULL REFERENCES fix_links (id),
    sent_at     TEXT NOT NULL,
    note        TEXT NOT NULL,
    photos      TEXT NOT NULL,
    status      TEXT NOT NULL CHECK (status IN ('waiting', 'accepted', 'rejected')),
    handled_by  TEXT,
    handled_at  TEXT,
    reason      TEXT
);
CREATE INDEX fix_reports_unit ON fix_reports (unit_id);
CREATE INDEX fix_reports_waiting ON fix_reports (status) WHERE status = 'waiting';
