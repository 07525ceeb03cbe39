-- The address a request came from (the client, or what a trusted reverse proxy said it was:
-- FORGEKEYS_TRUSTED_PROXIES). Empty for the scheduler, the CLI and older records.
ALTER TABLE audit_events ADD COLUMN client_ip TEXT;
