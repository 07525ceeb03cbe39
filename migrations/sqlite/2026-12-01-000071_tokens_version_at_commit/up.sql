-- Nothing to do on SQLite: its per-organization column is bumped by triggers inside the writing
-- transaction (one writer at a time), so the version and the rows become visible together.
-- The PostgreSQL migration of this name replaces a sequence with the same scheme.
SELECT 1;
