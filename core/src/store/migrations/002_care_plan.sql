-- Care-team thresholds per kind and measurement schedules, both sealed.
CREATE TABLE thresholds (
    kind_tag BLOB PRIMARY KEY,
    body     BLOB NOT NULL
) STRICT;

CREATE TABLE schedules (
    id   TEXT PRIMARY KEY,
    body BLOB NOT NULL
) STRICT;
