DROP INDEX conversations_org_activity_idx;
DROP INDEX conversations_org_status_activity_idx;
ALTER TABLE conversations DROP COLUMN listed;
CREATE INDEX conversations_org_status_activity_idx ON conversations (org_id, status, last_message_at DESC, id DESC);
CREATE INDEX conversations_org_activity_idx ON conversations (org_id, last_message_at DESC, id DESC)
    INCLUDE (status, assignee_id, inbox_id, search_text);
