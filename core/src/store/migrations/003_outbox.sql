-- The outbox: every local change to upload, written in the same transaction as the
-- change. Holds references only (the entity's local row number), never content.
CREATE TABLE outbox (
    seq       INTEGER PRIMARY KEY,
    entity    TEXT NOT NULL,
    entity_seq INTEGER NOT NULL,
    state     INTEGER NOT NULL DEFAULT 0,
    attempts  INTEGER NOT NULL DEFAULT 0,
    UNIQUE (entity, entity_seq)
) STRICT;
