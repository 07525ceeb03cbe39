DROP INDEX services_name;
ALTER TABLE services DROP COLUMN name_key;
DROP INDEX git_tokens_expiry;
DROP INDEX git_tokens_status;
DROP INDEX git_tokens_identity;
ALTER TABLE git_tokens DROP COLUMN identity_key;
