-- Optimistic concurrency on token rows (issue 11 item 6): every change an admin makes (edit,
-- rotation, a new value) is `UPDATE … WHERE id = ? AND version = ?` setting version + 1; the
-- edit form carries the version it was loaded at, so an edit from an older page is refused
-- instead of writing old values back. Test results and key re-sealing do not change it (they
-- change nothing the form shows).
ALTER TABLE git_tokens ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
