-- The recordings catalog: one row per output file of a mixer (src/catalog/).
-- Times are Unix ms (UTC); sizes bytes; 0 = not known yet.
CREATE TABLE recordings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    mixer_id TEXT NOT NULL,
    output_id TEXT NOT NULL,
    conference_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    camid TEXT NOT NULL,
    member_name TEXT NOT NULL,
    record_type TEXT NOT NULL,
    media TEXT NOT NULL,
    container TEXT NOT NULL,
    path TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    status TEXT NOT NULL,
    conference_begin_ms INTEGER NOT NULL,
    conference_end_ms INTEGER NOT NULL,
    start_ms INTEGER NOT NULL,
    end_ms INTEGER NOT NULL,
    record_time_ms INTEGER NOT NULL,
    expire_time_ms INTEGER NOT NULL,
    UNIQUE (mixer_id, conference_begin_ms, output_id)
);
CREATE INDEX recordings_conference ON recordings (conference_id, id);
CREATE INDEX recordings_record_time ON recordings (record_time_ms, id);
