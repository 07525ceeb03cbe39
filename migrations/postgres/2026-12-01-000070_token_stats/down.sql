DROP TRIGGER git_tokens_version ON git_tokens;
DROP FUNCTION git_tokens_bump_version();
ALTER TABLE organizations DROP COLUMN tokens_version;
