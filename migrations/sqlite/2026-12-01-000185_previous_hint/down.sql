ALTER TABLE git_tokens DROP COLUMN previous_kind;
ALTER TABLE git_tokens DROP COLUMN previous_hint;
