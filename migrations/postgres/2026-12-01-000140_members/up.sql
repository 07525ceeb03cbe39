-- Members and accounts (issue 12): invitations by e-mail with a one-time link (only its SHA-256
-- is stored), one-time password-reset links from `forgekeys user reset-password`, and the time
-- of each user's last sign-in for the members page.
CREATE TABLE invites (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    invited_by TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    used_by TEXT,
    revoked_at TIMESTAMP
);
CREATE INDEX invites_org ON invites(org_id, created_at);

CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX password_resets_user ON password_resets(user_id);

ALTER TABLE users ADD COLUMN last_sign_in_at TIMESTAMP;
CREATE INDEX memberships_org ON memberships(org_id, role);
