DROP TABLE notification_deliveries;
DROP TABLE notification_settings;
DROP TABLE scheduler_leases;
DROP TABLE token_status_history;
