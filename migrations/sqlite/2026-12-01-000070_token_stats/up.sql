-- A version number per organization that every write of one of its tokens or services bumps
-- (triggers, so no code path can forget it). The servers cache the organization's token counts
-- and its first list pages per version: a list page then costs the same at 100 and 10,000
-- tokens, and a write by any server process is seen by all at their next request. (PostgreSQL
-- uses one sequence instead, see its migration.)
ALTER TABLE organizations ADD COLUMN tokens_version BIGINT NOT NULL DEFAULT 0;

CREATE TRIGGER git_tokens_version_insert AFTER INSERT ON git_tokens
BEGIN
    UPDATE organizations SET tokens_version = tokens_version + 1 WHERE id = NEW.org_id;
END;

CREATE TRIGGER git_tokens_version_update AFTER UPDATE ON git_tokens
BEGIN
    UPDATE organizations SET tokens_version = tokens_version + 1
    WHERE id = NEW.org_id OR id = OLD.org_id;
END;

CREATE TRIGGER git_tokens_version_delete AFTER DELETE ON git_tokens
BEGIN
    UPDATE organizations SET tokens_version = tokens_version + 1 WHERE id = OLD.org_id;
END;

-- Services change what the token list shows (how many services use each token): they bump the
-- same version.
CREATE TRIGGER services_version_insert AFTER INSERT ON services
BEGIN
    UPDATE organizations SET tokens_version = tokens_version + 1 WHERE id = NEW.org_id;
END;

CREATE TRIGGER services_version_update AFTER UPDATE ON services
BEGIN
    UPDATE organizations SET tokens_version = tokens_version + 1
    WHERE id = NEW.org_id OR id = OLD.org_id;
END;

CREATE TRIGGER services_version_delete AFTER DELETE ON services
BEGIN
    UPDATE organizations SET tokens_version = tokens_version + 1 WHERE id = OLD.org_id;
END;
