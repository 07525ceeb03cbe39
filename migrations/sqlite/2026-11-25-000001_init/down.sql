DROP TABLE audit_events;
DROP TABLE services;
DROP TABLE git_tokens;
DROP TABLE sessions;
DROP TABLE memberships;
DROP TABLE users;
DROP TABLE organizations;
