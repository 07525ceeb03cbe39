-- Organization API keys (issue 14, DESIGN.md §9): `fkp_…` keys acting with a role in one
-- organization. Only the SHA-256 of a key is stored (`key_hash`); `hint` is its prefix and first
-- characters, kept in clear to tell keys apart. `created_by` is the creator's e-mail at the time.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    hint TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE INDEX api_keys_org ON api_keys(org_id, created_at);
