-- Sign-in protection (issue 11), shared by every server process on the database.
-- Failed-attempt counters: `key` is `ip:<address or IPv6 /64>`, `email:<keyed hash of the
-- normalized e-mail>` (existing or not: no user row is needed) or `device:<hash>`. `attempts`
-- counts passwords tried in the window that began at `window_start`; once the limit is used
-- the key is locked until `locked_until`.
CREATE TABLE login_throttles (
    key TEXT PRIMARY KEY NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    window_start TIMESTAMP NOT NULL,
    locked_until TIMESTAMP
);
CREATE INDEX login_throttles_window ON login_throttles(window_start);
-- Browsers that signed in to an account before (the `fk_device` cookie holds a random id, the
-- database its SHA-256): a correct password from one passes the e-mail and IP throttles.
CREATE TABLE known_devices (
    id_hash TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NOT NULL,
    PRIMARY KEY (id_hash, user_id)
);
CREATE INDEX known_devices_last_used ON known_devices(last_used_at);
-- The one-time setup's lock: its transaction inserts (and deletes again) the single row, so
-- concurrent setups, in any process, run one after the other.
CREATE TABLE setup_lock (
    id TEXT PRIMARY KEY NOT NULL
);
