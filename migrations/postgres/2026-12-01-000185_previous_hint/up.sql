-- The hint of the value a rotation replaced and the kind its last test detected, so the rotation
-- page can name the old token and where that kind is revoked (issue 13 item 11). A hint is the
-- prefix and last 4 characters, never the value.
ALTER TABLE git_tokens ADD COLUMN previous_hint TEXT;
ALTER TABLE git_tokens ADD COLUMN previous_kind TEXT;
