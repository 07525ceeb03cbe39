-- Sealed URLs cannot be opened in SQL: only rows not yet sealed keep their webhook.
DELETE FROM notification_settings WHERE legacy_webhook_url IS NULL;
ALTER TABLE notification_settings DROP COLUMN webhook_url_hint;
ALTER TABLE notification_settings DROP COLUMN webhook_key_id;
ALTER TABLE notification_settings DROP COLUMN webhook_secret;
ALTER TABLE notification_settings ALTER COLUMN legacy_webhook_url SET NOT NULL;
ALTER TABLE notification_settings RENAME COLUMN legacy_webhook_url TO webhook_url;
