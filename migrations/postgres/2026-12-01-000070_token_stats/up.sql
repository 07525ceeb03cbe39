-- A version number per organization that every write of one of its tokens bumps (a trigger, so
-- no code path can forget it). The servers cache the organization's token counts (total,
-- needing attention) per version: a list page then costs the same at 100 and 10,000 tokens,
-- and a write by any server process is seen by all at their next request.
ALTER TABLE organizations ADD COLUMN tokens_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION git_tokens_bump_version() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE organizations SET tokens_version = tokens_version + 1 WHERE id = OLD.org_id;
        RETURN OLD;
    END IF;
    UPDATE organizations SET tokens_version = tokens_version + 1
    WHERE id = NEW.org_id OR (TG_OP = 'UPDATE' AND id = OLD.org_id);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER git_tokens_version AFTER INSERT OR UPDATE OR DELETE ON git_tokens
FOR EACH ROW EXECUTE FUNCTION git_tokens_bump_version();
