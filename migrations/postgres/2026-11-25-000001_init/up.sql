CREATE TABLE organizations (
    id TEXT PRIMARY KEY NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY NOT NULL,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    failed_logins BIGINT NOT NULL DEFAULT 0,
    locked_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE memberships (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (org_id, user_id)
);
CREATE INDEX memberships_user ON memberships(user_id);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE git_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    provider TEXT NOT NULL,
    hosting TEXT NOT NULL,
    url TEXT,
    workspace TEXT,
    description TEXT,
    secret BYTEA NOT NULL,
    key_id TEXT NOT NULL,
    hint TEXT NOT NULL,
    status TEXT NOT NULL,
    last_tested_at TIMESTAMP,
    account TEXT,
    expires_at TIMESTAMP,
    expiry_source TEXT,
    last_test TEXT,
    created_by TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_by TEXT,
    updated_at TIMESTAMP NOT NULL,
    rotated_at TIMESTAMP,
    UNIQUE (org_id, name_key)
);
CREATE INDEX git_tokens_org ON git_tokens(org_id, name_key);

CREATE TABLE services (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    provider TEXT NOT NULL,
    access TEXT NOT NULL,
    token_id TEXT REFERENCES git_tokens(id),
    repository TEXT NOT NULL,
    branch TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX services_org ON services(org_id);
CREATE INDEX services_token ON services(token_id);

CREATE TABLE audit_events (
    id TEXT PRIMARY KEY NOT NULL,
    org_id TEXT,
    actor_user_id TEXT,
    actor_email TEXT,
    action TEXT NOT NULL,
    token_id TEXT,
    token_name TEXT,
    details TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX audit_events_org ON audit_events(org_id, created_at);
