-- The services pages (issue 10): the count of services still on legacy access (GitHub App or
-- personal accounts) for the banner of the services list is answered by this index, not by
-- reading every service of the organization.
CREATE INDEX services_access ON services(org_id, access);
