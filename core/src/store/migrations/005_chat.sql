-- Chat with the care team: threads, messages, photo metadata (the photo bytes are
-- sealed files in `files/` beside the database, see store/files.rs).
--
-- Every value that says anything about the patient is a sealed BLOB (AES-256-GCM, AAD =
-- table, column, row id): thread bodies, message bodies and texts, read times, photo
-- metadata. `thread_tag` is a keyed HMAC of the thread id, so per-thread queries need no
-- plain id. There is no plain time: messages page newest first by `seq`, the local
-- arrival order (messages arrive roughly in the order they were written; one that
-- arrives late is shown where it arrived, as it was first seen). Plain columns say only
-- who wrote a message, how far it has come and whether it was read.

-- A thread as the region provides it; `body` is the sealed `Thread` JSON (its
-- `updated_at` included: a plain time would say when the patient talked to the unit).
CREATE TABLE threads (
    id   TEXT PRIMARY KEY,
    body BLOB NOT NULL
) STRICT;

-- `id`: the client id (the patient's messages) or the region's id (the unit's).
-- `author`: 0 the patient, 1 the care unit. `delivery`: 0 queued, 1 sent, 2 delivered,
-- 3 read, for the patient's messages (NULL for the unit's); it only moves forward.
-- `read_at`: sealed time the patient read a unit message; NULL while unread.
CREATE TABLE messages (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    thread_tag BLOB NOT NULL,
    author     INTEGER NOT NULL CHECK (author IN (0, 1)),
    body       BLOB NOT NULL,
    text       BLOB NOT NULL,
    delivery   INTEGER CHECK (delivery BETWEEN 0 AND 3),
    read_at    BLOB
) STRICT;

CREATE INDEX messages_by_thread ON messages (thread_tag, seq);
CREATE INDEX messages_unread ON messages (thread_tag) WHERE author = 1 AND read_at IS NULL;

-- Photo metadata. `own`: attached on this device (never evicted; uploaded from here).
-- `stored_size`: bytes of the sealed file in `files/`, NULL when the bytes are not on the
-- device (a remote photo not yet downloaded, or evicted). `last_used`: a local counter
-- (not a time) for least-recently-used eviction of downloaded photos.
CREATE TABLE photos (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    message_seq INTEGER NOT NULL REFERENCES messages (seq) ON DELETE CASCADE,
    own         INTEGER NOT NULL CHECK (own IN (0, 1)),
    body        BLOB NOT NULL,
    stored_size INTEGER,
    last_used   INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE INDEX photos_by_message ON photos (message_seq);
CREATE INDEX photos_cached ON photos (last_used) WHERE own = 0 AND stored_size IS NOT NULL;
