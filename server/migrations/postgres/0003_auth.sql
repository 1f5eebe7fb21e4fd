-- Users and their tokens. A token is kept only as its SHA-256; times are milliseconds
-- since the Unix epoch (the same queries run on both backends).

CREATE TABLE users (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE,
    role          TEXT NOT NULL,
    scope         TEXT NOT NULL DEFAULT '',
    password_hash TEXT,
    created_at    BIGINT NOT NULL
);

CREATE TABLE tokens (
    hash        TEXT PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id),
    kind        TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    revoked_at  BIGINT
);
CREATE INDEX tokens_user ON tokens (user_id);
