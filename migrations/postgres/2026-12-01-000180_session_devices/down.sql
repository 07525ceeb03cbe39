ALTER TABLE sessions DROP COLUMN client_ip;
ALTER TABLE sessions DROP COLUMN user_agent;
