-- Sync with the region: the login and cursors as sealed key/value pairs (AAD = table,
-- column, key), and outbox scheduling. An outbox row is deleted when the server has the
-- change; a row the server rejected stays with `state = 2` and an error code (never
-- content), so nothing is ever dropped silently.
CREATE TABLE sync_meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

ALTER TABLE outbox ADD COLUMN next_attempt_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN error TEXT;
