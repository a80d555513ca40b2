-- PostgreSQL form of migrations/sqlite/ (the same tables). The recordings catalog: one row per output file of a mixer (src/catalog/).
-- Times are Unix ms (UTC); sizes bytes; 0 = not known yet.
CREATE TABLE recordings (
    id BIGSERIAL PRIMARY KEY,
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
    size_bytes BIGINT NOT NULL,
    duration_ms BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    status TEXT NOT NULL,
    conference_begin_ms BIGINT NOT NULL,
    conference_end_ms BIGINT NOT NULL,
    start_ms BIGINT NOT NULL,
    end_ms BIGINT NOT NULL,
    record_time_ms BIGINT NOT NULL,
    expire_time_ms BIGINT NOT NULL,
    UNIQUE (mixer_id, conference_begin_ms, output_id)
);
CREATE INDEX recordings_conference ON recordings (conference_id, id);
CREATE INDEX recordings_record_time ON recordings (record_time_ms, id);
