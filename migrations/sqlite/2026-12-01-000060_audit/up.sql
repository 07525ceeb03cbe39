-- The audit trail page (issue 10): its filters and their choices (who, which action, which
-- token) are answered by indexes of the organization's events, and a token page's history by
-- an index of the token's events, so neither reads the whole trail.
CREATE INDEX audit_events_org_token ON audit_events(org_id, token_id, token_name);
CREATE INDEX audit_events_org_actor ON audit_events(org_id, actor_email);
CREATE INDEX audit_events_org_action ON audit_events(org_id, action);
CREATE INDEX audit_events_token ON audit_events(token_id, created_at);
