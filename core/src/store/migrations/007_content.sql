-- Self-care content: what says something about the patient (ADR 0011 §3). The articles
-- themselves are public and live in `content.db` beside this database
-- (store/content_db.rs); here are only the assignment and the read history.

-- The care team's assignment list: one row, `body` the sealed JSON array of article
-- ids in the team's order (AAD `content_assigned|body|1`). No plain id.
CREATE TABLE content_assigned (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    body BLOB NOT NULL
) STRICT;

-- Read history for least-recently-read eviction. `tag`: keyed HMAC of the article id
-- (domain `content-article`), never the plain id. `last_read`: a local counter (not a
-- time), the highest is the most recently read.
CREATE TABLE content_reads (
    tag       BLOB PRIMARY KEY,
    last_read INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The content budget is the `meta` row `content_budget` (bytes, little-endian u64), as
-- chat's photo budget.
