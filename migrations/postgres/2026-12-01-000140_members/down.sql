DROP INDEX memberships_org;
ALTER TABLE users DROP COLUMN last_sign_in_at;
DROP TABLE password_resets;
DROP TABLE invites;
