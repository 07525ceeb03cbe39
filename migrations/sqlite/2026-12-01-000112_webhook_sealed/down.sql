-- Sealed URLs cannot be opened in SQL: only rows not yet sealed keep their webhook.
CREATE TABLE notification_settings_plain (
    org_id TEXT PRIMARY KEY NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    webhook_url TEXT NOT NULL,
    updated_by TEXT,
    updated_at TIMESTAMP NOT NULL
);

INSERT INTO notification_settings_plain (org_id, webhook_url, updated_by, updated_at)
SELECT org_id, legacy_webhook_url, updated_by, updated_at FROM notification_settings
WHERE legacy_webhook_url IS NOT NULL;

DROP TABLE notification_settings;

ALTER TABLE notification_settings_plain RENAME TO notification_settings;
