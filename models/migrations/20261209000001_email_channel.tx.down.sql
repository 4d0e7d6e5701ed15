ALTER TABLE recipients DROP COLUMN unsubscribe_token;
ALTER TABLE messages DROP COLUMN automated;
DROP TABLE attachments;
DROP TABLE email_messages;
DROP TABLE email_threads;
