DROP INDEX IF EXISTS conversations_org_assignee_activity_idx;
DROP INDEX IF EXISTS conversations_org_status_activity_idx;
DROP TABLE IF EXISTS conversation_events;
ALTER TABLE conversations DROP COLUMN IF EXISTS unread_count;
