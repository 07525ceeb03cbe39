-- Queries shaped for the pages (issue 10): what a list page counts or groups is indexed, so a
-- page costs the same at 100 and at 10,000 tokens.

-- Tokens saved twice: provider, hosting, server URL, workspace and account, lower-cased
-- (NULL while the account is unknown). Kept up to date by every write of the row.
ALTER TABLE git_tokens ADD COLUMN identity_key TEXT;
UPDATE git_tokens SET identity_key = CASE
    WHEN account IS NULL OR trim(account) = '' THEN NULL
    ELSE provider || '|' || hosting || '|' || lower(rtrim(coalesce(url, ''), '/')) || '|'
        || lower(coalesce(workspace, '')) || '|' || lower(trim(account))
END;
CREATE INDEX git_tokens_identity ON git_tokens(org_id, identity_key);
-- The attention count: failing statuses, and expiries within 30 days.
CREATE INDEX git_tokens_status ON git_tokens(org_id, status);
CREATE INDEX git_tokens_expiry ON git_tokens(org_id, expires_at);

-- Service names are unique per organization (case-insensitive), by a key the database
-- enforces. Rows that already clash keep their name; their key gets the row id appended.
ALTER TABLE services ADD COLUMN name_key TEXT NOT NULL DEFAULT '';
UPDATE services SET name_key = lower(trim(name));
UPDATE services SET name_key = name_key || '#' || id
WHERE id NOT IN (SELECT MIN(id) FROM services GROUP BY org_id, name_key);
CREATE UNIQUE INDEX services_name ON services(org_id, name_key);
