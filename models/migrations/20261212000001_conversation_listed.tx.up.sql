-- A broadcast's own conversations (one per recipient and channel, opened
-- closed by the fan-out: the recipient's history of what was sent) are
-- not chats: the Chats list leaves them out, or a 10,000-recipient
-- broadcast buries every real closed chat under its 10,000. They stay
-- in the recipient's history, the broadcast's dashboard and the API by
-- id. One that someone reopens becomes a chat like any other, and stays
-- listed after it is closed again (closed_at then differs from
-- created_at, which the fan-out sets in one statement).
ALTER TABLE conversations ADD COLUMN listed boolean NOT NULL
    GENERATED ALWAYS AS (status <> 'closed' OR origin <> 'broadcast' OR closed_at IS DISTINCT FROM created_at) STORED;

-- The list reads only listed conversations: the status index holds only
-- them (the fan-out's rows cost it nothing), and the activity index
-- carries the flag so its walks stay index-only.
DROP INDEX conversations_org_status_activity_idx;
CREATE INDEX conversations_org_status_activity_idx ON conversations (org_id, status, last_message_at DESC, id DESC)
    WHERE listed;
DROP INDEX conversations_org_activity_idx;
CREATE INDEX conversations_org_activity_idx ON conversations (org_id, last_message_at DESC, id DESC)
    INCLUDE (status, assignee_id, inbox_id, search_text, listed);
