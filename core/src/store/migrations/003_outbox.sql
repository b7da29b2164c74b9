-- The outbox: every local change to upload, written in the same transaction as the
-- change. Holds references only, never content.
CREATE TABLE outbox (
    seq       INTEGER PRIMARY KEY,
    entity    TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    state     INTEGER NOT NULL DEFAULT 0,
    attempts  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (entity, entity_id)
) STRICT;
