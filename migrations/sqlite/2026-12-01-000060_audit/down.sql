DROP INDEX audit_events_token;
DROP INDEX audit_events_org_action;
DROP INDEX audit_events_org_actor;
DROP INDEX audit_events_org_token;
