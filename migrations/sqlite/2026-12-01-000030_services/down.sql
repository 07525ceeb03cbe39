DROP INDEX services_access;
