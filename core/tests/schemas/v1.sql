-- FROZEN: the schema as v1 shipped it. Never edit; the migration test upgrades it.
-- Nära schema v1: metadata and readings.
-- Every column that says anything about the patient is a sealed BLOB (AES-256-GCM,
-- AAD = table, column, row id). `kind_tag` is a keyed HMAC of the kind; `week` is a
-- coarse time bucket (weeks since 1970) so that range queries need no plain time.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) STRICT;

CREATE TABLE readings (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    kind_tag   BLOB NOT NULL,
    week       INTEGER NOT NULL,
    supersedes TEXT,
    body       BLOB NOT NULL,
    note       BLOB,
    triage     BLOB NOT NULL
) STRICT;

CREATE INDEX readings_by_kind_week ON readings (kind_tag, week);
CREATE INDEX readings_by_supersedes ON readings (supersedes) WHERE supersedes IS NOT NULL;
