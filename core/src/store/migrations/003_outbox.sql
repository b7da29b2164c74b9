-- The outbox: every local change to upload, written in the same transaction as the
-- change. Holds references only (the entity's local row number), never content.
-- WITHOUT ROWID: the key is the only index, so an enqueue is one B-tree append.
CREATE TABLE outbox (
    entity     TEXT NOT NULL,
    entity_seq INTEGER NOT NULL,
    state      INTEGER NOT NULL DEFAULT 0,
    attempts   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (entity, entity_seq)
) STRICT, WITHOUT ROWID;
