-- A version number that every write of a token or a service bumps (triggers, so no code path
-- can forget it). The servers cache an organization's token counts and its first list pages
-- per version: a list page then costs the same at 100 and 10,000 tokens, and a write by any
-- server process is seen by all at their next request.
--
-- On PostgreSQL the version is one sequence, bumped by a statement-level trigger: no row lock,
-- so concurrent writers never wait on (or deadlock over) an organization row. (SQLite, which has
-- one writer at a time, keeps a per-organization column instead.) The column exists here too so
-- both schemas match; it stays 0.
ALTER TABLE organizations ADD COLUMN tokens_version BIGINT NOT NULL DEFAULT 0;

CREATE SEQUENCE tokens_version_seq;

CREATE FUNCTION bump_tokens_version() RETURNS trigger AS $$
BEGIN
    PERFORM nextval('tokens_version_seq');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER git_tokens_version AFTER INSERT OR UPDATE OR DELETE ON git_tokens
FOR EACH STATEMENT EXECUTE FUNCTION bump_tokens_version();

CREATE TRIGGER services_version AFTER INSERT OR UPDATE OR DELETE ON services
FOR EACH STATEMENT EXECUTE FUNCTION bump_tokens_version();
