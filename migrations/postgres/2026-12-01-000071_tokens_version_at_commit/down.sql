DROP TRIGGER git_tokens_version_at_commit ON git_tokens;
DROP TRIGGER services_version_at_commit ON services;
DROP FUNCTION bump_tokens_version_at_commit();
DROP FUNCTION forgekeys_bump_org(TEXT);

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
