DROP INDEX git_tokens_key_id;
DROP TABLE master_keys;
