-- Build credentials (issue 14, DESIGN.md §9): service keys (`fks_…`), each bound to one service.
-- Only the key's SHA-256 is stored (`key_hash`); `hint` is its prefix and first characters, kept
-- in clear to tell keys apart. Deleting the service deletes its keys (they stop working at once).
CREATE TABLE service_keys (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    service_id TEXT NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    hint TEXT NOT NULL,
    created_by TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX service_keys_service ON service_keys(service_id, created_at);
CREATE INDEX service_keys_expiry ON service_keys(expires_at);

-- Which services fetched a token's value through `git-credentials`, when last and how often:
-- one row per token and service (the token page's "Last used by a service").
CREATE TABLE token_fetches (
    token_id TEXT NOT NULL REFERENCES git_tokens(id) ON DELETE CASCADE,
    service_id TEXT NOT NULL REFERENCES services(id) ON DELETE CASCADE,
    last_at TIMESTAMP NOT NULL,
    fetches BIGINT NOT NULL,
    PRIMARY KEY (token_id, service_id)
);
CREATE INDEX token_fetches_service ON token_fetches(service_id);
