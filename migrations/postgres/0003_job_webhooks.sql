-- The webhook endpoints of the job a file belongs to (record_cfg.webhook_urls),
-- newline-separated, besides the daemon's: the upload task tells them too.
ALTER TABLE recordings ADD COLUMN webhook_urls TEXT NOT NULL DEFAULT '';
