-- TOTP two-factor sign-in (issue 12). The secret is sealed like token values (under a master
-- key, bound to the user's id); totp_enabled_at stays NULL while an enrollment awaits its first
-- code; totp_last_step is the last time step whose code was accepted (no replay within it).
ALTER TABLE users ADD COLUMN totp_secret BYTEA;
ALTER TABLE users ADD COLUMN totp_key_id TEXT;
ALTER TABLE users ADD COLUMN totp_enabled_at TIMESTAMP;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;

-- Single-use recovery codes: only their SHA-256 is stored.
CREATE TABLE recovery_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP
);
CREATE INDEX recovery_codes_user ON recovery_codes(user_id);

-- The half-session between the password and the code: a random id in a cookie (its SHA-256
-- here), a few minutes long.
CREATE TABLE pending_sign_ins (
    id_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    user_agent TEXT,
    client_ip TEXT,
    created_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);

ALTER TABLE organizations ADD COLUMN require_2fa BOOLEAN NOT NULL DEFAULT FALSE;
