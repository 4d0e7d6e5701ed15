DROP TABLE IF EXISTS outbox;
DROP TABLE IF EXISTS messages;
DROP TABLE IF EXISTS conversations;
DROP TABLE IF EXISTS recipient_consent_events;
DROP TABLE IF EXISTS recipients;
-- pg_trgm is left installed: other schemas in the database may use it.
