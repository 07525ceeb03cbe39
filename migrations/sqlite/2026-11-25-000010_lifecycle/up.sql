-- Expiry watch: status history, the scheduler lease, notification settings and deliveries.

CREATE TABLE token_status_history (
    id TEXT PRIMARY KEY NOT NULL,
    token_id TEXT NOT NULL REFERENCES git_tokens(id) ON DELETE CASCADE,
    org_id TEXT NOT NULL,
    status TEXT NOT NULL,
    tested_at TIMESTAMP NOT NULL,
    reason TEXT,
    -- scheduler, manual or cli
    source TEXT NOT NULL
);
CREATE INDEX token_status_history_token ON token_status_history(token_id, tested_at);

-- One row per background job. A process runs the job only after taking the row with an
-- atomic conditional UPDATE (expires_at in the past); it renews expires_at while it runs.
CREATE TABLE scheduler_leases (
    name TEXT PRIMARY KEY NOT NULL,
    holder TEXT,
    expires_at TIMESTAMP NOT NULL,
    last_started_at TIMESTAMP,
    last_finished_at TIMESTAMP
);
INSERT INTO scheduler_leases (name, holder, expires_at) VALUES ('recheck', NULL, '1970-01-01 00:00:00');

CREATE TABLE notification_settings (
    org_id TEXT PRIMARY KEY NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    webhook_url TEXT NOT NULL,
    updated_by TEXT,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE notification_deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    token_id TEXT,
    -- expiry, status or test
    kind TEXT NOT NULL,
    -- expiry:<token>:<expiry date>:<days> / status:<token>:<history id> / test:<id>: sent once
    dedup_key TEXT NOT NULL UNIQUE,
    message TEXT NOT NULL,
    -- pending, retrying, sent, failed
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP
);
CREATE INDEX notification_deliveries_due ON notification_deliveries(state, next_attempt_at);
CREATE INDEX notification_deliveries_org ON notification_deliveries(org_id, created_at);
