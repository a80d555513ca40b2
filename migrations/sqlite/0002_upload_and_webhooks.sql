-- Upload of each file to object storage (src/catalog/upload.rs) and the durable
-- webhook queue (src/catalog/outbox.rs). Times Unix ms.
-- upload_state: LOCAL (no storage configured), PENDING, UPLOADED, FAILED.
ALTER TABLE recordings ADD COLUMN upload_state TEXT NOT NULL DEFAULT 'LOCAL';
-- Where the object is, e.g. s3://bucket/prefix/path (empty until uploaded).
ALTER TABLE recordings ADD COLUMN upload_location TEXT NOT NULL DEFAULT '';
ALTER TABLE recordings ADD COLUMN upload_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE recordings ADD COLUMN upload_next_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE recordings ADD COLUMN upload_error TEXT NOT NULL DEFAULT '';
CREATE INDEX recordings_upload ON recordings (upload_state, upload_next_ms);

-- One row per (message, endpoint): a message is queued once per event (its id is
-- derived from the event, so queuing it again after a restart is a no-op) and
-- delivered to every configured endpoint at least once.
CREATE TABLE webhooks (
    msg_id TEXT NOT NULL,
    url TEXT NOT NULL,
    event_type TEXT NOT NULL,
    body TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    -- PENDING, DELIVERED or FAILED (attempts exhausted).
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL,
    last_error TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (msg_id, url)
);
CREATE INDEX webhooks_due ON webhooks (state, next_attempt_ms);
