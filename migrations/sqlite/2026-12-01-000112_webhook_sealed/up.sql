-- The webhook URL is sealed like a token (its path is the webhook's secret): XChaCha20-Poly1305
-- under the primary master key, bound to the organization. Sealing needs the key, which SQL
-- does not have: existing plain URLs move to `legacy_webhook_url` here, and the server seals
-- them at start (`app::keys::legacy`) and clears the column. `webhook_url_hint` is what pages
-- show (`https://hooks.example.com/…`).
CREATE TABLE notification_settings_sealed (
    org_id TEXT PRIMARY KEY NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    webhook_secret BLOB,
    webhook_key_id TEXT,
    webhook_url_hint TEXT NOT NULL DEFAULT '',
    legacy_webhook_url TEXT,
    updated_by TEXT,
    updated_at TIMESTAMP NOT NULL
);

INSERT INTO notification_settings_sealed (org_id, legacy_webhook_url, updated_by, updated_at)
SELECT org_id, webhook_url, updated_by, updated_at FROM notification_settings;

DROP TABLE notification_settings;

ALTER TABLE notification_settings_sealed RENAME TO notification_settings;
