ALTER TABLE organizations DROP COLUMN require_2fa;
DROP TABLE pending_sign_ins;
DROP TABLE recovery_codes;
ALTER TABLE users DROP COLUMN totp_last_step;
ALTER TABLE users DROP COLUMN totp_enabled_at;
ALTER TABLE users DROP COLUMN totp_key_id;
ALTER TABLE users DROP COLUMN totp_secret;
