ALTER TABLE messages DROP COLUMN IF EXISTS compliance;
DROP TABLE IF EXISTS unrouted_messages;
DROP TABLE IF EXISTS message_parts;
DROP TABLE IF EXISTS inbound_parts;
