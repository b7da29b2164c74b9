-- Appointment notices, their answers, cached questionnaires and form responses.
--
-- As for chat (005), everything that says anything about the patient is a sealed BLOB
-- (AES-256-GCM, AAD = table, column, row id). A notice's id is the region's
-- Appointment id (an opaque server id, as threads use); its body and the patient's side
-- of it are sealed. There is no plain time.

-- `body`: the sealed `Notice` JSON as last downloaded. `local`: the sealed
-- `NoticeLocal` JSON (opened, seen time, declaration submitted; answers are rows of
-- `notice_answers`).
CREATE TABLE notices (
    seq   INTEGER PRIMARY KEY,
    id    TEXT NOT NULL UNIQUE,
    body  BLOB NOT NULL,
    local BLOB NOT NULL
) STRICT;

-- The patient's answers, oldest first. `id`: the client id (the identifier on the
-- server). `body`: the sealed `GivenAnswer` JSON (its delivery state included).
CREATE TABLE notice_answers (
    seq        INTEGER PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    notice_seq INTEGER NOT NULL REFERENCES notices (seq) ON DELETE CASCADE,
    body       BLOB NOT NULL
) STRICT;

CREATE INDEX notice_answers_by_notice ON notice_answers (notice_seq, seq);

-- Questionnaires as the region sent them (sealed FHIR JSON: a form's topic can say
-- something about the patient).
CREATE TABLE questionnaires (
    id   TEXT PRIMARY KEY,
    body BLOB NOT NULL
) STRICT;

-- A form being filled in or submitted. `context_tag`: keyed HMAC of the questionnaire
-- id and what it is filled in for (a notice, or nothing), so the one draft of a form
-- for a notice is found without a plain id. `body`: the sealed draft (answers, times,
-- the client id). `submitted`: 0 draft, 1 submitted (then it is in the outbox until
-- the region has it, and read-only).
CREATE TABLE form_responses (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    context_tag BLOB NOT NULL,
    body        BLOB NOT NULL,
    submitted   INTEGER NOT NULL CHECK (submitted IN (0, 1))
) STRICT;

-- At most one draft per form and context; submitted responses stay as history.
CREATE UNIQUE INDEX form_responses_one_draft ON form_responses (context_tag) WHERE submitted = 0;
