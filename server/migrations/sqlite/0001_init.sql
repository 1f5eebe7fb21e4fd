-- onemap schema, SQLite backend. Points as lon/lat columns, polygons as WKB blobs.
-- Times are RFC 3339 text in UTC.

CREATE TABLE regions (
    id        TEXT PRIMARY KEY,
    level     TEXT NOT NULL CHECK (level IN ('town', 'area', 'group', 'village', 'grid', 'micro_grid')),
    parent_id TEXT REFERENCES regions (id),
    code      TEXT,
    name      TEXT NOT NULL,
    geom      BLOB
);
CREATE INDEX regions_parent ON regions (parent_id);

CREATE TABLE units (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    kind          TEXT NOT NULL CHECK (kind IN ('enterprise', 'street_shop', 'rental', 'high_rise')),
    name          TEXT NOT NULL,
    address       TEXT NOT NULL,
    owner_name    TEXT NOT NULL,
    owner_phone   TEXT NOT NULL,
    lon           REAL NOT NULL CHECK (lon BETWEEN -180 AND 180),
    lat           REAL NOT NULL CHECK (lat BETWEEN -90 AND 90),
    micro_grid_id TEXT NOT NULL REFERENCES regions (id),
    risk_level    TEXT NOT NULL CHECK (risk_level IN ('red', 'orange', 'yellow', 'blue')),
    batch         TEXT CHECK (batch IN ('model', 'rectify', 'close')),
    host_id       INTEGER REFERENCES units (id),
    registered_at TEXT NOT NULL
);
CREATE INDEX units_micro_grid ON units (micro_grid_id);

CREATE TABLE inspections (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_id      INTEGER NOT NULL REFERENCES units (id),
    kind         TEXT NOT NULL CHECK (kind IN ('inspection', 'reinspection')),
    inspector    TEXT NOT NULL,
    inspected_at TEXT NOT NULL,
    signature    TEXT,
    photos       TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX inspections_unit ON inspections (unit_id);

CREATE TABLE hazards (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_id        INTEGER NOT NULL REFERENCES units (id),
    inspection_id  INTEGER NOT NULL REFERENCES inspections (id),
    category       TEXT NOT NULL CHECK (category IN ('fire', 'production', 'traffic', 'other')),
    hazard_type    TEXT NOT NULL,
    severity       TEXT NOT NULL CHECK (severity IN ('general', 'major')),
    stage          TEXT NOT NULL CHECK (stage IN ('immediate', 'concentrated', 'deadline')),
    found_at       TEXT NOT NULL,
    deadline       TEXT,
    yellow_card_at TEXT,
    closed_at      TEXT,
    evidence       TEXT
);
CREATE INDEX hazards_unit ON hazards (unit_id);

CREATE TABLE suspensions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    unit_id    INTEGER NOT NULL REFERENCES units (id),
    started_at TEXT NOT NULL,
    ended_at   TEXT
);
CREATE INDEX suspensions_unit ON suspensions (unit_id);
-- At most one order in force per unit.
CREATE UNIQUE INDEX suspensions_one_open ON suspensions (unit_id) WHERE ended_at IS NULL;
