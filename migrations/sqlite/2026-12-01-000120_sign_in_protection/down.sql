DROP TABLE setup_lock;
DROP TABLE known_devices;
DROP TABLE login_throttles;
