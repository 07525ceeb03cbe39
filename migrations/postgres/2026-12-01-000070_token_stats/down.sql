DROP TRIGGER services_version ON services;
DROP TRIGGER git_tokens_version ON git_tokens;
DROP FUNCTION bump_tokens_version();
DROP SEQUENCE tokens_version_seq;
ALTER TABLE organizations DROP COLUMN tokens_version;
