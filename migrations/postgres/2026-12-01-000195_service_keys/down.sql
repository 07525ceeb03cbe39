DROP TABLE token_fetches;
DROP TABLE service_keys;
