DROP INDEX conversations_org_activity_idx;
CREATE INDEX conversations_org_activity_idx ON conversations (org_id, last_message_at DESC, id DESC);
