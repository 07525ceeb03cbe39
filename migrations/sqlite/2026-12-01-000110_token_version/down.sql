ALTER TABLE git_tokens DROP COLUMN version;
