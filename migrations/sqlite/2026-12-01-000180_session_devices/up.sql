-- The account page (issue 12): each session shows the device (from its user agent) and the
-- client address it signed in from.
ALTER TABLE sessions ADD COLUMN user_agent TEXT;
ALTER TABLE sessions ADD COLUMN client_ip TEXT;
