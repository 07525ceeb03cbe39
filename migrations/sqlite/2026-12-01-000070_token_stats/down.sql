DROP TRIGGER services_version_delete;
DROP TRIGGER services_version_update;
DROP TRIGGER services_version_insert;
DROP TRIGGER git_tokens_version_delete;
DROP TRIGGER git_tokens_version_update;
DROP TRIGGER git_tokens_version_insert;
ALTER TABLE organizations DROP COLUMN tokens_version;
