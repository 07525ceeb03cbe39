-- The token version, made safe for caching (replaces the sequence of 000070).
--
-- A sequence is not transactional: `nextval` in a writer is visible to every reader before the
-- writer commits, so a reader could read the new version, then the rows without the write, and
-- cache the old rows under the new version until the cache's TTL. (And a fresh sequence reports
-- the same `last_value` before and after its first `nextval`, so the first token of a database
-- never changed the version at all.) Found by the browser test on PostgreSQL: the list right
-- after saving the first token showed "No tokens yet".
--
-- Now the per-organization column, as on SQLite, bumped at commit time by a deferred
-- constraint trigger. The new version and the rows become visible together, and a reader reads
-- the version before the rows, so rows are never older than the version they are cached under.
-- The organization row is locked only for the last moment of the commit — after everything
-- else the transaction locked — so writers do not deadlock over it (a transaction writing two
-- organizations locks them in the order it wrote them; none does today). Bumped once per
-- organization per transaction (a transaction-local setting remembers it), so a bulk write
-- does not rewrite the row per token.
DROP TRIGGER git_tokens_version ON git_tokens;
DROP TRIGGER services_version ON services;
DROP FUNCTION bump_tokens_version();
DROP SEQUENCE tokens_version_seq;

CREATE FUNCTION bump_tokens_version_at_commit() RETURNS trigger AS $$
DECLARE
    org TEXT;
BEGIN
    IF TG_OP = 'DELETE' THEN
        org := OLD.org_id;
    ELSE
        org := NEW.org_id;
    END IF;
    PERFORM forgekeys_bump_org(org);
    IF TG_OP = 'UPDATE' AND OLD.org_id IS DISTINCT FROM NEW.org_id THEN
        PERFORM forgekeys_bump_org(OLD.org_id);
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION forgekeys_bump_org(org TEXT) RETURNS void AS $$
DECLARE
    flag TEXT := 'forgekeys.bumped_' || md5(org);
BEGIN
    IF coalesce(current_setting(flag, true), '') = '' THEN
        UPDATE organizations SET tokens_version = tokens_version + 1 WHERE id = org;
        PERFORM set_config(flag, '1', true);
    END IF;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER git_tokens_version_at_commit
AFTER INSERT OR UPDATE OR DELETE ON git_tokens
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION bump_tokens_version_at_commit();

CREATE CONSTRAINT TRIGGER services_version_at_commit
AFTER INSERT OR UPDATE OR DELETE ON services
DEFERRABLE INITIALLY DEFERRED
FOR EACH ROW EXECUTE FUNCTION bump_tokens_version_at_commit();
