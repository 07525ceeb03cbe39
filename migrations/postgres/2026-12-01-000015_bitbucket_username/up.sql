-- Bitbucket API tokens and app passwords are sent with a username (HTTP Basic, DESIGN.md §8);
-- NULL for every other token.
ALTER TABLE git_tokens ADD COLUMN username TEXT;
