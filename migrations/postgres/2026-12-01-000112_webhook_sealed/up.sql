-- The webhook URL is sealed like a token (its path is the webhook's secret): XChaCha20-Poly1305
-- under the primary master key, bound to the organization. Sealing needs the key, which SQL
-- does not have: existing plain URLs move to `legacy_webhook_url` here, and the server seals
-- them at start (`app::keys::legacy`) and clears the column. `webhook_url_hint` is what pages
-- show (`https://hooks.example.com/…`).
ALTER TABLE notification_settings RENAME COLUMN webhook_url TO legacy_webhook_url;
ALTER TABLE notification_settings ALTER COLUMN legacy_webhook_url DROP NOT NULL;
ALTER TABLE notification_settings ADD COLUMN webhook_secret BYTEA;
ALTER TABLE notification_settings ADD COLUMN webhook_key_id TEXT;
ALTER TABLE notification_settings ADD COLUMN webhook_url_hint TEXT NOT NULL DEFAULT '';
